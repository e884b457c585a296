"""Where a manual step's page is on the demo data: the URL of the page a step names, seen as the step's user.

``make manual`` (scripts/manual_screenshots.py) opens these URLs in Chromium to take the screenshots, and
tests/venture/test_help.py opens them with the test client to check that the texts a step names are on its page. Both
run on a freshly built demo (venture/demo/builder.py) after ``prepare_demo`` added the one thing the demo lacks for
the manual: a draft proposal in the open call.
"""

from django.urls import reverse

from judging.models import Assignment, PanelStage
from venture.accounts.models import User
from venture.competitions.models import Competition, Stage
from venture.demo import builder
from venture.organizations.models import Organization
from venture.proposals.models import Proposal, ProposalStatus
from venture.proposals.services import create_proposal
from venture.supervision.models import FundedProject, Rectification

DRAFT_TITLE = "骑手子女暑期托管服务"


def _demo_round():
    return Competition.objects.get(title=builder.DEMO_ROUND_TITLE)


def _open_round():
    return Competition.objects.filter(stage=Stage.OPEN).order_by("-year").first()


def _own_draft(user):
    return Proposal.objects.filter(organization__memberships__user=user, status=ProposalStatus.DRAFT).latest("pk")


def _own_project(user):
    return FundedProject.objects.filter(organization__memberships__user=user).order_by("pk").first()


def _supervised_project(user):
    """The supervisor's project with an open rectification item (in the demo: the one between visit and answer)."""
    projects = FundedProject.objects.filter(supervisors=user).order_by("pk")
    return projects.filter(rectifications__isnull=False).first() or projects.first()


def _final_assignment(user):
    return Assignment.objects.filter(judge__user=user, panel__stage=PanelStage.FINAL).order_by("pk").first()


def _own_result(user):
    return (
        Proposal.objects.filter(organization__memberships__user=user, competition=_demo_round()).order_by("pk").first()
    )


def _rectification(user):
    if user.role == "supervisor":
        return Rectification.objects.filter(project=_supervised_project(user)).order_by("pk").first()
    return Rectification.objects.filter(project__organization__memberships__user=user).order_by("pk").first()


# URL name -> (user -> reverse kwargs). Pages without arguments need no entry.
KWARGS = {
    "competitions:call": lambda user: {"pk": _open_round().pk},
    "proposals:create": lambda user: {"competition_pk": _open_round().pk},
    "proposals:edit": lambda user: {"pk": _own_draft(user).pk},
    "proposals:detail": lambda user: {"pk": _own_draft(user).pk},
    "organizations:detail": lambda user: {"pk": Organization.objects.filter(memberships__user=user).first().pk},
    "awards:my_result": lambda user: {"proposal_pk": _own_result(user).pk},
    "awards:notice": lambda user: {"competition_pk": _demo_round().pk},
    "awards:awards": lambda user: {"competition_pk": _demo_round().pk},
    "supervision:project": lambda user: {
        "pk": (_own_project(user) if user and user.role == "applicant" else _supervised_project(user)).pk
    },
    "supervision:ledger": lambda user: {"pk": _own_project(user).pk},
    "supervision:visit_new": lambda user: {"pk": _supervised_project(user).pk},
    "supervision:rectification": lambda user: {"pk": _rectification(user).pk},
    "supervision:evaluation_new": lambda user: {"pk": _supervised_project(user).pk, "kind": "final"},
    "judging:declare": lambda user: {"pk": _final_assignment(user).pk},
    "judging:sheet": lambda user: {"pk": _final_assignment(user).pk},
    "competitions:round": lambda user: {"pk": _demo_round().pk},
    "screening:list": lambda user: {"competition_pk": _demo_round().pk},
    "judging:panel": lambda user: {"competition_pk": _demo_round().pk, "stage": "final"},
    "judging:roadshow": lambda user: {"competition_pk": _demo_round().pk},
    "results:results": lambda user: {"competition_pk": _demo_round().pk},
}


def user_for(username):
    return User.objects.get(username=username) if username else None


def page_url(step):
    user = user_for(step.user)
    make = KWARGS.get(step.page)
    return reverse(step.page, kwargs=make(user) if make else None)


def prepare_demo():
    """Add what the manual shows and the demo lacks: applicant1's draft proposal in the open call (once)."""
    user = User.objects.get(username="applicant1")
    if Proposal.objects.filter(title=DRAFT_TITLE).exists():
        return
    create_proposal(
        competition=_open_round(),
        organization=Organization.objects.filter(memberships__user=user).first(),
        title=DRAFT_TITLE,
        by=user,
    )
