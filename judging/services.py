"""Writes in judging: panels, assignments, conflict declarations, score sheets, the roadshow. One transaction each,
state checked, audit event written."""

import random
import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from venture.accounts.models import Role, User
from venture.audit.services import record
from venture.competitions import policy
from venture.competitions.models import Stage
from venture.proposals.models import Proposal, ProposalStatus

from .assignment import AssignmentImpossible, plan_assignment
from .models import (
    CONFLICT_TRANSITIONS,
    Assignment,
    ConflictDeclaration,
    ConflictEntry,
    ConflictEntryKind,
    ConflictStatus,
    Judge,
    Panel,
    PanelStage,
    Roadshow,
    RoadshowPhase,
    RoadshowSlot,
    Score,
    ScoreSheet,
    SheetStatus,
)
from .queries import progress

# A panel may score only while its round is in the matching stage.
SCORING_STAGE = {PanelStage.PRESCORING: Stage.PRESCORING, PanelStage.FINAL: Stage.FINAL}


# --- Judges and panels ---------------------------------------------------------------------------------------------


@transaction.atomic
def add_judge(*, by, username, full_name, email, title, affiliation, expertise, phone="", other_affiliations=""):
    """Create a judge account (no password yet) and e-mail an invitation link to choose one."""
    user = User(username=username, full_name=full_name, email=email, role=Role.JUDGE)
    user.set_unusable_password()
    user.save()
    judge = Judge.objects.create(
        user=user,
        title=title,
        affiliation=affiliation,
        expertise=expertise,
        phone=phone,
        other_affiliations=other_affiliations,
    )
    link = settings.SITE_URL + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    transaction.on_commit(
        lambda: send_mail(
            _("Invitation to judge on the union venture platform"),
            _(
                "Dear %(name)s,\n\nyou are invited to judge proposals on the union venture platform. Your username is "
                "%(username)s. Open this link to choose your password:\n%(link)s"
            )
            % {"name": full_name, "username": username, "link": link},
            None,
            [email],
        )
    )
    record(actor=by, action="judge.invite", obj=judge, after={"username": username, "affiliation": affiliation})
    return judge


def _board_changed(panel_id):
    """What the panel's boards show has changed (judges, assignments, a declaration or a sheet): one more on its
    change token. Called last in every service that writes them, so a poll reading the new token reads the write."""
    Panel.objects.filter(pk=panel_id).update(board_version=F("board_version") + 1)


@transaction.atomic
def set_panel(*, competition, stage, judges, by):
    panel, _created = Panel.objects.get_or_create(competition=competition, stage=stage)
    before = sorted(panel.judges.values_list("pk", flat=True))
    panel.judges.set(judges)
    _board_changed(panel.pk)
    record(
        actor=by,
        action="panel.set",
        obj=competition,
        before={"stage": stage, "judges": before},
        after={"stage": stage, "judges": sorted(j.pk for j in judges)},
    )
    return panel


def _affiliated(judge, organization):
    names = {judge.affiliation.strip()} | {line.strip() for line in judge.other_affiliations.splitlines()}
    return organization.name.strip() in {n for n in names if n}


def forbidden_pairs(judges, proposals):
    """(judge, proposal) pairs that must never be assigned: declared conflicts in this round and affiliations."""
    declared = set(
        ConflictDeclaration.objects.filter(
            status=ConflictStatus.RECUSED,
            assignment__proposal__in=proposals,
        ).values_list("assignment__judge_id", "assignment__proposal_id")
    )
    return {
        (j.pk, p.pk) for j in judges for p in proposals if _affiliated(j, p.organization) or (j.pk, p.pk) in declared
    }


@transaction.atomic
def generate_prescoring(*, competition, judges, k=3, seed=None, by):
    """Assign every eligible proposal to k judges (balanced, conflicts excluded, connected) and record it."""
    judges = list(judges)
    proposals = list(
        Proposal.objects.filter(competition=competition, status=ProposalStatus.ELIGIBLE)
        .select_related("organization")
        .order_by("pk")
    )
    panel = set_panel(competition=competition, stage=PanelStage.PRESCORING, judges=judges, by=by)
    if Assignment.objects.filter(panel=panel, sheet__isnull=False).exists():
        raise ValidationError(_("Judges have started scoring; the assignment can no longer be regenerated."))
    seed = seed if seed is not None else secrets.randbelow(10**9)
    try:
        plan = plan_assignment(
            [p.pk for p in proposals],
            [j.pk for j in judges],
            k=k,
            forbidden=forbidden_pairs(judges, proposals),
            seed=seed,
        )
    except AssignmentImpossible as exc:
        raise ValidationError(assignment_message(exc)) from exc
    panel.assignments.all().delete()
    Assignment.objects.bulk_create(
        [Assignment(panel=panel, judge_id=j, proposal_id=p) for p, js in plan.items() for j in js]
    )
    ConflictDeclaration.objects.bulk_create([ConflictDeclaration(assignment=a) for a in panel.assignments.all()])
    _board_changed(panel.pk)
    record(
        actor=by,
        action="panel.assign",
        obj=competition,
        after={"stage": "prescoring", "k": k, "seed": seed, "proposals": len(proposals), "judges": len(judges)},
    )
    return panel


@transaction.atomic
def cancel_open_prescoring(*, competition, by, reason):
    """Cancel the pre-scoring tasks still open when the finalists are decided: assignments without a submitted
    sheet whose judge has not recused (a draft sheet goes with its assignment; the conflict register keeps its
    entries, as when the pre-scoring is regenerated). They vanish from the judges' home pages. Audited, listing
    them; returns [(judge's name, proposal title)]."""
    open_tasks = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(panel__competition=competition, panel__stage=PanelStage.PRESCORING)
        .exclude(sheet__status=SheetStatus.SUBMITTED)
        .exclude(conflict__status=ConflictStatus.RECUSED)
        .select_related("judge__user", "proposal")
        .order_by("proposal_id", "judge_id")
    )
    if not open_tasks:
        return []
    cancelled = [(a.judge.user.display_name, a.proposal.title) for a in open_tasks]
    record(
        actor=by,
        action="panel.cancel_open",
        obj=competition,
        note=reason,
        before={"stage": PanelStage.PRESCORING.value, "open": [[a.judge_id, a.proposal_id] for a in open_tasks]},
    )
    Assignment.objects.filter(pk__in=[a.pk for a in open_tasks]).delete()
    _board_changed(open_tasks[0].panel_id)
    return cancelled


def assignment_message(exc):
    """The planner's reason in the user's language (only the message for this code is formatted)."""
    p = exc.params
    messages = {
        "k": lambda: _("Each proposal needs at least one judge."),
        "no_proposals": lambda: _("No proposal has passed the preliminary review yet."),
        "few_judges": lambda: _("%(judges)s judges cannot give every proposal %(k)s judges; add judges.") % p,
        "conflicts": lambda: (
            _(
                "%(n)s proposal(s) have fewer than %(k)s judges without a conflict of interest; add "
                "judges or lower the number of judges per proposal."
            )
            % p
        ),
        "sparse": lambda: (
            _(
                "%(proposals)s proposals with %(k)s judges each make %(sheets)s score sheets, too few to "
                "link %(judges)s judges into one comparable design (at least %(needed)s needed); use fewer "
                "judges or more judges per proposal."
            )
            % p
        ),
        "balance": lambda: (
            _(
                "Loads cannot be balanced within one (they range from %(low)s to %(high)s): conflicts "
                "leave some judges too few proposals they may score."
            )
            % p
        ),
        "disconnected": lambda: _(
            "Conflicts split the judges and proposals into groups that share no judge, so "
            "their scores cannot be put on one scale; add a judge who may score in both "
            "groups."
        ),
    }
    return messages[exc.code]() if exc.code in messages else str(exc)


@transaction.atomic
def assign_final_panel(*, competition, by):
    """Every judge of the final panel scores every finalist (a recused judge is excluded by their declaration)."""
    panel = Panel.objects.get(competition=competition, stage=PanelStage.FINAL)
    finalists = list(Proposal.objects.filter(competition=competition, status=ProposalStatus.FINALIST))
    existing = set(panel.assignments.values_list("judge_id", "proposal_id"))
    new = [
        Assignment(panel=panel, judge=j, proposal=p)
        for j in panel.judges.all()
        for p in finalists
        if (j.pk, p.pk) not in existing
    ]
    Assignment.objects.bulk_create(new)
    ConflictDeclaration.objects.bulk_create(
        [ConflictDeclaration(assignment=a) for a in panel.assignments.filter(conflict__isnull=True)]
    )
    _board_changed(panel.pk)
    record(actor=by, action="panel.assign", obj=competition, after={"stage": "final", "new": len(new)})
    return panel


# --- Conflicts of interest -----------------------------------------------------------------------------------------


def recused_elsewhere(*, judge, proposal, exclude=None):
    """Whether the judge stands recused from the proposal at some stage: a conflict with a proposal holds at every
    stage, so the judge cannot declare "no conflict" for it at another one either."""
    found = ConflictDeclaration.objects.filter(
        assignment__judge=judge, assignment__proposal=proposal, status=ConflictStatus.RECUSED
    )
    if exclude is not None:
        found = found.exclude(pk=exclude.pk)
    return found.exists()


def _append(declaration, *, kind, to, reason, by):
    """The one place a declaration's status changes: a new entry in the conflict register (never edited), then the
    declaration's current status, which is always the latest entry's."""
    to = ConflictStatus(to)
    if to not in CONFLICT_TRANSITIONS[ConflictStatus(declaration.status)]:
        raise ValidationError(_("This declaration has already been made."))
    assignment = declaration.assignment
    entry = ConflictEntry.objects.create(
        declaration=declaration,
        panel_id=assignment.panel_id,
        judge_id=assignment.judge_id,
        proposal_id=assignment.proposal_id,
        kind=kind,
        status=to,
        reason=reason,
        by=by,
    )
    ConflictDeclaration.objects.filter(pk=declaration.pk).update(status=to)
    declaration.status = to
    _board_changed(assignment.panel_id)
    return entry


RECUSAL_IS_FINAL = gettext_lazy(
    "You declared a conflict of interest with this proposal, so you stay recused from it. "
    "Only union staff can reverse a recusal, with a written reason."
)


@transaction.atomic
def declare(*, assignment, has_conflict, reason, by):
    """The judge's own declaration. "No conflict" once, or a conflict with its reason at any time before the sheet is
    submitted; a recusal is never undone by the judge (staff reverse it with ``override_conflict``)."""
    if by is None or assignment.judge.user_id != by.pk:
        raise ValidationError(_("Only the judge assigned can declare a conflict of interest."))
    declaration, _created = ConflictDeclaration.objects.select_for_update().get_or_create(assignment=assignment)
    declaration.assignment = assignment
    to = ConflictStatus.RECUSED if has_conflict else ConflictStatus.CLEAR
    if has_conflict and not reason.strip():
        raise ValidationError(_("Describe the conflict of interest."))
    if to == ConflictStatus.CLEAR and (
        declaration.status == ConflictStatus.RECUSED
        or recused_elsewhere(judge=assignment.judge, proposal=assignment.proposal, exclude=declaration)
    ):
        raise ValidationError(RECUSAL_IS_FINAL)
    if declaration.status == to:
        return declaration
    if to == ConflictStatus.RECUSED and hasattr(assignment, "sheet"):
        # A judge who recuses after starting loses the draft: a recused judge has no score.
        if assignment.sheet.status == SheetStatus.SUBMITTED:
            raise ValidationError(_("You have already submitted this score sheet; ask the staff to unlock it first."))
        assignment.sheet.delete()
    before = declaration.status
    kind = ConflictEntryKind.DECLARED_CONFLICT if has_conflict else ConflictEntryKind.DECLARED_CLEAR
    _append(declaration, kind=kind, to=to, reason=reason, by=by)
    record(
        actor=by,
        action=f"conflict.{to}",
        obj=assignment.proposal,
        before={"status": before},
        after={"status": to, "judge": assignment.judge_id, "stage": assignment.panel.stage},
        note=reason,
    )
    return declaration


@transaction.atomic
def override_conflict(*, assignment, reason, by):
    """Staff reverse a recusal and let the judge score after all, with a written reason (a new register entry,
    audited)."""
    declaration = ConflictDeclaration.objects.select_for_update().get(assignment=assignment)
    declaration.assignment = assignment
    if declaration.status != ConflictStatus.RECUSED:
        raise ValidationError(_("Only a declared conflict can be overridden."))
    if not reason.strip():
        raise ValidationError(_("Give the reason for the override."))
    _append(declaration, kind=ConflictEntryKind.OVERRIDE, to=ConflictStatus.CLEAR, reason=reason, by=by)
    record(
        actor=by,
        action="conflict.override",
        obj=assignment.proposal,
        before={"status": "recused"},
        after={"status": "clear", "judge": assignment.judge_id},
        note=reason,
    )
    return declaration


# --- Score sheets ----------------------------------------------------------------------------------------------------


class StaleSheet(Exception):
    """The sheet was saved elsewhere (another tab or device) after this form was loaded."""


def _check_points(criteria, points, step):
    errors = {}
    for criterion in criteria:
        value = points.get(criterion.pk)
        if value is None:
            continue
        if value < 0 or value > criterion.max_points:
            errors[criterion.pk] = _("Between 0 and %(max)s.") % {"max": f"{criterion.max_points.normalize():f}"}
        elif (value / step) != (value / step).to_integral_value():
            errors[criterion.pk] = _("Use steps of %(step)s.") % {"step": f"{step.normalize():f}"}
    return errors


def weighted_total(criteria, points):
    total = sum((Decimal(c.weight) * points[c.pk] / Decimal(c.max_points) for c in criteria), Decimal("0"))
    return total.quantize(Decimal("0.01"))


class SheetErrors(ValidationError):
    def __init__(self, field_errors, message=""):
        super().__init__(message or _("Please correct the marked scores."))
        self.field_errors = field_errors


@transaction.atomic
def save_sheet(*, assignment, by, points, comment, expected_version, submit=False):
    """Save a draft (partial points allowed) or submit (all points, comment rule) — version-checked, locked after."""
    competition = assignment.panel.competition
    policy.ensure(competition, policy.Part.SHEETS, panel_stage=SCORING_STAGE[PanelStage(assignment.panel.stage)])
    declaration = getattr(assignment, "conflict", None)
    if declaration is None or declaration.status != ConflictStatus.CLEAR:
        raise ValidationError(_("Declare your conflict of interest first."))
    criteria = list(competition.criteria.all())
    errors = _check_points(criteria, points, competition.score_step)
    if submit:
        for c in criteria:
            if points.get(c.pk) is None:
                errors.setdefault(c.pk, _("Required to submit."))
    if errors:
        raise SheetErrors(errors)
    total = weighted_total(criteria, points) if all(points.get(c.pk) is not None for c in criteria) else None
    if (
        submit
        and total is not None
        and (total < competition.comment_below or total > competition.comment_above)
        and not comment.strip()
    ):
        raise SheetErrors(
            {
                "comment": _("A total below %(low)s or above %(high)s needs a comment explaining it.")
                % {
                    "low": f"{competition.comment_below.normalize():f}",
                    "high": f"{competition.comment_above.normalize():f}",
                }
            }
        )
    try:
        with transaction.atomic():
            sheet, created = ScoreSheet.objects.select_for_update().get_or_create(assignment=assignment)
    except IntegrityError:  # another request created it at the same moment: it wins, this one is stale
        raise StaleSheet() from None
    if sheet.status == SheetStatus.SUBMITTED:
        raise ValidationError(_("This score sheet has been submitted and is locked."))
    if not created and sheet.version != expected_version:
        raise StaleSheet()
    if created and expected_version != 0:
        raise StaleSheet()
    Score.objects.filter(sheet=sheet).delete()
    Score.objects.bulk_create(
        [Score(sheet=sheet, criterion=c, points=points[c.pk]) for c in criteria if points.get(c.pk) is not None]
    )
    now = timezone.now()
    changes = {
        "comment": comment,
        "total": total,
        "status": SheetStatus.SUBMITTED if submit else SheetStatus.DRAFT,
        "submitted_at": now if submit else None,
        "updated_at": now,
    }
    ScoreSheet.objects.filter(pk=sheet.pk).update(version=F("version") + (0 if created else 1), **changes)
    _board_changed(assignment.panel_id)
    # The row is locked by this transaction (select_for_update above; SQLite's IMMEDIATE transaction): what was
    # written is what is there, so the instance is brought up to date without reading it back.
    for name, value in changes.items():
        setattr(sheet, name, value)
    sheet.version += 0 if created else 1
    record(
        actor=by,
        action="sheet.submit" if submit else "sheet.save",
        obj=assignment.proposal,
        after={
            "judge": assignment.judge_id,
            "stage": assignment.panel.stage,
            "points": {c.code: points.get(c.pk) for c in criteria},
            "total": total,
        },
    )
    return sheet


@transaction.atomic
def unlock_sheet(*, sheet, reason, by):
    """Reopen a submitted sheet while its stage is being scored. A sheet sealed by the freeze (the round has left
    the final review) is reopened only by the results' audited unlock, which invalidates the frozen results and
    brings the round back to the final review first."""
    sheet = (
        ScoreSheet.objects.select_for_update(of=("self",))
        .select_related("assignment__proposal", "assignment__panel__competition")
        .get(pk=sheet.pk)
    )
    panel = sheet.assignment.panel
    if panel.competition.stage != SCORING_STAGE[PanelStage(panel.stage)]:
        raise ValidationError(
            _(
                "Scoring for this stage is closed: the sheet can no longer be unlocked here. A sheet "
                "of frozen results is unlocked from the results page, which invalidates them."
            )
        )
    if sheet.status != SheetStatus.SUBMITTED:
        raise ValidationError(_("Only a submitted sheet can be unlocked."))
    if not reason.strip():
        raise ValidationError(_("Give the reason for unlocking."))
    ScoreSheet.objects.filter(pk=sheet.pk).update(status=SheetStatus.DRAFT, submitted_at=None, version=F("version") + 1)
    _board_changed(panel.pk)
    record(
        actor=by,
        action="sheet.unlock",
        obj=sheet.assignment.proposal,
        before={"status": "submitted"},
        after={"status": "draft", "judge": sheet.assignment.judge_id},
        note=reason,
    )
    sheet.refresh_from_db()
    return sheet


# --- Roadshow --------------------------------------------------------------------------------------------------------


@transaction.atomic
def draw_order(*, competition, by, seed=None, reason=""):
    """Draw the presentation order by lot with a recorded seed; a redraw needs a reason and is audited."""

    if competition.stage != Stage.FINAL:
        raise ValidationError(_("The presentation order is drawn during the final review."))
    roadshow, _created = Roadshow.objects.select_for_update().get_or_create(competition=competition)
    if roadshow.draws and not reason.strip():
        raise ValidationError(_("The order has been drawn already; give the reason for a redraw."))
    if roadshow.phase not in (RoadshowPhase.WAITING,) or roadshow.current_id:
        raise ValidationError(_("The roadshow has started; the order can no longer be redrawn."))
    finalists = list(Proposal.objects.filter(competition=competition, status=ProposalStatus.FINALIST).order_by("pk"))
    if not finalists:
        raise ValidationError(_("There are no finalists to draw."))
    seed = seed or secrets.token_hex(8)
    order = list(finalists)
    random.Random(seed).shuffle(order)
    before = list(roadshow.slots.values_list("proposal_id", flat=True))
    roadshow.slots.all().delete()
    RoadshowSlot.objects.bulk_create(
        [RoadshowSlot(roadshow=roadshow, proposal=p, position=i) for i, p in enumerate(order, start=1)]
    )
    roadshow.seed, roadshow.drawn_at, roadshow.draws = seed, timezone.now(), roadshow.draws + 1
    roadshow.save()
    record(
        actor=by,
        action="roadshow.redraw" if before else "roadshow.draw",
        obj=competition,
        before={"order": before} if before else None,
        after={"seed": seed, "order": [p.pk for p in order]},
        note=reason,
    )
    return roadshow


@transaction.atomic
def set_presenting(*, roadshow, slot, phase, by):
    roadshow = Roadshow.objects.select_for_update().get(pk=roadshow.pk)
    if phase not in RoadshowPhase.values:
        raise ValidationError(_("Unknown roadshow phase."))
    if slot is not None and slot.roadshow_id != roadshow.pk:
        raise ValidationError(_("That finalist is not in this roadshow."))
    roadshow.current = slot
    roadshow.phase = phase
    roadshow.phase_started_at = timezone.now()
    roadshow.paused_at, roadshow.extra_seconds = None, 0
    roadshow.save()
    record(
        actor=by,
        action="roadshow.phase",
        obj=roadshow.competition,
        after={"slot": slot.position if slot else None, "phase": phase},
    )
    return roadshow


TIMER_ACTIONS = ("pause", "resume", "extend", "reset")
EXTEND_SECONDS = 60


@transaction.atomic
def control_timer(*, roadshow, action, by):
    """Pause, resume, add a minute to or reset the running phase's timer (presentation or Q&A), audited as
    ``roadshow.<action>``. A pause keeps the time already spent; resuming moves the phase start forward by the
    pause, so the time left is what it was when paused. Reset starts the phase again from zero, without the extra
    minutes."""
    roadshow = Roadshow.objects.select_for_update().select_related("competition").get(pk=roadshow.pk)
    if action not in TIMER_ACTIONS:
        raise ValidationError(_("Unknown timer action."))
    if roadshow.phase not in (RoadshowPhase.PRESENTATION, RoadshowPhase.QA) or roadshow.phase_started_at is None:
        raise ValidationError(_("No timer is running: start a presentation or a Q&A first."))
    now = timezone.now()
    before = {"paused": roadshow.paused_at is not None, "extra_seconds": roadshow.extra_seconds}
    if action == "pause":
        if roadshow.paused_at is not None:
            raise ValidationError(_("The timer is already paused."))
        roadshow.paused_at = now
    elif action == "resume":
        if roadshow.paused_at is None:
            raise ValidationError(_("The timer is not paused."))
        roadshow.phase_started_at += now - roadshow.paused_at
        roadshow.paused_at = None
    elif action == "extend":
        roadshow.extra_seconds += EXTEND_SECONDS
    else:  # reset
        roadshow.phase_started_at, roadshow.paused_at, roadshow.extra_seconds = now, None, 0
    roadshow.save(update_fields=["phase_started_at", "paused_at", "extra_seconds"])
    record(
        actor=by,
        action=f"roadshow.{action}",
        obj=roadshow.competition,
        before=before,
        after={
            "phase": roadshow.phase,
            "slot": roadshow.current.position if roadshow.current_id else None,
            "paused": roadshow.paused_at is not None,
            "extra_seconds": roadshow.extra_seconds,
        },
    )
    return roadshow


def remind_missing(*, competition, stage, by):
    """E-mail every judge who still owes score sheets at this stage; returns the number of judges reminded."""

    data = progress(competition, stage)
    count = 0
    for row in data["judges"]:
        if row["missing"] and row["judge"].user.email:
            send_mail(
                _("Reminder: %(n)s score sheet(s) still to submit") % {"n": row["missing"]},
                _(
                    "Dear %(name)s,\n\n%(n)s score sheet(s) for “%(round)s” are still open. Please declare any conflict "
                    "and submit your scores:\n%(link)s"
                )
                % {
                    "name": row["judge"].user.display_name,
                    "n": row["missing"],
                    "round": competition.title,
                    "link": settings.SITE_URL + reverse("home"),
                },
                None,
                [row["judge"].user.email],
            )
            count += 1
    record(actor=by, action="judging.remind", obj=competition, after={"stage": stage, "judges": count})
    return count
