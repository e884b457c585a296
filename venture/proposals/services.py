"""Every write to a proposal goes through these functions: one transaction, the state check, the audit event."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from venture.audit.services import record, snapshot
from venture.competitions.models import BudgetCategory
from venture.money import format_money
from venture.organizations.models import OrgStatus

from .models import (
    EDITABLE_BY_APPLICANT,
    PROPOSAL_TRANSITIONS,
    Attachment,
    BudgetLine,
    Indicator,
    Milestone,
    Proposal,
    ProposalStatus,
    StatusChange,
    UnplacedBudgetLine,
)

S = ProposalStatus
# The proposal's own fields an applicant edits (the form's fields: ProposalForm.Meta.fields is this list).
DRAFT_FIELDS = [
    "title",
    "category",
    "target_group",
    "people_to_serve",
    "service_area",
    "needs",
    "objectives",
    "activities",
    "team",
    "period_start",
    "period_end",
    "requested_amount",
    "cofunding_amount",
]
# A proposal is submitted with every field of its draft filled in, except the co-funding (only some calls ask for it).
REQUIRED_FIELDS = [name for name in DRAFT_FIELDS if name != "cofunding_amount"]


class ConcurrentEdit(Exception):
    """Someone else saved the proposal after this user loaded it."""

    def __init__(self, proposal):
        self.proposal = proposal
        who = proposal.updated_by.display_name if proposal.updated_by else _("someone")
        when = date_format(timezone.localtime(proposal.updated_at), "Y-m-d H:i:s")
        super().__init__(
            _(
                "%(who)s changed this proposal at %(when)s, after you opened it. Your changes were NOT saved; they are "
                "still in the form below. Reload to see the other version, then apply your changes again."
            )
            % {"who": who, "when": when}
        )


@dataclass
class Problem:
    """One reason a proposal cannot be submitted; ``field`` or ``line`` says where to show it."""

    message: str
    field: str | None = None
    line: int | None = None  # index of the budget line in display order


def drafts_locked_out(competition):
    """(drafts, organizations) a round's closing locks out: the applications still being written (drafts, and those
    returned for changes). The round's stage guardrail asks it (registered in apps.py)."""
    rows = Proposal.objects.filter(competition=competition, status__in=EDITABLE_BY_APPLICANT)
    return rows.count(), rows.values("organization").distinct().count()


def transition(*, proposal, to, by, reason=""):
    """The one function that changes a proposal's status: checks the table, records the timeline and audit (from
    which venture.notifications mails the members and fills their inboxes)."""
    current = ProposalStatus(proposal.status)
    if to not in PROPOSAL_TRANSITIONS[current]:
        raise ValidationError(
            _("A proposal cannot go from “%(from)s” to “%(to)s”.") % {"from": current.label, "to": S(to).label}
        )
    proposal.status = to
    proposal.status_reason = reason
    if to == S.SUBMITTED:
        proposal.submitted_at = timezone.now()
    Proposal.objects.filter(pk=proposal.pk).update(
        status=to,
        status_reason=reason,
        submitted_at=proposal.submitted_at,
        version=F("version") + 1,
        updated_at=timezone.now(),
        updated_by=by,
    )
    proposal.version += 1
    StatusChange.objects.create(proposal=proposal, status=to, by=by, reason=reason)
    record(
        actor=by,
        action=f"proposal.{to}",
        obj=proposal,
        before={"status": current.value},
        after={"status": to},
        note=reason,
    )
    return proposal


def organization_parts(organization):
    """The parts of a new proposal that describe the organization, filled from its profile so that nobody types them
    again: the service area, and the team field started with the staff, the contact and the earlier projects."""
    team = _("%(organization)s: %(staff)s staff; contact person %(contact)s (%(mobile)s).") % {
        "organization": organization.name,
        "staff": organization.staff_count,
        "contact": organization.contact_person,
        "mobile": organization.mobile,
    }
    if organization.past_projects.strip():
        team += "\n" + _("Earlier projects: %(projects)s") % {"projects": organization.past_projects.strip()}
    return {"service_area": organization.service_area, "team": team}


@transaction.atomic
def create_proposal(*, competition, organization, title, by):
    """A new draft, its organization parts filled from the organization's profile (``organization_parts``)."""
    if not competition.is_accepting():
        raise ValidationError(_("This call is not accepting applications."))
    proposal = Proposal.objects.create(
        competition=competition,
        organization=organization,
        title=title,
        updated_by=by,
        status=S.DRAFT,
        **organization_parts(organization),
    )
    StatusChange.objects.create(proposal=proposal, status=S.DRAFT, by=by)
    record(actor=by, action="proposal.create", obj=proposal, after={"title": title, "organization": organization.pk})
    return proposal


# What "start from my proposal of …" copies of the earlier proposal's own fields; the category is matched by name, the
# project period moved on by the years between the rounds.
REUSED_FIELDS = [
    "target_group",
    "people_to_serve",
    "service_area",
    "needs",
    "objectives",
    "activities",
    "team",
    "requested_amount",
    "cofunding_amount",
]


def _years_on(day, years):
    """The same day ``years`` later (29 February becomes 28 February)."""
    if day is None or not years:
        return day
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _name_key(name):
    return "".join(name.split()).casefold()


@transaction.atomic
def reuse_proposal(*, source, competition, by, title):
    """ "Start from my proposal of …": a new draft in ``competition`` for the source's organization with a copy of the
    source's text, milestones and indicators (dates moved on by the years between the rounds) and its budget lines,
    each placed in this round's budget category of the same name (spaces and case aside). A line whose category this
    round does not have is kept as an ``UnplacedBudgetLine`` for the applicant to place. Attachments, the status and
    its history, screening and scores stay with the source, which is not changed. Returns the new proposal."""
    if not competition.is_accepting():
        raise ValidationError(_("This call is not accepting applications."))
    if source.competition_id == competition.pk:
        raise ValidationError(_("Start from a proposal of an earlier round."))
    years = competition.year - source.competition.year
    categories = {_name_key(c.name): c for c in competition.categories.all()}
    source_category = source.category.name if source.category_id else ""
    proposal = Proposal.objects.create(
        competition=competition,
        organization=source.organization,
        title=title,
        category=categories.get(_name_key(source_category)),
        period_start=_years_on(source.period_start, years),
        period_end=_years_on(source.period_end, years),
        updated_by=by,
        status=S.DRAFT,
        **{field: getattr(source, field) for field in REUSED_FIELDS},
    )
    StatusChange.objects.create(proposal=proposal, status=S.DRAFT, by=by)
    Milestone.objects.bulk_create(
        [
            Milestone(proposal=proposal, date=_years_on(m.date, years), title=m.title, description=m.description)
            for m in source.milestones.all()
        ]
    )
    Indicator.objects.bulk_create(
        [Indicator(proposal=proposal, name=i.name, target=i.target, unit=i.unit) for i in source.indicators.all()]
    )
    budget_categories = {_name_key(b.name): b for b in competition.budget_categories.all()}
    placed, unplaced = [], []
    for line in source.budget_lines.select_related("category").order_by("category__order", "id"):
        values = {f: getattr(line, f) for f in ("item", "unit", "unit_price", "quantity", "amount", "note")}
        category = budget_categories.get(_name_key(line.category.name))
        if category is not None:
            placed.append(BudgetLine(proposal=proposal, category=category, **values))
        else:
            unplaced.append(UnplacedBudgetLine(proposal=proposal, old_category=line.category.name, **values))
    BudgetLine.objects.bulk_create(placed)
    UnplacedBudgetLine.objects.bulk_create(unplaced)
    record(
        actor=by,
        action="proposal.create",
        obj=proposal,
        after={
            "title": title,
            "organization": proposal.organization_id,
            "copied_from": source.pk,
            "budget_lines": len(placed),
            "unplaced_lines": [f"{u.old_category} · {u.item}" for u in unplaced],
        },
    )
    return proposal


@transaction.atomic
def place_budget_lines(*, proposal, by, placements, expected_version):
    """The applicant places the lines copied from an earlier proposal that had no category here: ``placements`` maps
    each ``UnplacedBudgetLine`` to one of this round's budget categories, or to None to leave it out. Placed lines
    join the budget. The version check is the draft's (``ConcurrentEdit``)."""
    if not proposal.editable_by_applicant:
        raise ValidationError(_("This proposal has been submitted and can no longer be edited."))
    if any(u.proposal_id != proposal.pk for u in placements):
        raise ValidationError(_("This line belongs to another proposal."))
    if any(c is not None and c.competition_id != proposal.competition_id for c in placements.values()):
        raise ValidationError(_("Choose one of this round's budget categories."))
    updated = Proposal.objects.filter(pk=proposal.pk, version=expected_version).update(
        version=F("version") + 1, updated_by=by, updated_at=timezone.now()
    )
    if not updated:
        raise ConcurrentEdit(Proposal.objects.select_related("updated_by").get(pk=proposal.pk))
    proposal.refresh_from_db()
    fields = ("item", "unit", "unit_price", "quantity", "amount", "note")
    BudgetLine.objects.bulk_create(
        [
            BudgetLine(proposal=proposal, category=category, **{f: getattr(u, f) for f in fields})
            for u, category in placements.items()
            if category is not None
        ]
    )
    UnplacedBudgetLine.objects.filter(pk__in=[u.pk for u in placements]).delete()
    record(
        actor=by,
        action="proposal.place_lines",
        obj=proposal,
        after={
            "placed": {u.item: c.name for u, c in placements.items() if c is not None},
            "left_out": [u.item for u, c in placements.items() if c is None],
        },
    )
    return proposal


@transaction.atomic
def save_draft(*, proposal, by, data, budget_lines, milestones, indicators, expected_version):
    """Save the draft and its rows, refusing (ConcurrentEdit) when the stored version moved on since the form loaded.

    The version check is one conditional UPDATE, so two members saving at once cannot both win.
    """
    if not proposal.editable_by_applicant:
        raise ValidationError(_("This proposal has been submitted and can no longer be edited."))
    before = snapshot(proposal, DRAFT_FIELDS)
    updated = Proposal.objects.filter(pk=proposal.pk, version=expected_version).update(
        version=F("version") + 1,
        updated_by=by,
        updated_at=timezone.now(),
        **{f: data.get(f) for f in DRAFT_FIELDS if f in data},
    )
    if not updated:
        raise ConcurrentEdit(Proposal.objects.select_related("updated_by").get(pk=proposal.pk))
    proposal.refresh_from_db()
    BudgetLine.objects.filter(proposal=proposal).delete()
    BudgetLine.objects.bulk_create(
        [
            BudgetLine(
                proposal=proposal,
                category=row["category"],
                item=row["item"],
                unit=row["unit"],
                unit_price=row["unit_price"],
                quantity=row["quantity"],
                amount=row["amount"],
                note=row.get("note", ""),
            )
            for row in budget_lines
        ]
    )
    Milestone.objects.filter(proposal=proposal).delete()
    Milestone.objects.bulk_create([Milestone(proposal=proposal, date=r["date"], title=r["title"]) for r in milestones])
    Indicator.objects.filter(proposal=proposal).delete()
    Indicator.objects.bulk_create(
        [Indicator(proposal=proposal, name=r["name"], target=r["target"], unit=r["unit"]) for r in indicators]
    )
    record(
        actor=by,
        action="proposal.save_draft",
        obj=proposal,
        before=before,
        after={**snapshot(proposal, DRAFT_FIELDS), "budget_lines": len(budget_lines)},
    )
    return proposal


def months_between(start, end):
    """Whole and part months from start to end inclusive, e.g. 2026-07-01..2027-06-30 → 12."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day >= start.day - 1:
        months += 1
    return months


def submission_problems(proposal, at=None):
    """Everything that stops ``proposal`` from being submitted at ``at`` (server time), in display order."""
    at = at or timezone.now()
    c = proposal.competition
    problems = []
    if not c.is_accepting(at):
        problems.append(
            Problem(
                _(
                    "The deadline (%(deadline)s, Beijing time) has passed; the proposal can no longer be submitted. "
                    "Your draft is kept."
                )
                % {"deadline": date_format(timezone.localtime(c.closes_at), "Y-m-d H:i:s")}
                if at >= c.closes_at
                else _("This call is not accepting applications.")
            )
        )
    if proposal.organization.status != OrgStatus.VERIFIED:
        problems.append(Problem(_("Your organization must be verified by union staff before you can submit.")))
    labels = {f.name: f.verbose_name for f in Proposal._meta.fields}
    for name in REQUIRED_FIELDS:
        value = getattr(proposal, name)
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            problems.append(Problem(_("“%(field)s” is required.") % {"field": labels[name]}, field=name))
    lines = list(proposal.budget_lines.select_related("category").order_by("category__order", "id"))
    if not lines:
        problems.append(Problem(_("Add at least one budget line."), field="budget"))
    if not proposal.milestones.exists():
        problems.append(Problem(_("Add at least one milestone with its date."), field="milestones"))
    if not proposal.indicators.exists():
        problems.append(Problem(_("Add at least one measurable indicator."), field="indicators"))
    unplaced = proposal.unplaced_lines.count()
    if unplaced:
        problems.append(
            Problem(
                _("%(n)s budget line(s) copied from your earlier proposal still need a budget category of this round.")
                % {"n": unplaced},
                field="budget",
            )
        )
    requested = proposal.requested_amount
    total = sum((line.amount for line in lines), Decimal("0"))
    if requested is not None:
        if lines and total != requested:
            problems.append(
                Problem(
                    _("The budget lines add up to %(total)s but the requested amount is %(requested)s.")
                    % {"total": format_money(total), "requested": format_money(requested)},
                    field="requested_amount",
                )
            )
        if requested < c.min_grant or requested > c.max_grant:
            problems.append(
                Problem(
                    _("The requested amount must be between %(min)s and %(max)s.")
                    % {"min": format_money(c.min_grant), "max": format_money(c.max_grant)},
                    field="requested_amount",
                )
            )
        if c.cofunding_share:
            needed = (requested * c.cofunding_share / 100).quantize(Decimal("0.01"))
            if proposal.cofunding_amount < needed:
                problems.append(
                    Problem(
                        _("Co-funding must be at least %(share)s%% of the requested amount (%(needed)s).")
                        % {"share": f"{c.cofunding_share.normalize():f}", "needed": format_money(needed)},
                        field="cofunding_amount",
                    )
                )
    # Caps per budget category: the violation is shown next to each line of that category.
    if lines and total > 0:
        by_category: dict[BudgetCategory, list[int]] = {}  # indexes of the lines in each category
        for idx, line in enumerate(lines):
            by_category.setdefault(line.category, []).append(idx)
        for category, indexes in by_category.items():
            spent = sum((lines[i].amount for i in indexes), Decimal("0"))
            limits = []
            if category.cap_percent is not None:
                limit = (total * category.cap_percent / 100).quantize(Decimal("0.01"))
                text = _(
                    "“%(category)s” comes to %(spent)s, above its cap (%(cap)s%% of the budget total, that is %(limit)s)."
                )
                limits.append((limit, text, f"{category.cap_percent.normalize():f}"))
            if category.cap_amount is not None:
                limits.append(
                    (category.cap_amount, _("“%(category)s” comes to %(spent)s, above its cap of %(limit)s."), "")
                )
            for limit, text, cap in limits:
                if spent > limit:
                    message = text % {
                        "category": category.name,
                        "spent": format_money(spent),
                        "cap": cap,
                        "limit": format_money(limit),
                    }
                    for i in indexes:
                        problems.append(Problem(message, field="budget", line=i))
    start, end = proposal.period_start, proposal.period_end
    if start and end:
        if start < c.project_start_earliest or end > c.project_end_latest:
            problems.append(
                Problem(
                    _("The project period must lie between %(start)s and %(end)s.")
                    % {"start": c.project_start_earliest.isoformat(), "end": c.project_end_latest.isoformat()},
                    field="period_start",
                )
            )
        months = months_between(start, end)
        if months < c.min_project_months or months > c.max_project_months:
            problems.append(
                Problem(
                    _("The project lasts %(months)s months; this call allows %(min)s to %(max)s months.")
                    % {"months": months, "min": c.min_project_months, "max": c.max_project_months},
                    field="period_end",
                )
            )
        outside = proposal.milestones.exclude(date__gte=start, date__lte=end).count()
        if outside:
            problems.append(
                Problem(_("%(n)s milestone(s) fall outside the project period.") % {"n": outside}, field="milestones")
            )
    return problems


@transaction.atomic
def submit_proposal(*, proposal, by, at=None):
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("competition", "organization")
        .get(pk=proposal.pk)
    )
    if proposal.status not in (S.DRAFT, S.RETURNED):
        raise ValidationError(_("This proposal has already been submitted."))
    problems = submission_problems(proposal, at=at)
    if problems:
        raise ValidationError([p.message for p in problems])
    return transition(proposal=proposal, to=S.SUBMITTED, by=by)


@transaction.atomic
def return_proposal(*, proposal, by, reason):
    """Staff send a submitted proposal back for revision (before the deadline only); it becomes editable again."""
    proposal = Proposal.objects.select_for_update(of=("self",)).select_related("competition").get(pk=proposal.pk)
    if not reason.strip():
        raise ValidationError(_("Give the reason; the applicant will see it."))
    if timezone.now() >= proposal.competition.closes_at:
        raise ValidationError(_("After the deadline a proposal can no longer be returned for revision."))
    return transition(proposal=proposal, to=S.RETURNED, by=by, reason=reason)


@transaction.atomic
def withdraw_proposal(*, proposal, by, reason=""):
    proposal = Proposal.objects.select_for_update(of=("self",)).select_related("competition").get(pk=proposal.pk)
    if not proposal.withdrawable:
        raise ValidationError(_("Screening has started; the proposal can no longer be withdrawn."))
    return transition(proposal=proposal, to=S.WITHDRAWN, by=by, reason=reason)


@transaction.atomic
def add_attachment(*, proposal, by, upload, description=""):
    if not proposal.editable_by_applicant:
        raise ValidationError(_("This proposal has been submitted and can no longer be edited."))
    attachment = Attachment.objects.create(
        proposal=proposal,
        file=upload,
        original_name=upload.name[:255],
        size=upload.size,
        description=description,
        uploaded_by=by,
    )
    record(
        actor=by,
        action="proposal.attach",
        obj=proposal,
        after={"file": attachment.original_name, "size": attachment.size},
    )
    return attachment


@transaction.atomic
def remove_attachment(*, attachment, by):
    if not attachment.proposal.editable_by_applicant:
        raise ValidationError(_("This proposal has been submitted and can no longer be edited."))
    record(actor=by, action="proposal.detach", obj=attachment.proposal, before={"file": attachment.original_name})
    attachment.file.delete(save=False)
    attachment.delete()
