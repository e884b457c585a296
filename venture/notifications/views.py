from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from venture.competitions.models import Competition
from venture.errors import flash_error
from venture.permissions import get_for, require

from . import services
from .forms import RoundNotificationsForm
from .models import Notification, RoundNotifications


@login_required
def inbox(request):
    require(request.user, "notification.inbox")
    page = Paginator(Notification.objects.filter(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "venture/notifications/inbox.html", {"page": page})


@login_required
def badge(request):
    """The bell's unread count, loaded by the navigation bar (htmx) after the page: pages themselves run no query
    for it, and the count refreshes every minute."""
    require(request.user, "notification.inbox")
    return render(request, "venture/notifications/_badge.html", {"unread": services.unread_count(request.user)})


@login_required
@require_POST
def read(request, pk):
    notification = get_for(request.user, "notification.read", Notification.objects.all(), pk=pk)
    services.mark_read(notification=notification, by=request.user)
    if "open" in request.POST and url_has_allowed_host_and_scheme(notification.link, allowed_hosts=None):
        return redirect(notification.link or "notifications:inbox")
    return redirect("notifications:inbox")


@login_required
@require_POST
def read_all(request):
    require(request.user, "notification.inbox")
    services.mark_all_read(user=request.user)
    return redirect("notifications:inbox")


@login_required
def round_settings(request, competition_pk):
    competition = get_for(request.user, "notification.settings", Competition.objects.all(), pk=competition_pk)
    row = RoundNotifications.objects.filter(competition=competition).first()
    initial = {"roadshow_starts_at": row.roadshow_starts_at if row else None}
    form = RoundNotificationsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_round_settings(competition=competition, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Notification settings saved."))
            return redirect("notifications:round", competition_pk=competition.pk)
    return render(
        request,
        "venture/notifications/round_settings.html",
        {"competition": competition, "form": form, "current": services.masked(row.webhook_url if row else "")},
    )


@login_required
@require_POST
def round_test(request, competition_pk):
    competition = get_for(request.user, "notification.settings", Competition.objects.all(), pk=competition_pk)
    problem = services.send_test_message(competition=competition, by=request.user)
    if problem:
        messages.error(request, _("The test message did not arrive: %(problem)s") % {"problem": problem})
    else:
        messages.success(request, _("Test message sent to the group."))
    return redirect("notifications:round", competition_pk=competition.pk)
