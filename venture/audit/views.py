from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from venture import permissions

from .forms import AuditFilterForm
from .models import AuditEvent


@login_required
def event_list(request):
    permissions.require(request.user, "audit.browse")
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor")
    if form.is_valid():
        events = form.filter(events)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "object_types": AuditEvent.objects.values_list(
            "object_type", flat=True).distinct().order_by("object_type")},
    )
