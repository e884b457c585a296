"""Staff and auditor pages around the final review: the live scoring board, completion and reminders, the roadshow
control desk (draw by lot, now presenting) and the projector.

None of these pages ever shows a score or a total: they show who has submitted, not what was given.
"""

import hashlib
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.html import format_html
from django.utils.http import parse_etags, quote_etag
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from venture import permissions
from venture.competitions.models import Competition, Stage
from venture.errors import flash_error
from venture.proposals.models import Proposal

from . import queries, services
from .models import (
    Assignment,
    ConflictStatus,
    Panel,
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


# --- Polls -----------------------------------------------------------------------------------------------------------
#
# The projector (every 2 s), the big screen and the live board (every 5 s) and each judge's home (every 5 s) poll all
# day. Each poll checks permission as any page does, then reads a small change token with the round, in one indexed
# query: the board's token is the panel's ``board_version`` (judging.services adds one on every write a board shows)
# with the roadshow row; the projector's and the judge's state are small enough to be their own token (the roadshow
# row and, for the projector, one count of the on-stage finalist's sheets). When the client's If-None-Match holds
# that token's ETag the answer is 304 Not Modified without building anything; only a change renders, with a fixed
# number of queries. The token is read before the content, so content is never older than the ETag it is sent with.


def _poll_etag(*parts):
    """A short ETag of a poll's change token, with the active language (phases and labels are translated)."""
    return quote_etag(hashlib.blake2b(repr((*parts, get_language())).encode(), digest_size=12).hexdigest())


def _poll_response(request, etag, build):
    """304 Not Modified when the client already holds ``etag``, else ``build()``; either may be kept by the browser
    only to be revalidated (private, no-cache)."""
    held = _held_etags(request)
    response = HttpResponseNotModified() if etag in held or "*" in held else build()
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True, max_age=0)
    return response


def _held_etags(request):
    return [tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))]


def _board_version(competition, stage):
    """The panel's change token (``Panel.board_version``) as a subquery, to ride on the query of the round."""
    return Coalesce(
        Subquery(Panel.objects.filter(competition=competition, stage=stage).values("board_version")[:1]),
        Value(-1),
    )


def _roadshow_row(competition_pk):
    """The roadshow with its round, the slot on stage, its number of slots and the final panel's change token, in
    one query that reads no proposal; None before the first draw."""
    slots = RoadshowSlot.objects.filter(roadshow=OuterRef("pk")).values("roadshow").annotate(n=Count("pk")).values("n")
    return (
        Roadshow.objects.filter(competition_id=competition_pk)
        .select_related("competition", "current")
        .annotate(
            slot_count=Coalesce(Subquery(slots), 0),
            board_version=_board_version(OuterRef("competition_id"), PanelStage.FINAL),
        )
        .first()
    )


def _round_and_roadshow(request, action, competition_pk):
    """Permission first (403), then the round and its roadshow, in one query (two before the order is drawn)."""
    permissions.require(request.user, action)
    roadshow = _roadshow_row(competition_pk)
    if roadshow is not None:
        return roadshow.competition, roadshow
    rounds = Competition.objects.annotate(board_version=_board_version(OuterRef("pk"), PanelStage.FINAL))
    return get_object_or_404(rounds, pk=competition_pk), None


# The projector and the big screen are polled most (every 2 s and 5 s, all day). Their 304 is decided on a token read
# in one small query that builds no model (``values_list`` of a join): about a quarter of the cost of fetching the
# roadshow with its round and annotations. A changed token, or none (before the draw), falls through to the full
# path, whose ETag is made of the same values (``_token_of``), so the two ways always agree.
_TOKEN_FIELDS = (
    "competition__stage",
    "competition__presentation_minutes",
    "competition__qa_minutes",
    "draws",
    "current_id",
    "phase",
    "phase_started_at",
    "paused_at",
    "extra_seconds",
    "competition__panels__board_version",
)


def _roadshow_token(competition_pk):
    """The values of ``_TOKEN_FIELDS`` for the round's roadshow and final panel, or None before the draw."""
    rows = Roadshow.objects.filter(competition_id=competition_pk, competition__panels__stage=PanelStage.FINAL)
    return next(iter(rows.values_list(*_TOKEN_FIELDS)[:1]), None)


def _token_of(competition, roadshow):
    """The same values as :func:`_roadshow_token`, from the objects the full path fetched."""
    return (
        str(competition.stage),
        competition.presentation_minutes,
        competition.qa_minutes,
        roadshow.draws,
        roadshow.current_id,
        str(roadshow.phase),
        roadshow.phase_started_at,
        roadshow.paused_at,
        roadshow.extra_seconds,
        roadshow.board_version,
    )


def _held_unchanged(request, competition_pk, etag_of):
    """Permission first (403), then 304 Not Modified if the client holds the ETag of the current token; else None."""
    permissions.require(request.user, "judging.monitor")
    if "If-None-Match" not in request.headers:
        return None
    token = _roadshow_token(competition_pk)
    if token is None:
        return None
    etag = etag_of(competition_pk, token)
    if etag not in _held_etags(request):
        return None
    return _poll_response(request, etag, build=None)


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


def _board_cell_html():
    """The live board's five kinds of cell, rendered once per request in the active language. At 500 finalists x 15
    judges a board has 7,500 cells: through the template's if-chain and a translation each, a changed board took
    about 380 ms to render; joined from these, each row is one string."""
    hidden = '<span class="visually-hidden">{}</span>'
    return {
        "submitted": format_html(
            '<td class="table-success" data-state="submitted"><span class="text-success fw-bold" '
            f'aria-hidden="true">✓</span>{hidden}</td>',
            _("submitted"),
        ),
        "scoring": format_html(
            f'<td data-state="scoring"><i class="bi bi-pencil text-primary" aria-hidden="true"></i>{hidden}</td>',
            _("still scoring"),
        ),
        "pending": format_html(
            f'<td data-state="pending"><span class="text-muted" aria-hidden="true">·</span>{hidden}</td>',
            _("not started"),
        ),
        "recused": format_html(
            '<td class="table-secondary" data-state="recused"><span class="badge text-bg-secondary">{}</span></td>',
            _("Recused"),
        ),
        None: format_html(f'<td data-state="none" class="text-muted">{hidden}</td>', _("not assigned")),
    }


def _board_context(competition, stage):
    order = _presentation_order(competition, stage)
    data = queries.board(competition, stage, order=order or None)
    if not order:
        data["rows"] = _by_title(data["rows"])
    cells = _board_cell_html()
    for row in data["rows"]:
        row["cells"] = mark_safe("".join(cells[state] for state in row["states"]))  # noqa: S308 (escaped parts)
    return {"competition": competition, "stage": PanelStage(stage), "board": data, "in_roadshow_order": bool(order)}


def _board_round(request, competition_pk, stage):
    """The live board's round (permission first) with its change token in the same query: the panel's board version
    and the number of draws of the order (a redraw reorders the rows)."""
    permissions.require(request.user, "judging.monitor")
    if stage not in PanelStage.values:
        raise Http404
    draws = Roadshow.objects.filter(competition=OuterRef("pk")).values("draws")[:1]
    return get_object_or_404(
        Competition.objects.annotate(
            roadshow_draws=Subquery(draws), board_version=_board_version(OuterRef("pk"), stage)
        ),
        pk=competition_pk,
    )


def _board_etag(request, competition, stage):
    """No query: the token came with the round; the ranking link depends on who looks."""
    return _poll_etag(
        "board",
        competition.pk,
        stage,
        competition.roadshow_draws,
        competition.board_version,
        permissions.can(request.user, "judging.manage"),
    )


@login_required
@require_GET
def live_board(request, competition_pk, stage):
    competition = _board_round(request, competition_pk, stage)
    etag = _board_etag(request, competition, stage)
    return render(request, "judging/board.html", {**_board_context(competition, stage), "poll_etag": etag})


@login_required
@require_GET
def live_board_cells(request, competition_pk, stage):
    """The table alone, polled by htmx every 5 s with the ETag it was last given (static/js/poll.js): while no sheet,
    declaration or assignment of the stage changed, the answer is 304 without a body after one query (the round with
    its token), instead of the whole table again (1.5 MB at 500 proposals x 15 judges)."""
    competition = _board_round(request, competition_pk, stage)
    etag = _board_etag(request, competition, stage)
    return _poll_response(
        request,
        etag,
        lambda: render(request, "judging/_board_cells.html", {**_board_context(competition, stage), "poll_etag": etag}),
    )


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


def _on_stage(roadshow):
    """The proposal on stage with its organization's name (one query), or None. Only the columns the projector and
    the judges' state show: the poll after a change is rendered every few seconds."""
    if roadshow is None or roadshow.current is None:
        return None
    return (
        Proposal.objects.select_related("organization")
        .only("title", "organization__name")
        .get(pk=roadshow.current.proposal_id)
    )


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
        panel__competition_id=competition.pk, panel__stage=PanelStage.FINAL, proposal_id=proposal_id
    ).aggregate(
        assigned=Count("pk"),
        recused=Count("pk", filter=Q(conflict__status=ConflictStatus.RECUSED)),
        submitted=Count("pk", filter=Q(sheet__status=SheetStatus.SUBMITTED, conflict__status=ConflictStatus.CLEAR)),
    )
    return counts["submitted"], counts["assigned"] - counts["recused"]


def _state(competition, roadshow):
    """What the projector shows: the finalist on stage, the phase, its timer inputs (start, pause, duration with the
    extra minutes) and how many sheets of the finalist on stage are in. Never a score, never a judge's name.
    Two queries beside the roadshow row (``_roadshow_row``, which brings the slot count): the proposal on stage and
    its sheet count."""
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
    state.update(phase=phase.value, phase_label=str(phase.label), count=roadshow.slot_count)
    proposal = _on_stage(roadshow)
    if proposal is not None:
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
    competition, roadshow = _round_and_roadshow(request, "judging.monitor", competition_pk)
    return render(
        request, "judging/projector.html", {"competition": competition, "state": _state(competition, roadshow)}
    )


def _projector_etag(competition, roadshow):
    """Everything the projector's state is made of, read with the round (no query): the round's stage and phase
    lengths, the roadshow row (order, finalist on stage, phase, timer) and the final panel's board version, which
    moves with every sheet, so with the on-stage finalist's sheet count."""
    if roadshow is None:
        return _poll_etag("projector", competition.pk, competition.stage)
    return _projector_etag_of(competition.pk, _token_of(competition, roadshow))


def _projector_etag_of(competition_pk, token):
    return _poll_etag("projector", competition_pk, *token)


@login_required
@require_GET
def projector_state(request, competition_pk):
    """JSON polled every 2 s by static/js/roadshow.js with the ETag it was last given: one query (the roadshow row
    with its round and change token) and 304 without a body while nothing changed; else the state, with one more
    (the sheet count). ``server_now`` lets the client cancel its clock skew (the client keeps the skew of the last
    200: it does not drift)."""
    permissions.require(request.user, "judging.monitor")
    token = _roadshow_token(competition_pk)
    if token is None:  # before the draw
        competition, roadshow = _round_and_roadshow(request, "judging.monitor", competition_pk)
        return _poll_response(
            request, _projector_etag(competition, roadshow), lambda: JsonResponse(_state(competition, roadshow))
        )
    return _poll_response(
        request,
        _projector_etag_of(competition_pk, token),
        lambda: JsonResponse(_state(*_round_of_token(competition_pk, token))),
    )


def _round_of_token(competition_pk, token):
    """What ``_state`` reads of the round and its roadshow, from the token and one query of the order (its size and
    the position of the slot on stage) instead of the full rows: the projector's state after a change is rendered
    every two seconds while judges save drafts."""
    stage, presentation_minutes, qa_minutes, _draws, current_id, phase, started_at, paused_at, extra, _version = token
    slots = RoadshowSlot.objects.filter(roadshow__competition_id=competition_pk).aggregate(
        n=Count("pk"),
        position=Max("position", filter=Q(pk=current_id)),
        proposal=Max("proposal_id", filter=Q(pk=current_id)),
    )
    competition = SimpleNamespace(
        pk=competition_pk, stage=stage, presentation_minutes=presentation_minutes, qa_minutes=qa_minutes
    )
    current = None
    if current_id is not None:
        current = SimpleNamespace(pk=current_id, position=slots["position"], proposal_id=slots["proposal"])
    roadshow = SimpleNamespace(
        phase=phase,
        phase_started_at=started_at,
        paused_at=paused_at,
        extra_seconds=extra,
        slot_count=slots["n"],
        current=current,
    )
    return competition, roadshow


# --- The hall's big screen (1920 x 1080) -----------------------------------------------------------------------------


def _hall_etag(competition, roadshow):
    """The big screen's change token, fetched with the round (no query): the final panel's board version, the order
    and who is on stage."""
    if roadshow is None:
        return _poll_etag("hall", competition.pk, None, competition.board_version)
    return _hall_etag_of(competition.pk, _token_of(competition, roadshow))


def _hall_etag_of(competition_pk, token):
    draws, current_id, phase, board_version = token[3], token[4], token[5], token[9]
    return _poll_etag("hall", competition_pk, (draws, current_id, phase), board_version)


def _hall_context(competition, roadshow):
    """The roadshow order with each finalist's sheet count: no judge's name (so no recusal), no score, no control.
    Two queries (``queries.hall_rows``) whatever the size of the round."""
    current = roadshow.current.proposal_id if roadshow is not None and roadshow.current is not None else None
    rows = [
        {
            "position": i,
            "title": r["title"],
            "organization": r["organization"],
            "submitted": r["submitted"],
            "expected": r["expected"],
            "on_stage": r["pk"] == current,
        }
        for i, r in enumerate(queries.hall_rows(competition), start=1)
    ]
    return {
        "competition": competition,
        "rows": rows,
        "submitted": sum(r["submitted"] for r in rows),
        "expected": sum(r["expected"] for r in rows),
        "phase": RoadshowPhase(roadshow.phase) if roadshow else RoadshowPhase.WAITING,
        "in_roadshow_order": roadshow is not None and roadshow.slot_count > 0,
    }


@login_required
@require_GET
def hall_board(request, competition_pk):
    competition, roadshow = _round_and_roadshow(request, "judging.monitor", competition_pk)
    etag = _hall_etag(competition, roadshow)
    return render(request, "judging/hall_board.html", {**_hall_context(competition, roadshow), "poll_etag": etag})


@login_required
@require_GET
def hall_board_cells(request, competition_pk):
    """The big screen's body alone, polled every 5 s like the live board's cells: 304 after one query (the roadshow
    token, :func:`_roadshow_token`) while nothing changed, else the body rendered with three more."""
    if held := _held_unchanged(request, competition_pk, _hall_etag_of):
        return held
    competition, roadshow = _round_and_roadshow(request, "judging.monitor", competition_pk)
    etag = _hall_etag(competition, roadshow)
    return _poll_response(
        request,
        etag,
        lambda: render(
            request, "judging/_hall_cells.html", {**_hall_context(competition, roadshow), "poll_etag": etag}
        ),
    )


# --- The judge's day view: who is on stage now -----------------------------------------------------------------------


@login_required
@require_GET
def day_state(request, competition_pk):
    """The roadshow as the judges' home follows it (polled every 5 s by static/js/judge_day.js with the ETag it was
    last given): the finalist on stage and the phase. A judge of the round's final panel, staff or the auditor;
    anyone else gets 404. One query for the round with its roadshow row, the change token (and, for a judge, one
    for the seat on the panel); the state is built only when it changed."""
    competition = permissions.get_for(
        request.user, "roadshow.follow", Competition.objects.select_related("roadshow__current"), pk=competition_pk
    )
    try:
        roadshow = competition.roadshow
    except Roadshow.DoesNotExist:
        roadshow = None
    token = (roadshow.draws, roadshow.current_id, roadshow.phase) if roadshow is not None else None
    return _poll_response(request, _poll_etag("day", competition.pk, token), lambda: JsonResponse(_day(roadshow)))


def _day(roadshow):
    """The judges' day state: the finalist on stage and the phase (one query, for the proposal on stage)."""
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
        proposal = _on_stage(roadshow)
        if proposal is not None:
            state.update(
                proposal=proposal.pk,
                position=roadshow.current.position,
                title=proposal.title,
                organization=proposal.organization.name,
            )
    return state
