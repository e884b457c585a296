from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from venture import permissions
from venture.errors import flash_error
from venture.markup import render_markdown

from . import policy, services
from .forms import BudgetCategoryFormSet, CategoryFormSet, CompetitionForm, CopyCompetitionForm, TrancheFormSet
from .models import Competition, Stage

PUBLIC_STAGES = [s for s in Stage.values if s != Stage.DRAFT]


def call_list(request):
    """Public: every round that is or was open, newest first. No login needed."""
    calls = Competition.objects.filter(stage__in=PUBLIC_STAGES).order_by("-year", "-opens_at")
    return render(request, "venture/competitions/call_list.html", {"calls": calls, "now": timezone.now()})


def call_detail(request, pk):
    """Public call page (招募公告) with the countdown to the deadline. No login needed."""
    competition = get_object_or_404(
        Competition.objects.prefetch_related("categories", "budget_categories", "tranche_plan", "criteria"),
        pk=pk,
        stage__in=PUBLIC_STAGES,
    )
    now = timezone.now()
    return render(
        request,
        "venture/competitions/call_detail.html",
        {
            "competition": competition,
            "description": render_markdown(competition.description),
            "now": now,
            "remaining": competition.closes_at - now if competition.is_accepting(now) else None,
            "accepting": competition.is_accepting(now),
            "opens_later": competition.opens_later(now),
            "until_opening": competition.opens_at - now if competition.opens_later(now) else None,
        },
    )


@require_POST
@login_required
def round_advance(request, pk):
    competition = permissions.get_for(request.user, "competition.manage", Competition.objects.all(), pk=pk)
    try:
        services.advance_stage(
            competition=competition,
            to=request.POST.get("to", ""),
            by=request.user,
            manual=True,
            confirm=request.POST.get("confirm") == "1",
            note=request.POST.get("reason", "").strip()[:2000],
        )
        messages.success(request, _("Stage changed."))
    except (ValidationError, ValueError) as exc:
        flash_error(request, exc)
    return redirect("competitions:round", pk=competition.pk)


# --- Staff set up a round ------------------------------------------------------------------------------------------
# The setup pages in the order a new round is set up; "Save and continue" on one goes to the next. The rubric pages
# belong to judging (judging.rubric_views) and supervision (venture.supervision.evaluation_rubric_views); their URL
# patterns are in this namespace (see venture/urls.py), and they use the page machinery below.
SETUP_STEPS = [
    "competitions:edit",
    "competitions:categories",
    "competitions:budget_rules",
    "competitions:tranches",
    "competitions:rubric",
    "competitions:evaluation_midterm",
    "competitions:evaluation_final",
]


def after_save(request, competition, step):
    """Stay on the page after "Save"; go to the next setup page (or the round) after "Save and continue"."""
    if "continue" in request.POST:
        index = SETUP_STEPS.index(step) + 1
        if index < len(SETUP_STEPS):
            return redirect(SETUP_STEPS[index], pk=competition.pk)
        return redirect(competition)
    return redirect(step, pk=competition.pk)


@login_required
def round_create(request):
    permissions.require(request.user, "competition.manage")
    form = CompetitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            competition = services.create_competition(by=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Round created. Next, list its service categories."))
            return redirect("competitions:categories", pk=competition.pk)
    # Most rounds are next year's of an earlier one: offer to start from the latest few ("new round from …").
    sources = Competition.objects.order_by("-year", "-opens_at")[:5]
    return render(request, "venture/competitions/round_form.html", {"form": form, "sources": sources})


@login_required
def round_copy(request, pk):
    """ "New round from …": next year's round made from this one in one step, then the set-up pages on the copy."""
    source = permissions.get_for(
        request.user,
        "competition.copy",
        Competition.objects.prefetch_related("categories", "budget_categories", "tranche_plan", "criteria"),
        pk=pk,
    )
    form = CopyCompetitionForm(request.POST or None, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            competition = services.copy_competition(source=source, by=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "Round created from “%(source)s”: its categories, budget rules, tranche plan, rubric, screening "
                    "checklist and evaluation rubrics were copied. Check each step and change what differs this year."
                )
                % {"source": source.title},
            )
            return redirect("competitions:edit", pk=competition.pk)
    return render(request, "venture/competitions/round_copy.html", {"form": form, "source": source})


@login_required
def round_edit(request, pk):
    competition = permissions.get_for(
        request.user, "competition.manage", Competition.objects.prefetch_related("criteria"), pk=pk
    )
    form = CompetitionForm(request.POST or None, competition=competition)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_competition(competition=competition, by=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            for warning in form.warnings:
                messages.warning(request, warning)
            return after_save(request, competition, "competitions:edit")
    return render(
        request,
        "venture/competitions/round_form.html",
        {
            "form": form,
            "competition": competition,
            "step": "competitions:edit",
        },
    )


def set_page(
    request,
    competition,
    *,
    step,
    formset_class,
    save,
    title,
    intro,
    template="venture/competitions/set_form.html",
    context=None,
    part=None,
):
    """One related set of a round on one page: validate the formset, hand its rows to the service, redirect.
    ``context`` adds to what the template gets. When the stage policy refuses a change of ``part``, the page shows
    the set read-only with the policy's reason, and a post is refused before it is read."""
    locked = policy.refusal(competition, part) if part is not None else ""
    if locked and request.method == "POST":
        messages.error(request, locked)
        return redirect(step, pk=competition.pk)
    formset = formset_class(
        None if locked else request.POST or None,
        initial=formset_class.initial_for(competition),
        competition=competition,
        prefix=step.split(":")[1],
    )
    if locked:
        for form in formset:
            for field in form.fields.values():
                field.disabled = True
    errors = []
    if request.method == "POST" and formset.is_valid():
        try:
            save(formset.rows())
        except ValidationError as exc:  # a rule only the database can check (a row in use, a concurrent edit)
            errors = exc.messages
        else:
            messages.success(request, _("Saved."))
            return after_save(request, competition, step)
    return render(
        request,
        template,
        {
            "competition": competition,
            "formset": formset,
            "errors": errors,
            "step": step,
            "title": title,
            "intro": intro,
            "locked": locked,
            **(context or {}),
        },
    )


def get_round(request, pk, *related):
    return permissions.get_for(
        request.user, "competition.manage", Competition.objects.prefetch_related(*related), pk=pk
    )


@login_required
def round_categories(request, pk):
    competition = get_round(request, pk, "categories")
    return set_page(
        request,
        competition,
        step="competitions:categories",
        formset_class=CategoryFormSet,
        save=lambda rows: services.save_categories(competition=competition, by=request.user, categories=rows),
        title=_("Service categories"),
        intro=_("The fields a proposal can be filed under. Applicants choose one when they write a proposal."),
    )


@login_required
def round_budget_rules(request, pk):
    competition = get_round(request, pk, "budget_categories")
    return set_page(
        request,
        competition,
        step="competitions:budget_rules",
        formset_class=BudgetCategoryFormSet,
        save=lambda rows: services.save_budget_categories(
            competition=competition, by=request.user, budget_categories=rows
        ),
        part=policy.Part.BUDGET_RULES,
        title=_("Budget rules"),
        intro=_(
            "The categories of a proposal's budget. A cap limits a category to a share of the total budget "
            "and/or to an amount; leave both empty for no cap. Mark the management fee, if there is one."
        ),
    )


@login_required
def round_tranches(request, pk):
    competition = get_round(request, pk, "tranche_plan")
    return set_page(
        request,
        competition,
        step="competitions:tranches",
        formset_class=TrancheFormSet,
        save=lambda rows: services.save_tranche_plan(competition=competition, by=request.user, tranches=rows),
        part=policy.Part.TRANCHE_PLAN,
        title=_("Tranche plan"),
        intro=_(
            "How a grant is paid out: the share of each tranche and when it is released. "
            "The shares must add up to exactly 100 per cent."
        ),
    )
