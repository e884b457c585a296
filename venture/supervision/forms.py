"""Forms of the supervision pages. They parse and check the shape of the input; the rules live in services."""

import os
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from venture.accounts.models import Role, User
from venture.competitions.models import Competition
from venture.money import format_money
from venture.proposals.forms import RowFormSet, money_field, style_widgets
from venture.uploads import IMAGES, MAX_UPLOAD_BYTES, validate_upload

from . import expenditure_rules, ledger_files
from .models import ApprovedLine, EvaluationKind, FundedProject, InvoiceKind, ProjectStatus, RevisionKind

RECEIPT_TYPES = ("pdf", "jpg", "jpeg", "png")
MAX_PHOTOS = 12


def _date(label, required=True, **kwargs):
    return forms.DateField(
        label=label, required=required, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs
    )


def _text(label, rows=3, required=True, max_length=5000):
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _photos_help(max_files):
    return gettext("JPEG or PNG, several at once, at most %(n)s.") % {"n": max_files}


class PhotosField(forms.FileField):
    """Several photos in one input; each checked by extension and content (JPEG or PNG), at most ``max_files``."""

    def __init__(self, *args, max_files=MAX_PHOTOS, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".jpg,.jpeg,.png,image/jpeg,image/png"}))
        # Lazy: the field is built when the module is imported, the help is read in the language of each request.
        kwargs.setdefault("help_text", lazy(_photos_help, str)(max_files))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > self.max_files:
            raise ValidationError(_("At most %(n)s photos at a time."), params={"n": self.max_files})
        cleaned, errors = [], []
        for upload in files:
            try:
                upload = super().clean(upload, initial)
                validate_upload(upload, allowed=IMAGES)
                cleaned.append(upload)
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return cleaned


# --- Agreement, supervisors, budget, tranches, status (staff) ------------------------------------------------------


class SignAgreementForm(forms.Form):
    signed_on = _date(_("Agreement signed on"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signed_on"].initial = timezone.localdate()
        style_widgets(self)


class SupervisorsForm(forms.Form):
    supervisors = forms.ModelMultipleChoiceField(
        label=_("Supervisors"), required=False, queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervisors"].queryset = User.objects.filter(role=Role.SUPERVISOR, is_active=True).order_by(
            "full_name", "username"
        )
        self.fields["supervisors"].label_from_instance = lambda u: u.display_name


class BudgetRevisionForm(forms.Form):
    """One amount per approved line (pre-filled with the current amounts), the reason, and for a no-cost extension
    the new end date."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        widget=forms.RadioSelect,
        initial=RevisionKind.BUDGET,
        choices=[
            (RevisionKind.BUDGET, RevisionKind.BUDGET.label),
            (RevisionKind.EXTENSION, RevisionKind.EXTENSION.label),
        ],
    )
    period_end = _date(_("New end date (no-cost extension)"), required=False)
    reason = _text(_("Reason"), rows=2, max_length=2000)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            field = money_field(f"{line.category.name} · {line.item}", required=True)
            field.initial = line.amount
            self.fields[f"line_{line.pk}"] = field
        style_widgets(self)
        self.fields["kind"].widget.attrs.pop("class", None)

    def line_fields(self):
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]

    def amounts(self):
        return {line.pk: self.cleaned_data[f"line_{line.pk}"] for line in self.lines}


class ReleaseTrancheForm(forms.Form):
    released_on = _date(_("Paid on"))
    voucher_no = forms.CharField(label=_("Payment voucher number"), max_length=60)
    amount = money_field(_("Amount (blank: what remains of the tranche)"))
    override_reason = forms.CharField(
        label=_("Reason to release while receipts are pending (staff)"), required=False, max_length=2000
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["released_on"].initial = timezone.localdate()
        style_widgets(self)


class ReasonForm(forms.Form):
    reason = _text(_("Reason"), rows=2, max_length=2000)


class CloseOutForm(forms.Form):
    closeout_report = _text(_("Close-out report"), rows=5, max_length=20000)


class RefundForm(forms.Form):
    amount = money_field(_("Refund received (yuan)"))
    received_on = _date(_("Received on"))
    voucher_no = forms.CharField(label=_("Voucher number"), max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].required = True


class ReversalForm(forms.Form):
    """红冲: the reason, and optionally the corrected entry (same fields as a new entry)."""

    reason = _text(_("Reason for the correction"), rows=2, max_length=2000)
    with_corrected = forms.BooleanField(label=_("Record the corrected entry as well"), required=False)


class AttachReceiptForm(forms.Form):
    receipt = forms.FileField(
        label=_("Receipt"), widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"})
    )

    def clean_receipt(self):
        upload = self.cleaned_data["receipt"]
        validate_upload(upload, allowed=RECEIPT_TYPES)
        return upload


# --- Progress reports ----------------------------------------------------------------------------------------------


class ReportForm(forms.Form):
    narrative = _text(_("What was done in the period"), rows=6, max_length=20000)
    people_served = forms.IntegerField(label=_("People served in the period"), min_value=0, max_value=10_000_000)
    photos = PhotosField(label=_("Photos"))

    def __init__(self, *args, indicators, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = list(indicators)
        for indicator in self.indicators:
            self.fields[f"ind_{indicator.pk}"] = forms.DecimalField(
                label=f"{indicator.name} ({indicator.unit})",
                required=False,
                min_value=Decimal("0"),
                max_digits=12,
                decimal_places=2,
                help_text=_("Target %(target)s; achieved so far %(achieved)s.")
                % {"target": f"{indicator.target.normalize():f}", "achieved": f"{indicator.achieved.normalize():f}"},
            )

    def indicator_fields(self):
        return [self[f"ind_{i.pk}"] for i in self.indicators]

    def progress(self):
        return {i: self.cleaned_data[f"ind_{i.pk}"] for i in self.indicators}


class ActivityForm(forms.Form):
    date = _date(_("Date"))
    place = forms.CharField(label=_("Place"), max_length=200)
    participants = forms.IntegerField(label=_("Participants"), min_value=0, max_value=1_000_000)
    description = forms.CharField(label=_("Activity"), max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


ActivityFormSet = formset_factory(
    ActivityForm, formset=RowFormSet, extra=2, can_delete=True, max_num=100, validate_max=True
)
ACTIVITY_FIELDS = ("date", "place", "participants", "description")


def activity_rows(formset):
    return [{k: row[k] for k in ACTIVITY_FIELDS} for row in formset.rows()]


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Review decision"),
        widget=forms.RadioSelect,
        choices=[("accept", _("Accept")), ("changes", _("Request changes"))],
    )
    note = _text(_("Note to the organization (required when requesting changes)"), rows=3, required=False)


# --- Ledger ----------------------------------------------------------------------------------------------------------


class AmountField(forms.CharField):
    """An amount in yuan as people write it (¥/￥, 元, thousands separators, full-width digits), read by
    expenditure_rules.parse_amount: exponent notation (1e3) and anything else not an amount are refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(max_length=40, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        return expenditure_rules.parse_amount(value)


class ExpenditureForm(forms.Form):
    """One ledger entry. The rules (amount, period, the project's state and its own line, receipt above the
    threshold, invoice, duplicates) are expenditure_rules.validate_expenditure's; its messages are shown next to
    the fields."""

    date = _date(_("Date"))
    line = forms.ModelChoiceField(label=_("Budget line"), queryset=ApprovedLine.objects.none())
    amount = AmountField(
        label=_("Amount (yuan)"), error_messages={"invalid": _("Enter an amount in yuan, for example 12800.50.")}
    )
    payee = forms.CharField(label=_("Payee"), max_length=200)
    payee_uscc = forms.CharField(
        label=_("Payee's unified social credit code (if known)"), max_length=18, required=False
    )
    description = forms.CharField(label=_("Description"), max_length=300)
    voucher_no = forms.CharField(label=_("Voucher number"), max_length=60)
    invoice_kind = forms.ChoiceField(label=_("Invoice"), choices=InvoiceKind.choices, required=False)
    invoice_code = forms.CharField(label=_("Invoice code (VAT invoice only)"), max_length=20, required=False)
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=30, required=False)
    receipt = forms.FileField(
        label=_("Receipt"), required=False, widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"})
    )

    def __init__(self, *args, project, by=None, replacing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.project, self.by, self.replacing = project, by, replacing  # replacing: the entry a 红冲 reverses
        self.fields["line"].queryset = project.lines.select_related("category")
        self.fields["receipt"].help_text = _("PDF, JPEG or PNG; required above %(x)s.") % {
            "x": format_money(project.competition.receipt_threshold)
        }
        if project.status == ProjectStatus.SUSPENDED:
            self.fields["staff_reason"] = forms.CharField(
                label=_("Reason for recording on a suspended project (staff)"), max_length=500, required=False
            )

    def clean_receipt(self):
        upload = self.cleaned_data.get("receipt")
        if upload:
            validate_upload(upload, allowed=RECEIPT_TYPES)
        return upload

    def clean_payee_uscc(self):
        return expenditure_rules.digits(self.cleaned_data.get("payee_uscc")).upper()

    def clean_invoice_code(self):
        return expenditure_rules.digits(self.cleaned_data.get("invoice_code"))

    def clean_invoice_number(self):
        return expenditure_rules.digits(self.cleaned_data.get("invoice_number"))

    def clean(self):
        cleaned = super().clean()
        if self.errors.get("amount") or self.errors.get("date"):
            return cleaned
        found = expenditure_rules.validate_expenditure(
            self.project,
            by=self.by,
            date=cleaned.get("date"),
            line=cleaned.get("line"),
            amount=cleaned.get("amount"),
            receipt=cleaned.get("receipt"),
            voucher_no=cleaned.get("voucher_no", ""),
            invoice_kind=cleaned.get("invoice_kind", ""),
            invoice_code=cleaned.get("invoice_code", ""),
            invoice_number=cleaned.get("invoice_number", ""),
            payee_uscc=cleaned.get("payee_uscc", ""),
            staff_reason=cleaned.get("staff_reason", ""),
            known=self._known(cleaned) if self.replacing else None,
        )
        for name, messages in found.items():
            name = name if name in self.fields or name == "__all__" else "line"
            if name == "__all__" or name not in self.errors:
                for message in messages:
                    self.add_error(None if name == "__all__" else name, message)
        return cleaned

    def _known(self, cleaned):
        key = (cleaned.get("invoice_kind", ""), cleaned.get("invoice_code", ""), cleaned.get("invoice_number", ""))
        known = expenditure_rules.Known.load(self.project, vouchers=[cleaned.get("voucher_no", "")], invoices=[key])
        return known.without(self.replacing)


class LedgerImportForm(forms.Form):
    file = forms.FileField(
        label=_("Ledger file (.xlsx or .csv)"), widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,.txt"})
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        ext = os.path.splitext(upload.name)[1].lower()
        if ext == ".xlsx":
            validate_upload(upload, allowed=("xlsx",))
        elif ext in (".csv", ".txt"):
            if upload.size > MAX_UPLOAD_BYTES:
                raise ValidationError(_("The file is larger than 20 MB."))
        else:
            raise ValidationError(_("Upload the ledger as .xlsx or .csv."))
        self.ledger_file = ledger_files.read_ledger(upload)
        return upload


# --- Site visits, rectifications, evaluations -----------------------------------------------------------------------


RATING_CHOICES = [(n, str(n)) for n in range(1, 6)]


class VisitForm(forms.Form):
    date = _date(_("Date of the visit"))
    people_met = forms.CharField(label=_("People met"), max_length=300)
    observations = _text(_("Observations"), rows=5, max_length=20000)
    rating = forms.TypedChoiceField(
        label=_("Rating (1–5)"), coerce=int, choices=RATING_CHOICES, widget=forms.RadioSelect
    )
    findings = _text(_("Findings"), rows=3, required=False, max_length=20000)
    photos = PhotosField(label=_("Photos"))


class RectificationItemForm(forms.Form):
    what = forms.CharField(label=_("What must be rectified"), max_length=2000)
    deadline = _date(_("Deadline"))
    owner = forms.CharField(label=_("Responsible person"), max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)


RectificationFormSet = formset_factory(
    RectificationItemForm, formset=RowFormSet, extra=3, max_num=3, validate_max=True, absolute_max=3
)


class AddRectificationForm(forms.Form):
    what = _text(_("What must be rectified"), rows=2, max_length=2000)
    deadline = _date(_("Deadline"))
    owner = forms.CharField(label=_("Responsible person"), max_length=100)


class AnswerForm(forms.Form):
    answer = _text(_("What was done"), rows=4, max_length=20000)
    evidence = forms.FileField(
        label=_("Evidence (optional)"), required=False, help_text=_("PDF, JPEG, PNG, DOCX or XLSX, at most 20 MB.")
    )

    def clean_evidence(self):
        upload = self.cleaned_data.get("evidence")
        if upload:
            validate_upload(upload)
        return upload


class RectificationReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Review decision"),
        widget=forms.RadioSelect,
        choices=[("close", _("Close: rectified")), ("reopen", _("Reopen: not rectified yet"))],
    )
    note = _text(_("Note (required when reopening)"), rows=2, required=False, max_length=2000)


class EvaluationForm(forms.Form):
    """One points field per criterion of the round's rubric for this kind of evaluation."""

    comment = _text(_("Comment"), rows=4, required=False, max_length=20000)
    override_reason = _text(
        _("Reason to hold it although something is missing (staff)"), rows=2, required=False, max_length=2000
    )

    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for c in self.criteria:
            most = Decimal(f"{c.max_points.normalize():f}")  # 40, not 40.0, in the messages
            field = forms.DecimalField(
                label=c.name,
                min_value=Decimal("0"),
                max_value=most,
                max_digits=5,
                decimal_places=2,
                help_text=_("0 to %(max)s points") % {"max": f"{c.max_points.normalize():f}"},
                widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
            )
            self.fields[f"c_{c.pk}"] = field
        self.order_fields([f"c_{c.pk}" for c in self.criteria] + ["comment", "override_reason"])

    def points(self):
        return {c: self.cleaned_data[f"c_{c.pk}"] for c in self.criteria}


EVALUATION_KINDS = EvaluationKind.values


# --- Public feedback -------------------------------------------------------------------------------------------------


class FeedbackForm(forms.Form):
    """Anonymous: no name, no contact. ``website`` is a honeypot (hidden from people, filled in by bots)."""

    rating = forms.TypedChoiceField(
        label=_("Your rating"), coerce=int, widget=forms.RadioSelect, choices=[(n, "★" * n) for n in range(5, 0, -1)]
    )
    comment = _text(_("Comment (optional)"), rows=4, required=False, max_length=1000)
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )


# --- Portfolio -------------------------------------------------------------------------------------------------------


class PortfolioFilterForm(forms.Form):
    round = forms.ModelChoiceField(
        label=_("Round"), queryset=Competition.objects.none(), required=False, empty_label=_("All rounds")
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["round"].queryset = (
            # the rounds with a funded project: IN rather than a join + DISTINCT over every column of the round
            Competition.objects.filter(pk__in=FundedProject.objects.values("competition_id")).order_by("-year", "title")
        )
        self.fields["status"].choices = [("", _("All statuses"))] + list(ProjectStatus.choices)
        style_widgets(self)
