from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from venture import permissions
from venture.accounts.queries import rounds_overview
from venture.markup import render_markdown

from . import services
from .models import STAGE_TRANSITIONS, Competition, Stage

PUBLIC_STAGES = [s for s in Stage.values if s != Stage.DRAFT]


def call_list(request):
    """Public: every round that is or was open, newest first. No login needed."""
    calls = Competition.objects.filter(stage__in=PUBLIC_STAGES).order_by("-year", "-opens_at")
    return render(request, "venture/competitions/call_list.html", {"calls": calls, "now": timezone.now()})


def call_detail(request, pk):
    """Public call page (招募公告) with the countdown to the deadline. No login needed."""
    competition = get_object_or_404(
        Competition.objects.prefetch_related("categories", "budget_categories", "tranche_plan", "criteria"),
        pk=pk, stage__in=PUBLIC_STAGES,
    )
    now = timezone.now()
    return render(request, "venture/competitions/call_detail.html", {
        "competition": competition,
        "description": render_markdown(competition.description),
        "now": now,
        "remaining": competition.closes_at - now if competition.is_accepting(now) else None,
        "accepting": competition.is_accepting(now),
    })


@login_required
def round_list(request):
    permissions.require(request.user, "competition.view_internal")
    return render(request, "venture/competitions/round_list.html", {"rounds": rounds_overview()})


@login_required
def round_detail(request, pk):
    competition = permissions.get_for(
        request.user, "competition.view_internal",
        Competition.objects.prefetch_related("categories", "budget_categories", "tranche_plan", "criteria"), pk=pk,
    )
    overview = next(r for r in rounds_overview() if r.pk == competition.pk)
    return render(request, "venture/competitions/round_detail.html", {
        "competition": competition, "overview": overview,
        "next_stages": [Stage(s) for s in STAGE_TRANSITIONS[Stage(competition.stage)]],
    })


@require_POST
@login_required
def round_advance(request, pk):
    competition = permissions.get_for(request.user, "competition.manage", Competition.objects.all(), pk=pk)
    try:
        services.advance_stage(competition=competition, to=request.POST.get("to", ""), by=request.user)
        messages.success(request, _("Stage changed."))
    except (ValidationError, ValueError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("competitions:round", pk=competition.pk)
