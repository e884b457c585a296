from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django import forms
from django.db.models import Q
from django.forms import BaseFormSet, formset_factory
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from venture.uploads import validate_upload
from venture.validators import validate_money

from .models import Proposal, ProposalStatus
from .services import DRAFT_FIELDS


def money_field(label, required=False):
    """Yuan with at most two decimals; validate_money gives the friendly messages (negative, too large, fen)."""
    return forms.DecimalField(
        label=label,
        required=required,
        validators=[validate_money],
        error_messages={"invalid": _("Enter an amount in yuan, for example 12800.50.")},
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class ProposalForm(forms.ModelForm):
    """The proposal's own fields. Everything may be blank in a draft; submission checks completeness."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    requested_amount = money_field(_("Requested amount (yuan)"))
    cofunding_amount = money_field(_("Co-funding (yuan)"))
    requested_amount.help_text = _("The grant you ask for: the total of the budget lines, e.g. 98000.00.")
    cofunding_amount.help_text = _("Money from your organization or other funders, if the call asks for co-funding.")

    class Meta:
        model = Proposal
        fields = DRAFT_FIELDS  # one list with the service that saves a draft
        widgets = {
            "period_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "period_end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "needs": forms.Textarea(attrs={"rows": 4}),
            "objectives": forms.Textarea(attrs={"rows": 3}),
            "activities": forms.Textarea(attrs={"rows": 4}),
            "team": forms.Textarea(attrs={"rows": 3}),
        }
        # Short help with an example under every field (the examples are what reviewers found missing most often).
        help_texts = {
            "title": _(
                "What the project does and for whom, in a few words, e.g. “Legal aid stations for delivery riders”."
            ),
            "category": _("The service category of this call that the project belongs to."),
            "target_group": _(
                "Who the project serves, as precisely as you can, e.g. “delivery riders in Xinhua district”."
            ),
            "people_to_serve": _("How many different people the project will serve, each counted once, e.g. 300."),
            "service_area": _("Where the services take place, e.g. “Xinhua and Chengbei districts”."),
            "needs": _(
                "The problem the project answers and how you know it: a survey, figures, cases, e.g. “Of 120 riders "
                "we asked, 78 had no written contract.”"
            ),
            "objectives": _(
                "What will have changed at the end, in terms that can be checked, e.g. “200 riders know how to claim "
                "work-injury insurance”."
            ),
            "activities": _(
                "What you will do, how often and where, e.g. “12 legal workshops, one a month, at the station on "
                "Jianshe Road”."
            ),
            "team": _("Who does the work: the project lead and staff, their experience and their time on the project."),
            "period_start": _("Within the dates the call allows."),
            "period_end": _("Within the dates the call allows."),
        }

    def __init__(self, *args, competition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = competition.categories.all()
        self.fields["category"].required = False
        self.fields["cofunding_amount"].required = False
        self.fields["people_to_serve"].widget.attrs["min"] = 0
        if not self.is_bound:
            self.initial["version"] = self.instance.version

    def clean_cofunding_amount(self):
        return self.cleaned_data.get("cofunding_amount") or Decimal("0")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The project cannot end before it starts."))
        return cleaned


def style_widgets(form, small=True):
    """Bootstrap classes for forms rendered field by field (formset rows in tables)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select" + (" form-select-sm" if small else ""))
        else:
            widget.attrs.setdefault("class", "form-control" + (" form-control-sm" if small else ""))
        widget.attrs.setdefault("aria-label", str(field.label))


class SharedChoiceIterator(ModelChoiceIterator):
    """The choices of a ModelChoiceField from a queryset shared by every form of a formset: it is read from the
    database once, when the first row is rendered, instead of once per row (the rows and the empty row of the budget
    table all offer the same categories). Validation still goes through the field's own queryset."""

    def __init__(self, field, shared):
        super().__init__(field)
        self.shared = shared

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.shared:  # iterating a QuerySet fills its cache once; later rows read the cache
            yield self.choice(obj)

    def __len__(self):
        return len(self.shared) + (self.field.empty_label is not None)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.shared)


class BudgetLineForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=None)
    item = forms.CharField(label=_("Item"), max_length=200)
    unit = forms.CharField(label=_("Unit"), max_length=30)
    unit_price = money_field(_("Unit price"), required=True)
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, competition, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        if categories is not None:  # a queryset of competition.budget_categories shared by the formset's rows
            self.fields["category"].iterator = partial(SharedChoiceIterator, shared=categories)
        self.fields["category"].queryset = competition.budget_categories.all()
        # a table cell would squeeze the select and cut the category's name: budget-category keeps it wide enough
        self.fields["category"].widget.attrs["class"] = "form-select form-select-sm budget-category"
        style_widgets(self)

    def clean(self):
        cleaned = super().clean()
        price, qty = cleaned.get("unit_price"), cleaned.get("quantity")
        if price is not None and qty is not None:
            amount = (price * qty).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if amount > Decimal("9999999999.99"):
                raise forms.ValidationError(_("This amount is too large."))
            cleaned["amount"] = amount
        return cleaned


class MilestoneForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    title = forms.CharField(label=_("Milestone"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class IndicatorForm(forms.Form):
    name = forms.CharField(label=_("Indicator"), max_length=200)
    target = forms.DecimalField(label=_("Target"), min_value=Decimal("0"), max_digits=12, decimal_places=2)
    unit = forms.CharField(label=_("Unit"), max_length=30)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


class RowFormSet(BaseFormSet):
    """Rows left completely blank are ignored; half-filled rows get field errors."""

    def rows(self):
        return [
            f.cleaned_data
            for f in self.forms
            if f.has_changed() and f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]


BudgetLineFormSet = formset_factory(
    BudgetLineForm, formset=RowFormSet, extra=2, can_delete=True, max_num=200, validate_max=True
)
MilestoneFormSet = formset_factory(
    MilestoneForm, formset=RowFormSet, extra=1, can_delete=True, max_num=100, validate_max=True
)
IndicatorFormSet = formset_factory(
    IndicatorForm, formset=RowFormSet, extra=1, can_delete=True, max_num=50, validate_max=True
)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("PDF, JPEG, PNG, DOCX or XLSX, at most 20 MB."))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        validate_upload(upload)
        return upload


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class StartProposalForm(forms.Form):
    organization = forms.ModelChoiceField(label=_("Organization"), queryset=None)
    title = forms.CharField(label=_("Project title"), max_length=200)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if organizations.count() == 1:
            self.fields["organization"].initial = organizations.first()


class ReuseProposalForm(forms.Form):
    title = forms.CharField(label=_("Project title"), max_length=200)


class PlaceLinesForm(forms.Form):
    """One choice per budget line copied from an earlier proposal: a budget category of this round, "leave it out",
    or nothing yet."""

    OMIT = "omit"
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, proposal, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(proposal.unplaced_lines.all())
        self.categories = {str(c.pk): c for c in proposal.competition.budget_categories.all()}
        choices = [("", _("Choose later")), *[(pk, c.name) for pk, c in self.categories.items()]]
        choices.append((self.OMIT, _("Leave this line out")))
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.ChoiceField(
                label=f"{line.item} ({line.old_category})", choices=choices, required=False
            )
        if not self.is_bound:
            self.initial["version"] = proposal.version
        style_widgets(self)

    def rows(self):
        """The lines placed or left out ({UnplacedBudgetLine: BudgetCategory or None}); lines left for later omitted."""
        placements = {}
        for line in self.lines:
            choice = self.cleaned_data.get(f"line_{line.pk}")
            if choice == self.OMIT:
                placements[line] = None
            elif choice:
                placements[line] = self.categories[choice]
        return placements

    def line_fields(self):
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]


class ProposalFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    organization = forms.CharField(label=_("Organization"), required=False)
    min_amount = forms.DecimalField(label=_("Amount from"), required=False, min_value=0, decimal_places=2)
    max_amount = forms.DecimalField(label=_("Amount to"), required=False, min_value=0, decimal_places=2)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            ("-submitted_at", _("Newest submission")),
            ("submitted_at", _("Oldest submission")),
            ("-requested_amount", _("Largest amount")),
            ("requested_amount", _("Smallest amount")),
            ("title", _("Title")),
            ("organization__name", _("Organization")),
        ],
    )

    def __init__(self, *args, competition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = competition.categories.all()
        self.fields["status"].choices = [("", _("All statuses"))] + list(ProposalStatus.choices)
        style_widgets(self)

    def filter(self, proposals):
        data = self.cleaned_data

        if data.get("q"):
            proposals = proposals.filter(Q(title__icontains=data["q"]) | Q(organization__name__icontains=data["q"]))
        if data.get("category"):
            proposals = proposals.filter(category=data["category"])
        if data.get("status"):
            proposals = proposals.filter(status=data["status"])
        if data.get("organization"):
            proposals = proposals.filter(organization__name__icontains=data["organization"])
        if data.get("min_amount") is not None:
            proposals = proposals.filter(requested_amount__gte=data["min_amount"])
        if data.get("max_amount") is not None:
            proposals = proposals.filter(requested_amount__lte=data["max_amount"])
        order = data.get("sort") or "-submitted_at"
        return proposals.order_by(order, "id")
