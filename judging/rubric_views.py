"""The rubric page of a round's set-up (``competitions:rubric``; the pattern is in judging/rubric_urls.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from venture.competitions.views import get_round, set_page

from . import rubric
from .rubric_forms import CriterionFormSet


@login_required
def round_rubric(request, pk):
    competition = get_round(request, pk, "criteria")
    locked = rubric.rubric_locked_message(competition)  # the stage policy's reason, "" while the rubric may change
    if locked:
        if request.method == "POST":  # refused before the form is read; the page shows the rubric read-only
            messages.error(request, locked)
            return redirect("competitions:rubric", pk=competition.pk)
        return render(
            request,
            "judging/rubric_form.html",
            {
                "competition": competition,
                "locked": locked,
                "step": "competitions:rubric",
                "title": _("Rubric"),
            },
        )
    return set_page(
        request,
        competition,
        step="competitions:rubric",
        formset_class=CriterionFormSet,
        save=lambda rows: rubric.save_rubric(competition=competition, by=request.user, criteria=rows),
        title=_("Rubric"),
        template="judging/rubric_form.html",
        intro=_(
            "The criteria judges score. The weights must add up to exactly 100. "
            "The rubric is locked once judging starts."
        ),
    )
