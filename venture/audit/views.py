import datetime
import json

import pandas as pd
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from venture import permissions
from venture.exports import dataframe_response

from . import chain, display
from .forms import AuditFilterForm
from .models import AuditEvent
from .services import record


@login_required
def event_list(request):
    permissions.require(request.user, "audit.browse")
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor")
    if form.is_valid():
        events = form.filter(events)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    rows = [(e, display.action_label(e.action), display.changes(e)) for e in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "object_types": AuditEvent.objects.values_list("object_type", flat=True).distinct().order_by("object_type"),
            "chain": chain.verify(),
        },
    )


@login_required
def export_csv(request):
    """The audit trail (filtered as on the page) as CSV for archiving, with each record's position and hashes; the
    time is UTC to the microsecond and before/after are canonical JSON, as hashed. The export itself is audited."""

    permissions.require(request.user, "audit.export")
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.order_by("seq")
    if form.is_valid():
        events = form.filter(events).order_by("seq")

    def as_json(value):
        return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    rows = [
        {
            "seq": e.seq,
            "at_utc": e.at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
            "actor": e.actor_label,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "object_repr": e.object_repr,
            "before": as_json(e.before),
            "after": as_json(e.after),
            "note": e.note,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in events.iterator(chunk_size=2000)
    ]
    columns = [
        "seq",
        "at_utc",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "note",
        "prev_hash",
        "hash",
    ]
    record(
        actor=request.user,
        action="audit.export",
        object_type="audit.auditevent",
        after={"records": len(rows), "filter": request.GET.urlencode()},
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return dataframe_response(pd.DataFrame(rows, columns=columns), filename=f"audit-{stamp}.csv", fmt="csv")
