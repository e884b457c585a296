"""The role home pages, and the union side's overview of the rounds (the round list and each round's page, which
show what every stage holds: proposals, the rubric, the evaluation rubrics). They read from every app; no app reads
from them."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from venture import permissions
from venture.competitions.models import MANUAL_STAGES, STAGE_TRANSITIONS, Competition, Stage
from venture.competitions.services import early_consequence
from venture.roles import Role
from venture.supervision.evaluation_rubric import locked_evaluation_kinds
from venture.supervision.models import EvaluationKind

from .queries import applicant_home, auditor_home, judge_home, rounds_overview, staff_home, supervisor_home

HOMES = {
    Role.APPLICANT: ("home.applicant", applicant_home, "venture/home/applicant.html"),
    Role.JUDGE: ("home.judge", judge_home, "venture/home/judge.html"),
    Role.STAFF: ("home.staff", staff_home, "venture/home/staff.html"),
    Role.SUPERVISOR: ("home.supervisor", supervisor_home, "venture/home/supervisor.html"),
    Role.AUDITOR: ("home.auditor", auditor_home, "venture/home/auditor.html"),
}


@login_required
def home(request):
    role = Role.STAFF if request.user.is_superuser else request.user.role
    action, query, template = HOMES[role]
    permissions.require(request.user, action)
    return render(request, template, query(request.user))


@login_required
def round_list(request):
    permissions.require(request.user, "competition.view_internal")
    return render(request, "venture/competitions/round_list.html", {"rounds": rounds_overview()})


@login_required
def round_detail(request, pk):
    competition = permissions.get_for(
        request.user,
        "competition.view_internal",
        Competition.objects.prefetch_related(
            "categories", "budget_categories", "tranche_plan", "criteria", "evaluation_criteria"
        ),
        pk=pk,
    )
    overview = next(r for r in rounds_overview() if r.pk == competition.pk)
    next_stages = [Stage(s) for s in STAGE_TRANSITIONS[Stage(competition.stage)] if s in MANUAL_STAGES]
    locked = locked_evaluation_kinds(competition)
    evaluation_rubrics = [
        {
            "kind": kind,
            "step": f"competitions:evaluation_{kind.value}",
            "locked": kind in locked,
            "count": sum(c.kind == kind for c in competition.evaluation_criteria.all()),
        }
        for kind in EvaluationKind
    ]
    return render(
        request,
        "venture/competitions/round_detail.html",
        {
            "competition": competition,
            "overview": overview,
            "evaluation_rubrics": evaluation_rubrics,
            "next_stages": next_stages,
            # What an early change does (named on the confirmation the button needs), by stage.
            "consequences": {s.value: early_consequence(competition, s) for s in next_stages},
        },
    )
