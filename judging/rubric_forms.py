"""The rubric page's formset: one row per criterion, its score bands typed one per line."""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from venture.competitions.forms import RowForm, RowFormSet, label, row_formset

from . import rubric
from .models import Criterion

BAND_LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[-–—~～至到]\s*(\d+(?:\.\d+)?)\s*[:：,，]?\s*(.*?)\s*$")


class BandsField(forms.CharField):
    """Band descriptors typed one per line as "21-25 Excellent"; cleaned to [{"min", "max", "label"}]."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{rubric.band_text(b)} {b['label']}" for b in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        bands = []
        for n, line in enumerate((super().to_python(value) or "").splitlines(), start=1):
            if not line.strip():
                continue
            match = BAND_LINE.match(line)
            if not match or not match.group(3):
                raise ValidationError(
                    _("Line %(n)s: write one band per line as “from-to label”, for example “21-25 Excellent”."),
                    code="band_format",
                    params={"n": n},
                )
            try:
                low, high = Decimal(match.group(1)), Decimal(match.group(2))
            except InvalidOperation as exc:  # pragma: no cover - the pattern only lets numbers through
                raise ValidationError(_("Enter a number."), code="invalid") from exc
            bands.append({"min": low, "max": high, "label": match.group(3)})
        return bands

    def has_changed(self, initial, data):
        try:
            return self.to_python(initial or []) != self.to_python(data)
        except ValidationError:
            return True


class CriterionForm(RowForm):
    code = forms.SlugField(
        label=label(Criterion, "code"),
        max_length=40,
        required=False,
        help_text=_("Leave it empty: it is made from the name (社会效益 becomes shehuixiaoyi)."),
        error_messages={
            "invalid": _(
                "The code may contain only Latin letters, digits, “-” and “_”, without spaces or Chinese characters. "
                "Leave it empty to have it made from the name."
            ),
            "max_length": _(
                "The code is at most %(limit_value)d characters long. Leave it empty to have it made from the name."
            ),
        },
    )
    name = forms.CharField(label=label(Criterion, "name"), max_length=100)
    max_points = forms.DecimalField(
        label=label(Criterion, "max_points"),
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "0"}),
    )
    weight = forms.DecimalField(
        label=label(Criterion, "weight"),
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100"}),
    )
    description = forms.CharField(
        label=label(Criterion, "description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    bands = BandsField(
        label=label(Criterion, "bands"),
        required=False,
        help_text=_(
            "One band per line, from-to and a label, e.g. “21-25 Excellent”. "
            "Bands lie within 0 and the maximum points and do not overlap."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        try:
            rubric.check_criterion(cleaned)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class BaseCriterionFormSet(RowFormSet):
    row_fields = rubric.CRITERION_FIELDS
    min_rows = 4
    default_extra = 1

    def check(self, rows):
        rubric.check_rubric(rows, tiebreak=self.competition.tiebreak_criterion if self.competition else "")

    @staticmethod
    def initial_for(competition):
        return [
            {
                "id": c.pk,
                "code": c.code,
                "name": c.name,
                "description": c.description,
                "max_points": c.max_points,
                "weight": c.weight,
                "bands": c.bands,
            }
            for c in competition.criteria.all()
        ]


CriterionFormSet = row_formset(CriterionForm, BaseCriterionFormSet)
