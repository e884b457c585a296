"""What each role's home page shows: a few queries each, whatever the data size."""

from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from judging.models import Assignment, ConflictStatus, PanelStage, RoadshowSlot, SheetStatus
from venture.audit.models import AuditEvent
from venture.awards.workdays import missing_next_year
from venture.competitions.models import Competition, Stage
from venture.organizations.models import Organization
from venture.proposals.models import Proposal, ProposalStatus
from venture.supervision.queries import portfolio


def open_calls():
    return Competition.objects.filter(stage=Stage.OPEN).order_by("closes_at")


def applicant_home(user):
    organizations = list(Organization.objects.filter(memberships__user=user).order_by("name"))
    proposals = list(
        Proposal.objects.filter(organization__in=organizations)
        .select_related("competition__notice", "organization", "category")
        .order_by("-updated_at")
    )
    return {"organizations": organizations, "proposals": proposals, "open_calls": list(open_calls())}


def judge_home(user):
    """The judge's assignments; today's roadshows first (a round in its final review whose order is drawn): the
    judge's finalists in the drawn order with the one on stage, the one up next and how many sheets are in. Every
    other assignment (earlier rounds, pre-scoring) follows. At most four queries whatever the number of
    assignments."""
    assignments = list(
        Assignment.objects.filter(judge__user=user)
        .select_related("proposal__organization", "proposal__category", "panel__competition", "conflict", "sheet")
        # Only the columns the list shows: a provincial judge may hold hundreds of assignments, and proposals and
        # rounds are wide rows (texts, settings).
        .only(
            "panel__stage",
            "panel__competition__title",
            "panel__competition__stage",
            "proposal__title",
            "proposal__organization__name",
            "proposal__category__name",
            "conflict__status",
            "sheet__status",
        )
        .order_by("panel__competition_id", "panel__stage", "proposal__title")
    )
    finals = {
        a.panel.competition_id
        for a in assignments
        if a.panel.stage == PanelStage.FINAL and a.panel.competition.stage == Stage.FINAL
    }
    # One more query only for a judge with a round in its final review: the drawn order and who is on stage.
    slots = (
        list(
            RoadshowSlot.objects.filter(roadshow__competition_id__in=finals).values_list(
                "roadshow__competition_id", "proposal_id", "position", "roadshow__current__proposal_id"
            )
        )
        if finals
        else []
    )
    positions = {(c, p): n for c, p, n, _current in slots}
    on_stage = {c: current for c, _p, _n, current in slots}
    days, earlier = {}, []
    for a in assignments:
        position = positions.get((a.panel.competition_id, a.proposal_id))
        if a.panel.stage != PanelStage.FINAL or position is None:
            earlier.append(a)
            continue
        day = days.setdefault(
            a.panel.competition_id, {"competition": a.panel.competition, "rows": [], "on_stage": None, "next_up": None}
        )
        day["rows"].append(
            {"assignment": a, "position": position, "on_stage": on_stage.get(a.panel.competition_id) == a.proposal_id}
        )
    for day in days.values():
        day["rows"].sort(key=lambda r: r["position"])
        current = next((r for r in day["rows"] if r["on_stage"]), None)
        day["on_stage"] = current
        after = current["position"] if current else 0
        day["next_up"] = next((r for r in day["rows"] if r["position"] > after), None)
        expected = [
            r
            for r in day["rows"]
            if getattr(getattr(r["assignment"], "conflict", None), "status", None) != ConflictStatus.RECUSED
        ]
        day["expected"] = len(expected)
        day["submitted"] = sum(
            1
            for r in expected
            if getattr(getattr(r["assignment"], "sheet", None), "status", None) == SheetStatus.SUBMITTED
        )
    return {"assignments": earlier, "days": list(days.values())}


def rounds_overview():
    status_counts = {s.value: Count("proposals", filter=Q(proposals__status=s.value)) for s in ProposalStatus}
    return list(
        Competition.objects.annotate(
            n_proposals=Count("proposals", filter=~Q(proposals__status=ProposalStatus.DRAFT)),
            n_drafts=Count("proposals", filter=Q(proposals__status=ProposalStatus.DRAFT)),
            requested=Coalesce(  # a round with no proposals yet has requested ¥0.00, not a blank
                Sum("proposals__requested_amount", filter=~Q(proposals__status=ProposalStatus.DRAFT)),
                Value(Decimal("0.00")),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
            **{f"n_{k}": v for k, v in status_counts.items()},
        ).order_by("-year", "-opens_at")
    )


def staff_home(user):
    return {
        "rounds": rounds_overview(),
        "pending_organizations": Organization.objects.filter(status="pending").count(),
        # from 1 November: next year's holidays, needed to count the public notice's working days, not known yet
        "missing_holiday_year": missing_next_year(timezone.localdate()),
    }


def supervisor_home(user):
    return {"rounds": rounds_overview(), "projects": portfolio(supervisor=user)}


def auditor_home(user):
    return {"rounds": rounds_overview(), "recent_events": list(AuditEvent.objects.select_related("actor")[:15])}
