"""Forms for staff setting up a round: the settings form and one formset per related set.

The rubric's and the evaluation rubrics' formsets are built on ``RowForm``/``RowFormSet`` in ``judging.rubric_forms``
and ``venture.supervision.evaluation_rubric_forms``.

The rules themselves live in ``services`` (``check_*``); the forms call them so that every error shows next to the
field it is about, and the services call them again when saving.
"""

from decimal import Decimal

from crispy_forms.bootstrap import AppendedText, PrependedText
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from venture.validators import validate_money

from . import policy, services, setup
from .models import BudgetCategory, Category, Competition, TrancheCondition, TranchePlanItem


def label(model, name):
    """The model field's own (translated) name, so a form label and the model never drift apart."""
    return model._meta.get_field(name).verbose_name


DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MoneyField(forms.DecimalField):
    """Yuan with at most two decimals, never negative; the house messages of ``validate_money``."""

    default_error_messages = {"invalid": _("Enter an amount in yuan.")}
    default_validators = [validate_money]

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}))
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        return {}  # keep the widget's own step (DecimalField would set step="any" without decimal_places)


# --- Settings -------------------------------------------------------------------------------------------------------


class CompetitionForm(forms.ModelForm):
    """The settings of a round. Pass ``competition`` to edit one; without it the form creates a new round."""

    fund_pool = MoneyField(label=label(Competition, "fund_pool"))
    min_grant = MoneyField(label=label(Competition, "min_grant"))
    max_grant = MoneyField(label=label(Competition, "max_grant"))
    year = forms.IntegerField(label=label(Competition, "year"), min_value=2000, max_value=2100)
    score_step = forms.TypedChoiceField(
        label=label(Competition, "score_step"),
        choices=[("1", "1"), ("0.5", "0.5")],
        coerce=Decimal,
        help_text=_("Judges score each criterion in steps of this size."),
    )
    tiebreak_criterion = forms.ChoiceField(
        label=label(Competition, "tiebreak_criterion"),
        required=False,
        help_text=_(
            "When totals are equal, the higher score on this criterion ranks first. "
            "Choose it once the rubric is set up."
        ),
    )

    class Meta:
        model = Competition
        fields = services.SETTINGS_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 8}),
            "opens_at": DATETIME_WIDGET,
            "closes_at": DATETIME_WIDGET,
            "project_start_earliest": DATE_WIDGET,
            "project_end_latest": DATE_WIDGET,
        }
        help_texts = {
            "description": _(
                "Shown on the public call page. Markdown: headings, lists, tables, links; any HTML is removed."
            ),
            "opens_at": _("Beijing time"),
            "closes_at": _("Beijing time. No application is accepted after this moment."),
            "comment_below": _("A judge must write a comment when a total is below this."),
            "comment_above": _("A judge must write a comment when a total is above this."),
            "trim": _("Only used by the trimmed mean: how many of the highest and of the lowest totals are dropped."),
        }

    def __init__(self, *args, competition=None, **kwargs):
        self.competition = competition
        if competition is not None:
            kwargs["initial"] = {
                **model_to_dict(competition, fields=services.SETTINGS_FIELDS),
                **kwargs.get("initial", {}),
            }
        super().__init__(*args, **kwargs)
        step = self.initial.get("score_step")
        if step is not None:
            self.initial["score_step"] = services.format_number(step)
        codes = [(c.code, f"{c.code} · {c.name}") for c in (competition.criteria.all() if competition else [])]
        tiebreak = self.fields["tiebreak_criterion"]
        assert isinstance(tiebreak, forms.ChoiceField)
        tiebreak.choices = [("", _("None")), *codes]
        for field in self.fields.values():
            field.label = capfirst(field.label)
        # The stage policy's reason when the money settings may no longer change: those fields are shown disabled
        # (a disabled field keeps its stored value whatever is posted) and the page shows the reason.
        self.money_locked = policy.refusal(competition, policy.Part.MONEY) if competition is not None else ""
        if self.money_locked:
            for name in policy.MONEY_SETTINGS:
                self.fields[name].disabled = True
        self.warnings = [] if self.is_bound else self._warnings(self.initial)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has the token
        self.helper.layout = Layout(
            Fieldset(
                _("The call"),
                Row(Column("title", css_class="col-md-8"), Column("year", css_class="col-md-4")),
                "organizer",
                "description",
            ),
            Fieldset(
                _("Money"),
                Row(
                    Column(PrependedText("fund_pool", "¥")),
                    Column(PrependedText("min_grant", "¥")),
                    Column(PrependedText("max_grant", "¥")),
                ),
                Row(Column(AppendedText("cofunding_share", "%"), css_class="col-md-4")),
            ),
            Fieldset(
                _("Application window and projects"),
                Row(Column("opens_at"), Column("closes_at")),
                Row(Column("project_start_earliest"), Column("project_end_latest")),
                Row(Column("min_project_months"), Column("max_project_months")),
            ),
            Fieldset(
                _("Final review and ranking"),
                Row(Column("finalist_quota"), Column("presentation_minutes"), Column("qa_minutes")),
                Row(Column("score_step"), Column("comment_below"), Column("comment_above")),
                Row(Column("method"), Column("trim"), Column("tiebreak_criterion")),
                Row(Column("funding_rule", css_class="col-md-8"), Column("notice_working_days")),
            ),
            Fieldset(
                _("Supervision of funded projects"),
                Row(
                    Column("report_frequency"),
                    Column(PrependedText("receipt_threshold", "¥")),
                    Column("evaluation_pass_mark"),
                ),
                Row(Column(AppendedText("overspend_tolerance", "%")), Column("spend_rate_tolerance")),
            ),
        )

    def clean(self):
        cleaned = super().clean()
        try:
            services.check_settings(cleaned)
        except ValidationError as exc:
            self.add_error(None, exc)
        self.warnings = self._warnings(cleaned)
        return cleaned

    def _warnings(self, values):
        """Advice that does not block saving, from the set-up parts of the round (a final panel too small to trim)."""
        if self.competition is None:
            return []
        return setup.settings_warnings(self.competition, values)


class CopyCompetitionForm(forms.Form):
    """Next year's round from an earlier one: what differs from year to year (title, year, fund pool, dates); the
    rest is copied. Proposes the source's dates a year on."""

    title = forms.CharField(label=capfirst(label(Competition, "title")), max_length=200)
    year = forms.IntegerField(label=capfirst(label(Competition, "year")), min_value=2000, max_value=2100)
    fund_pool = MoneyField(label=capfirst(label(Competition, "fund_pool")))
    opens_at = forms.DateTimeField(
        label=capfirst(label(Competition, "opens_at")), widget=DATETIME_WIDGET, help_text=_("Beijing time")
    )
    closes_at = forms.DateTimeField(
        label=capfirst(label(Competition, "closes_at")), widget=DATETIME_WIDGET, help_text=_("Beijing time")
    )
    project_start_earliest = forms.DateField(
        label=capfirst(label(Competition, "project_start_earliest")), widget=DATE_WIDGET
    )
    project_end_latest = forms.DateField(label=capfirst(label(Competition, "project_end_latest")), widget=DATE_WIDGET)

    def __init__(self, *args, source, **kwargs):
        self.source = source
        kwargs.setdefault("initial", services.copy_initial(source))
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean() or {}
        values = {name: getattr(self.source, name) for name in services.SETTINGS_FIELDS}
        values.update({name: value for name, value in cleaned.items() if value is not None})
        try:
            services.check_settings(values)
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return cleaned


# --- Related sets ---------------------------------------------------------------------------------------------------


class RowForm(forms.Form):
    """One row of a related set. ``id`` is the row's id (empty for a new row); widgets get Bootstrap classes and are
    marked invalid when they have an error."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.label = capfirst(field.label)
            widget = field.widget
            if widget.is_hidden:
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["class"] += " is-invalid"


class RowFormSet(forms.BaseFormSet):
    """A whole related set on one page: rows are kept, changed, added (empty rows at the end) or deleted (tick),
    and put in order by the "Order" column. ``rows()`` is what the service function takes."""

    row_fields: list[str] = []
    default_extra = 3  # empty rows offered below the existing ones ...
    min_rows = 0  # ... or more, so that a new round shows at least this many rows

    def __init__(self, *args, competition=None, **kwargs):
        self.competition = competition
        self.extra = max(self.default_extra, self.min_rows - len(kwargs.get("initial") or []))
        super().__init__(*args, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "ORDER" in form.fields:
            form.fields["ORDER"].widget.attrs.update({"class": "form-control", "style": "width: 5rem", "min": "1"})
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs.update({"class": "form-check-input"})

    def rows(self):
        return [
            {"id": form.cleaned_data.get("id"), **{name: form.cleaned_data.get(name) for name in self.row_fields}}
            for form in self.ordered_forms
        ]

    def check(self, rows):
        """Whole-set rules; the subclass calls the matching ``services.check_*``."""

    def clean(self):
        if any(self.errors):
            return
        self.check(self.rows())


def row_formset(form, formset):
    return forms.formset_factory(
        form, formset=formset, can_order=True, can_delete=True, can_delete_extra=False, max_num=50, validate_max=True
    )


class CategoryForm(RowForm):
    name = forms.CharField(label=label(Category, "name"), max_length=100)


class BaseCategoryFormSet(RowFormSet):
    row_fields = services.CATEGORY_FIELDS
    min_rows = 5

    def check(self, rows):
        services.check_categories(rows)

    @staticmethod
    def initial_for(competition):
        return [{"id": c.pk, "name": c.name} for c in competition.categories.all()]


CategoryFormSet = row_formset(CategoryForm, BaseCategoryFormSet)


class BudgetCategoryForm(RowForm):
    name = forms.CharField(label=label(BudgetCategory, "name"), max_length=100)
    cap_percent = forms.DecimalField(
        label=label(BudgetCategory, "cap_percent"),
        required=False,
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "100"}),
    )
    cap_amount = MoneyField(label=label(BudgetCategory, "cap_amount"), required=False)
    is_management_fee = forms.BooleanField(label=label(BudgetCategory, "is_management_fee"), required=False)

    def clean(self):
        cleaned = super().clean()
        try:
            services.check_budget_category(cleaned)
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


class BaseBudgetCategoryFormSet(RowFormSet):
    row_fields = services.BUDGET_CATEGORY_FIELDS
    min_rows = 5

    def check(self, rows):
        services.check_budget_categories(rows)

    @staticmethod
    def initial_for(competition):
        return [
            {
                "id": b.pk,
                "name": b.name,
                "cap_percent": b.cap_percent,
                "cap_amount": b.cap_amount,
                "is_management_fee": b.is_management_fee,
            }
            for b in competition.budget_categories.all()
        ]


BudgetCategoryFormSet = row_formset(BudgetCategoryForm, BaseBudgetCategoryFormSet)


class TrancheForm(RowForm):
    percent = forms.DecimalField(
        label=label(TranchePlanItem, "percent"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=100,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    # A blank first choice, so that an untouched empty row submits nothing and is skipped.
    condition = forms.ChoiceField(
        label=label(TranchePlanItem, "condition"), choices=[("", "---------"), *TrancheCondition.choices]
    )


class BaseTrancheFormSet(RowFormSet):
    row_fields = services.TRANCHE_FIELDS
    min_rows = 3
    default_extra = 2

    def check(self, rows):
        services.check_tranche_plan(rows)

    @staticmethod
    def initial_for(competition):
        return [{"id": t.pk, "percent": t.percent, "condition": t.condition} for t in competition.tranche_plan.all()]


TrancheFormSet = row_formset(TrancheForm, BaseTrancheFormSet)
