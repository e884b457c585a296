from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from venture.audit.services import record
from venture.proposals.models import Proposal, ProposalStatus
from venture.proposals.services import transition

from .models import CheckResult, FinalistDecision

S = ProposalStatus
SCREENABLE = {S.SUBMITTED, S.ELIGIBLE, S.INELIGIBLE}


@transaction.atomic
def save_checklist(*, competition, items, deleted, by):
    """Save the round's eligibility checklist as edited: ``items`` the new and changed checks (unsaved
    ChecklistItems, e.g. from a model formset's ``save(commit=False)``), ``deleted`` the checks to remove. New checks
    join ``competition``; a check of another round is refused. One audit event with the list before and after."""
    items, deleted = list(items), list(deleted)
    if any(item.pk and item.competition_id != competition.pk for item in [*items, *deleted]):
        raise ValidationError(_("This check belongs to another round."))
    before = list(competition.checklist.values_list("text", flat=True))
    for item in items:
        item.competition = competition
        item.save()
    for item in deleted:
        item.delete()
    record(
        actor=by,
        action="screening.checklist",
        obj=competition,
        before={"items": before},
        after={"items": list(competition.checklist.values_list("text", flat=True))},
    )


@transaction.atomic
def record_checks(*, proposal, results, by):
    """results: {ChecklistItem: (passed, note)}. Re-recording an item replaces the earlier result. Only the items
    whose answer or note actually changes are written and audited (before and after); when nothing changes, nothing
    is recorded."""
    if proposal.status not in SCREENABLE:
        raise ValidationError(_("Only submitted proposals can be screened."))
    earlier = {r.item_id: r for r in CheckResult.objects.filter(proposal=proposal, item__in=list(results))}
    before, after = {}, {}
    for item, (passed, note) in results.items():
        old = earlier.get(item.pk)
        if old is not None and old.passed == passed and old.note == note:
            continue
        if old is not None:
            before[item.text] = {"passed": old.passed, "note": old.note}
        after[item.text] = {"passed": passed, "note": note}
        CheckResult.objects.update_or_create(
            proposal=proposal, item=item, defaults={"passed": passed, "note": note, "by": by}
        )
    if after:
        record(actor=by, action="screening.checks", obj=proposal, before=before or None, after=after)


class ReasonNeeded(ValidationError):
    """The decision needs a stated reason (see ``reasons_needed``); a bulk action skips such proposals."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__(_("A reason is needed because %(why)s.") % {"why": "; ".join(problems)})


def reasons_needed(*, proposal, eligible):
    """Why deciding ``proposal`` eligible (``True``) or ineligible needs a stated basis, as sentences; ``[]`` when
    the checklist supports the decision. Passing needs every check of the round answered ✓ (and a round without a
    checklist gives no basis at all); changing an earlier decision needs a reason either way."""
    problems = []
    previous = S(proposal.status)
    if previous in (S.ELIGIBLE, S.INELIGIBLE) and previous != (S.ELIGIBLE if eligible else S.INELIGIBLE):
        problems.append(
            _("it overturns the earlier decision “%(status)s”") % {"status": previous.label}
            + (_(" (reason: %(reason)s)") % {"reason": proposal.status_reason} if proposal.status_reason else "")
        )
    if eligible:
        items = list(proposal.competition.checklist.all())
        results = dict(CheckResult.objects.filter(proposal=proposal).values_list("item_id", "passed"))
        if not items:
            problems.append(_("the round has no checklist"))
        for item in items:
            if item.pk not in results:
                problems.append(_("check “%(check)s” is not answered") % {"check": item.text})
            elif not results[item.pk]:
                problems.append(_("check “%(check)s” failed") % {"check": item.text})
    return problems


@transaction.atomic
def decide(*, proposal, eligible, reason, by, unattended=False):
    """Eligible or ineligible. An ineligible decision needs the reason the applicant will see; passing with a failed
    or unanswered check, or changing an earlier decision, needs a reason too (it goes on the proposal's timeline
    beside the earlier decision). ``unattended`` (a bulk action) refuses those cases with ``ReasonNeeded`` whatever
    the reason, so that no one overturns a reasoned decision without looking at it."""
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("competition", "organization")
        .get(pk=proposal.pk)
    )
    if proposal.status not in SCREENABLE:
        raise ValidationError(_("Only submitted proposals can be screened."))
    to = S.ELIGIBLE if eligible else S.INELIGIBLE
    if proposal.status == to:
        return proposal
    problems = reasons_needed(proposal=proposal, eligible=eligible)
    if problems and (unattended or not reason.strip()):
        raise ReasonNeeded(problems)
    if not eligible and not reason.strip():
        raise ValidationError(_("Give the reason for the ineligible decision; the applicant will see it."))
    return transition(proposal=proposal, to=to, by=by, reason=reason.strip() if problems or not eligible else "")


def bulk_decide(*, proposals, eligible, reason, by):
    """Apply one decision to many proposals, each in its own transaction. A proposal whose decision needs its own
    reason (``reasons_needed``) is skipped. Returns (done, skipped, failed); skipped and failed are
    [(proposal, why)]."""
    done, skipped, failed = [], [], []
    for proposal in proposals:
        try:
            done.append(decide(proposal=proposal, eligible=eligible, reason=reason, by=by, unattended=True))
        except ReasonNeeded as exc:
            skipped.append((proposal, "; ".join(exc.problems)))
        except ValidationError as exc:
            failed.append((proposal, " ".join(exc.messages)))
    return done, skipped, failed


@transaction.atomic
def confirm_finalists(*, competition, finalists, by, source, ranking, note=""):
    """Make ``finalists`` the round's finalists; every other eligible proposal is not selected. Recorded."""
    finalists = list(finalists)
    if not finalists:
        raise ValidationError(_("Choose at least one finalist."))
    ids = {p.pk for p in finalists}
    pool = list(
        Proposal.objects.select_for_update().filter(
            competition=competition, status__in=[S.ELIGIBLE, S.FINALIST, S.NOT_SELECTED]
        )
    )
    if not ids <= {p.pk for p in pool}:
        raise ValidationError(_("Only proposals that passed the preliminary review can be finalists."))
    for p in pool:
        want = S.FINALIST if p.pk in ids else S.NOT_SELECTED
        if p.status != want:
            if p.status != S.ELIGIBLE and want != S.ELIGIBLE:
                transition(proposal=p, to=S.ELIGIBLE, by=by, reason="")
            transition(
                proposal=p,
                to=want,
                by=by,
                reason="" if want == S.FINALIST else _("Not among the finalists of the final review."),
            )
    decision = FinalistDecision.objects.create(
        competition=competition, decided_by=by, source=source, ranking=ranking, note=note
    )
    decision.finalists.set(finalists)
    record(
        actor=by,
        action="screening.finalists",
        obj=competition,
        after={"finalists": sorted(ids), "source": source, "quota": competition.finalist_quota},
        note=note,
    )
    return decision
