"""The mid-term and final evaluation rubric pages of a round's set-up (``competitions:evaluation_midterm`` and
``competitions:evaluation_final``; the patterns are in venture/supervision/evaluation_rubric_urls.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from venture.competitions.services import format_number
from venture.competitions.views import get_round, set_page

from . import evaluation_rubric
from .evaluation_rubric_forms import EVALUATION_RUBRIC_FORMSETS
from .models import EvaluationKind


@login_required
def round_evaluation_rubric(request, pk, kind):
    """The rubric of the mid-term or the final evaluation (``kind`` comes from the URL pattern, one per kind)."""
    competition = get_round(request, pk, "evaluation_criteria")
    kind = EvaluationKind(kind)
    step = f"competitions:evaluation_{kind.value}"
    title = _("%(evaluation)s rubric") % {"evaluation": kind.label}
    if evaluation_rubric.evaluation_rubric_locked(competition, kind):
        if request.method == "POST":  # refused before the form is read; the page shows the rubric read-only
            messages.error(request, evaluation_rubric.evaluation_rubric_locked_message(kind))
            return redirect(step, pk=competition.pk)
        return render(
            request,
            "venture/supervision/evaluation_rubric_form.html",
            {
                "competition": competition,
                "locked": True,
                "step": step,
                "title": title,
                "kind": kind,
                "criteria": [c for c in competition.evaluation_criteria.all() if c.kind == kind],
            },
        )
    return set_page(
        request,
        competition,
        step=step,
        formset_class=EVALUATION_RUBRIC_FORMSETS[kind],
        save=lambda rows: evaluation_rubric.save_evaluation_rubric(
            competition=competition, kind=kind, by=request.user, criteria=rows
        ),
        title=title,
        template="venture/supervision/evaluation_rubric_form.html",
        intro=_(
            "The criteria supervisors score in this evaluation. The maximum points must add up to exactly 100; "
            "a project passes with at least %(mark)s points (the pass mark in the round settings). The rubric is "
            "locked once a project of the round has been evaluated."
        )
        % {"mark": format_number(competition.evaluation_pass_mark)},
        context={"kind": kind, "proposed": not any(c.kind == kind for c in competition.evaluation_criteria.all())},
    )
