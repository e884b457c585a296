"""Staff and auditor pages around the final review: the live scoring board, completion and reminders, the roadshow
control desk (draw by lot, now presenting) and the projector.

None of these pages ever shows a score or a total: they show who has submitted, not what was given.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import conditional_page, require_GET, require_http_methods, require_POST

from venture import permissions
from venture.competitions.models import Competition, Stage
from venture.errors import flash_error

from . import queries, services
from .models import (
    Assignment,
    ConflictStatus,
    PanelStage,
    Roadshow,
    RoadshowPhase,
    RoadshowSlot,
    SheetStatus,
)

# The phases the control desk may switch a finalist to, and the competition field that times each one.
CONTROL_PHASES = (RoadshowPhase.PRESENTATION, RoadshowPhase.QA, RoadshowPhase.DONE)
PHASE_MINUTES = {RoadshowPhase.PRESENTATION: "presentation_minutes", RoadshowPhase.QA: "qa_minutes"}


def _competition(request, action, competition_pk, stage=None):
    """Permission first (403 for a page without an object), then the round; an unknown stage is a 404."""
    permissions.require(request.user, action)
    if stage is not None and stage not in PanelStage.values:
        raise Http404
    return get_object_or_404(Competition, pk=competition_pk)


# --- Live board ------------------------------------------------------------------------------------------------------


def _presentation_order(competition, stage):
    """Proposal ids in roadshow order for the final once drawn (one query), else None."""
    if stage != PanelStage.FINAL:
        return None
    return list(RoadshowSlot.objects.filter(roadshow__competition=competition).values_list("proposal_id", flat=True))


def _by_title(rows):
    def key(row):
        proposal = row["proposal"]
        return (proposal.title, proposal.pk) if proposal is not None else ("", 0)

    return sorted(rows, key=key)


def _board_context(competition, stage):
    order = _presentation_order(competition, stage)
    data = queries.board(competition, stage, order=order or None)
    if not order:
        data["rows"] = _by_title(data["rows"])
    return {"competition": competition, "stage": PanelStage(stage), "board": data, "in_roadshow_order": bool(order)}


@login_required
@require_GET
def live_board(request, competition_pk, stage):
    competition = _competition(request, "judging.monitor", competition_pk, stage)
    return render(request, "judging/board.html", _board_context(competition, stage))


@login_required
@require_GET
@conditional_page  # ConditionalGetMiddleware as a decorator: ETag from the content; 304 when it matches
def live_board_cells(request, competition_pk, stage):
    """The table alone, polled by htmx every 5 s. The response carries an ETag of its content and may be kept by the
    browser only to be revalidated (private, no-cache): while nothing changes, each poll is answered 304 without a
    body instead of the whole table again (1.5 MB at 500 proposals x 15 judges)."""
    competition = _competition(request, "judging.monitor", competition_pk, stage)
    response = render(request, "judging/_board_cells.html", _board_context(competition, stage))
    patch_cache_control(response, private=True, no_cache=True, max_age=0)
    return response


# --- Completion and reminders ----------------------------------------------------------------------------------------


@login_required
@require_GET
def progress_page(request, competition_pk, stage):
    competition = _competition(request, "judging.monitor", competition_pk, stage)
    data = queries.progress(competition, stage)
    return render(
        request,
        "judging/progress.html",
        {
            "competition": competition,
            "stage": PanelStage(stage),
            "progress": data,
            "proposals": _by_title(data["board"]["rows"]),
        },
    )


@login_required
@require_POST
def remind(request, competition_pk, stage):
    competition = _competition(request, "judging.manage", competition_pk, stage)
    count = services.remind_missing(competition=competition, stage=stage, by=request.user)
    if count:
        messages.success(
            request,
            ngettext("Reminder e-mailed to %(n)s judge.", "Reminder e-mailed to %(n)s judges.", count) % {"n": count},
        )
    else:
        messages.info(request, _("No judge owes a score sheet (or none has an e-mail address); nobody was reminded."))
    return redirect("judging:progress", competition_pk=competition.pk, stage=stage)


# --- Roadshow control desk -------------------------------------------------------------------------------------------


def _roadshow(competition):
    return Roadshow.objects.filter(competition=competition).select_related("current__proposal__organization").first()


def _control_action(request, competition, roadshow):
    """Perform one POSTed action through the services; a ValidationError becomes a message."""
    action = request.POST.get("action", "")
    if action == "draw":
        services.draw_order(competition=competition, reason=request.POST.get("reason", ""), by=request.user)
        messages.success(request, _("The presentation order has been drawn."))
        return
    if roadshow is None or not roadshow.draws:
        raise ValidationError(_("Draw the presentation order first."))
    if action == "phase":
        phase = request.POST.get("phase", "")
        if phase not in CONTROL_PHASES:
            raise ValidationError(_("Unknown roadshow phase."))
        slot_pk = request.POST.get("slot", "")
        if not slot_pk.isdigit():
            raise Http404
        slot = get_object_or_404(RoadshowSlot, pk=slot_pk, roadshow=roadshow)
        services.set_presenting(roadshow=roadshow, slot=slot, phase=phase, by=request.user)
    elif action == "timer":
        services.control_timer(roadshow=roadshow, action=request.POST.get("op", ""), by=request.user)
    elif action == "next":
        slots = roadshow.slots.all()
        if roadshow.current is not None:
            slots = slots.filter(position__gt=roadshow.current.position)
        slot = slots.order_by("position").first()
        if slot is None:
            raise ValidationError(_("That was the last finalist."))
        services.set_presenting(roadshow=roadshow, slot=slot, phase=RoadshowPhase.WAITING, by=request.user)
    else:
        raise ValidationError(_("Unknown action."))


@login_required
@require_http_methods(["GET", "POST"])
def roadshow_control(request, competition_pk):
    competition = _competition(request, "judging.manage", competition_pk)
    roadshow = _roadshow(competition)
    if request.method == "POST":
        try:
            _control_action(request, competition, roadshow)
        except ValidationError as exc:
            flash_error(request, exc)
        return redirect("judging:roadshow", competition_pk=competition.pk)
    slots = list(roadshow.slots.select_related("proposal__organization")) if roadshow else []
    return render(
        request,
        "judging/roadshow.html",
        {
            "competition": competition,
            "roadshow": roadshow,
            "slots": slots,
            "finalists": []
            if slots
            else list(queries.finalists(competition).select_related("organization").order_by("title")),
            "phases": [RoadshowPhase(p) for p in CONTROL_PHASES],
            "started": roadshow is not None
            and (roadshow.current_id is not None or roadshow.phase != RoadshowPhase.WAITING),
            "timing": roadshow is not None
            and roadshow.phase in PHASE_MINUTES
            and roadshow.phase_started_at is not None,
        },
    )


# --- Projector -------------------------------------------------------------------------------------------------------


def sheet_count(competition, proposal_id):
    """How many final-stage sheets of one proposal are in, of how many expected (recused judges are not expected):
    counts only, one query, never a score or a name."""
    counts = Assignment.objects.filter(
        panel__competition=competition, panel__stage=PanelStage.FINAL, proposal_id=proposal_id
    ).aggregate(
        assigned=Count("pk"),
        recused=Count("pk", filter=Q(conflict__status=ConflictStatus.RECUSED)),
        submitted=Count("pk", filter=Q(sheet__status=SheetStatus.SUBMITTED, conflict__status=ConflictStatus.CLEAR)),
    )
    return counts["submitted"], counts["assigned"] - counts["recused"]


def _state(competition, roadshow):
    """What the projector shows: the finalist on stage, the phase, its timer inputs (start, pause, duration with the
    extra minutes) and how many sheets of the finalist on stage are in. Never a score, never a judge's name.
    Three queries whatever the size of the round (the roadshow, the slot count, the sheet count)."""
    now = timezone.now()
    state = {
        "position": None,
        "count": 0,
        "proposal": None,
        "title": "",
        "organization": "",
        "phase": RoadshowPhase.WAITING.value,
        "phase_label": str(RoadshowPhase.WAITING.label),
        "started_at": None,
        "paused_at": None,
        "duration": None,
        "scoring_open": False,
        "submitted": None,
        "expected": None,
        "sheets_label": "",
        "server_now": now.isoformat(timespec="milliseconds"),
    }
    if roadshow is None:
        return state
    phase = RoadshowPhase(roadshow.phase)
    state.update(phase=phase.value, phase_label=str(phase.label), count=roadshow.slots.count())
    if roadshow.current is not None:
        proposal = roadshow.current.proposal
        state.update(
            position=roadshow.current.position,
            proposal=proposal.pk,
            title=proposal.title,
            organization=proposal.organization.name,
        )
        submitted, expected = sheet_count(competition, proposal.pk)
        scoring_open = competition.stage == Stage.FINAL
        label = _("%(submitted)s of %(expected)s sheets in") % {"submitted": submitted, "expected": expected}
        state.update(
            scoring_open=scoring_open,
            submitted=submitted,
            expected=expected,
            sheets_label=(_("Scoring open · %(sheets)s") if scoring_open else _("Scoring closed · %(sheets)s"))
            % {"sheets": label},
        )
    if phase in PHASE_MINUTES and roadshow.phase_started_at:
        state.update(
            started_at=roadshow.phase_started_at.isoformat(timespec="milliseconds"),
            duration=getattr(competition, PHASE_MINUTES[phase]) * 60 + roadshow.extra_seconds,
            paused_at=roadshow.paused_at.isoformat(timespec="milliseconds") if roadshow.paused_at else None,
        )
    return state


@login_required
@require_GET
def projector(request, competition_pk):
    competition = _competition(request, "judging.monitor", competition_pk)
    return render(
        request,
        "judging/projector.html",
        {
            "competition": competition,
            "state": _state(competition, _roadshow(competition)),
        },
    )


@never_cache
@login_required
@require_GET
def projector_state(request, competition_pk):
    """JSON polled every 2 s by static/js/roadshow.js; ``server_now`` lets the client cancel its clock skew."""
    competition = _competition(request, "judging.monitor", competition_pk)
    return JsonResponse(_state(competition, _roadshow(competition)))


# --- The hall's big screen (1920 x 1080) -----------------------------------------------------------------------------


def _hall_context(competition):
    """The roadshow order with each finalist's sheet count: no judge's name (so no recusal), no score, no control."""
    roadshow = _roadshow(competition)
    order = _presentation_order(competition, PanelStage.FINAL)
    data = queries.board(competition, PanelStage.FINAL, order=order or None)
    if not order:
        data["rows"] = _by_title(data["rows"])
    current = roadshow.current.proposal_id if roadshow is not None and roadshow.current is not None else None
    rows = [
        {
            "position": i,
            "proposal": r["proposal"],
            "submitted": r["submitted"],
            "expected": r["expected"],
            "on_stage": r["proposal"] is not None and r["proposal"].pk == current,
        }
        for i, r in enumerate(data["rows"], start=1)
    ]
    return {
        "competition": competition,
        "rows": rows,
        "submitted": data["submitted"],
        "expected": data["expected"],
        "phase": RoadshowPhase(roadshow.phase) if roadshow else RoadshowPhase.WAITING,
        "in_roadshow_order": bool(order),
    }


@login_required
@require_GET
def hall_board(request, competition_pk):
    competition = _competition(request, "judging.monitor", competition_pk)
    return render(request, "judging/hall_board.html", _hall_context(competition))


@login_required
@require_GET
@conditional_page
def hall_board_cells(request, competition_pk):
    """The big screen's body alone, polled every 5 s (304 while nothing changes, like the live board's cells)."""
    competition = _competition(request, "judging.monitor", competition_pk)
    response = render(request, "judging/_hall_cells.html", _hall_context(competition))
    patch_cache_control(response, private=True, no_cache=True, max_age=0)
    return response


# --- The judge's day view: who is on stage now -----------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def day_state(request, competition_pk):
    """The roadshow as the judges' home follows it (polled every 5 s): the finalist on stage and the phase. A judge
    of the round's final panel, staff or the auditor; anyone else gets 404."""
    competition = permissions.get_for(request.user, "roadshow.follow", Competition.objects.all(), pk=competition_pk)
    roadshow = _roadshow(competition)
    state = {
        "proposal": None,
        "position": None,
        "title": "",
        "organization": "",
        "phase": RoadshowPhase.WAITING.value,
        "phase_label": str(RoadshowPhase.WAITING.label),
    }
    if roadshow is not None:
        state.update(phase=roadshow.phase, phase_label=str(RoadshowPhase(roadshow.phase).label))
        if roadshow.current is not None:
            proposal = roadshow.current.proposal
            state.update(
                proposal=proposal.pk,
                position=roadshow.current.position,
                title=proposal.title,
                organization=proposal.organization.name,
            )
    return JsonResponse(state)
