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
    record(actor=by, action="screening.checklist", obj=competition,
           before={"items": before}, after={"items": list(competition.checklist.values_list("text", flat=True))})


@transaction.atomic
def record_checks(*, proposal, results, by):
    """results: {ChecklistItem: (passed, note)}. Re-recording an item replaces the earlier result."""
    if proposal.status not in SCREENABLE:
        raise ValidationError(_("Only submitted proposals can be screened."))
    for item, (passed, note) in results.items():
        CheckResult.objects.update_or_create(proposal=proposal, item=item,
                                             defaults={"passed": passed, "note": note, "by": by})
    record(actor=by, action="screening.checks", obj=proposal,
           after={item.text: {"passed": passed, "note": note} for item, (passed, note) in results.items()})


@transaction.atomic
def decide(*, proposal, eligible, reason, by):
    """Eligible or ineligible; an ineligible decision needs the reason the applicant will see."""
    proposal = Proposal.objects.select_for_update(of=("self",)).select_related("competition", "organization").get(pk=proposal.pk)
    if proposal.status not in SCREENABLE:
        raise ValidationError(_("Only submitted proposals can be screened."))
    if not eligible and not reason.strip():
        raise ValidationError(_("Give the reason for the ineligible decision; the applicant will see it."))
    to = S.ELIGIBLE if eligible else S.INELIGIBLE
    if proposal.status == to:
        return proposal
    return transition(proposal=proposal, to=to, by=by, reason=reason if not eligible else "")


def bulk_decide(*, proposals, eligible, reason, by):
    """Apply one decision to many proposals; each in its own transaction. Returns (done, [(proposal, error)])."""
    done, failed = [], []
    for proposal in proposals:
        try:
            done.append(decide(proposal=proposal, eligible=eligible, reason=reason, by=by))
        except ValidationError as exc:
            failed.append((proposal, " ".join(exc.messages)))
    return done, failed


@transaction.atomic
def confirm_finalists(*, competition, finalists, by, source, ranking, note=""):
    """Make ``finalists`` the round's finalists; every other eligible proposal is not selected. Recorded."""
    finalists = list(finalists)
    if not finalists:
        raise ValidationError(_("Choose at least one finalist."))
    ids = {p.pk for p in finalists}
    pool = list(Proposal.objects.select_for_update().filter(
        competition=competition, status__in=[S.ELIGIBLE, S.FINALIST, S.NOT_SELECTED]))
    if not ids <= {p.pk for p in pool}:
        raise ValidationError(_("Only proposals that passed the preliminary review can be finalists."))
    for p in pool:
        want = S.FINALIST if p.pk in ids else S.NOT_SELECTED
        if p.status != want:
            if p.status != S.ELIGIBLE and want != S.ELIGIBLE:
                transition(proposal=p, to=S.ELIGIBLE, by=by, reason="")
            transition(proposal=p, to=want, by=by,
                       reason="" if want == S.FINALIST else _("Not among the finalists of the final review."))
    decision = FinalistDecision.objects.create(competition=competition, decided_by=by, source=source,
                                               ranking=ranking, note=note)
    decision.finalists.set(finalists)
    record(actor=by, action="screening.finalists", obj=competition,
           after={"finalists": sorted(ids), "source": source, "quota": competition.finalist_quota}, note=note)
    return decision
