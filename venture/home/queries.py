"""What each role's home page shows: a few queries each, whatever the data size."""

from django.db.models import Count, Q, Sum

from judging.models import Assignment
from venture.audit.models import AuditEvent
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
    assignments = list(
        Assignment.objects.filter(judge__user=user)
        .select_related("proposal__organization", "proposal__category", "panel__competition", "conflict", "sheet")
        # Only the columns the list shows: a provincial judge may hold hundreds of assignments, and proposals and
        # rounds are wide rows (texts, settings).
        .only("panel__stage", "panel__competition__title", "proposal__title", "proposal__organization__name",
              "proposal__category__name", "conflict__status", "sheet__status")
        .order_by("panel__competition_id", "panel__stage", "proposal__title")
    )
    return {"assignments": assignments}


def rounds_overview():
    status_counts = {s.value: Count("proposals", filter=Q(proposals__status=s.value)) for s in ProposalStatus}
    return list(
        Competition.objects.annotate(
            n_proposals=Count("proposals", filter=~Q(proposals__status=ProposalStatus.DRAFT)),
            n_drafts=Count("proposals", filter=Q(proposals__status=ProposalStatus.DRAFT)),
            requested=Sum("proposals__requested_amount", filter=~Q(proposals__status=ProposalStatus.DRAFT)),
            **{f"n_{k}": v for k, v in status_counts.items()},
        ).order_by("-year", "-opens_at")
    )


def staff_home(user):
    return {
        "rounds": rounds_overview(),
        "pending_organizations": Organization.objects.filter(status="pending").count(),
    }


def supervisor_home(user):
    return {"rounds": rounds_overview(), "projects": portfolio(supervisor=user)}


def auditor_home(user):
    return {"rounds": rounds_overview(), "recent_events": list(AuditEvent.objects.select_related("actor")[:15])}
