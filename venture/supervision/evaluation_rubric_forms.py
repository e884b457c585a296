"""The evaluation rubric pages' formsets: one row per criterion, one formset class per evaluation."""

from django import forms
from django.core.exceptions import ValidationError

from venture.competitions.forms import RowForm, RowFormSet, label, row_formset
from venture.competitions.services import format_number

from . import evaluation_rubric
from .models import EvaluationCriterion, EvaluationKind


class EvaluationCriterionForm(RowForm):
    name = forms.CharField(label=label(EvaluationCriterion, "name"), max_length=100)
    max_points = forms.DecimalField(
        label=label(EvaluationCriterion, "max_points"),
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.1", "min": "0"}),
    )

    def clean(self):
        cleaned = super().clean()
        try:
            evaluation_rubric.check_evaluation_criterion(cleaned)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class BaseEvaluationRubricFormSet(RowFormSet):
    """The rubric of one evaluation (``kind``); a round without one starts from the default rubric."""

    kind = None
    row_fields = evaluation_rubric.EVALUATION_CRITERION_FIELDS
    min_rows = 4
    default_extra = 2

    def check(self, rows):
        evaluation_rubric.check_evaluation_rubric(rows)

    @classmethod
    def initial_for(cls, competition):
        rows = [
            {"id": c.pk, "name": c.name, "max_points": format_number(c.max_points)}
            for c in competition.evaluation_criteria.all()
            if c.kind == cls.kind
        ]
        return rows or evaluation_rubric.default_evaluation_rubric()


# One formset class per evaluation, each knowing its kind.
EVALUATION_RUBRIC_FORMSETS = {
    kind: row_formset(
        EvaluationCriterionForm, type("EvaluationRubricFormSet", (BaseEvaluationRubricFormSet,), {"kind": kind})
    )
    for kind in EvaluationKind
}
