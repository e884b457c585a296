import datetime
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from venture.uploads import validate_upload
from venture.validators import validate_money

from .models import Award, AwardGrade, AwardStatus


class AwardForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount (yuan)"),
        validators=[validate_money],
        error_messages={"invalid": _("Enter an amount in yuan, for example 12800.50.")},
    )
    grade = forms.ModelChoiceField(label=_("Grade"), queryset=AwardGrade.objects.none(), required=False)

    def __init__(self, *args, competition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].queryset = competition.grades.all()


class PublishForm(forms.Form):
    # An <input type="date"> shows only an ISO value; the zh-hans default format (2026/06/01) would leave it blank.
    starts_on = forms.DateField(
        label=_("Notice starts on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    text = forms.CharField(label=_("Notice text"), required=False, widget=forms.Textarea(attrs={"rows": 4}))


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the change (kept on record)"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Give the reason for reopening the notice."))
        return reason


class ObjectionForm(forms.Form):
    """Public form. ``website`` is a honeypot: people never see it, bots fill it in."""

    award = forms.ModelChoiceField(label=_("Project concerned"), queryset=Award.objects.none(), required=False)
    name = forms.CharField(label=_("Your name"), max_length=100)
    contact = forms.CharField(label=_("Phone or e-mail"), max_length=100)
    text = forms.CharField(
        label=_("Your objection and its grounds"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000
    )
    attachment = forms.FileField(
        label=_("Evidence (optional)"), required=False, help_text=_("PDF, JPEG or PNG, at most 20 MB.")
    )
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, competition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["award"].queryset = Award.objects.filter(
            competition=competition, status=AwardStatus.OFFERED
        ).select_related("proposal")
        self.fields["award"].label_from_instance = lambda a: a.proposal.title

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload:
            validate_upload(upload, allowed=("pdf", "jpg", "jpeg", "png"))
        return upload


class HandleForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision on the objection"), choices=[("dismissed", _("Dismiss")), ("upheld", _("Uphold"))]
    )
    outcome = forms.CharField(label=_("Outcome (published)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


_DATE = r"(\d{4})-(\d{1,2})-(\d{1,2})"
_LINE = re.compile(rf"^{_DATE}(?:\s*(?:~|～|至|–|—|到)\s*{_DATE})?\s*(.*)$")


def parse_days(text):
    """Lines as the State Council's notice reads: "2027-02-06 至 2027-02-13 春节" (a range) or "2027-02-20 春节调休"
    (one day), the name optional → [(date, name)]. Raises ValidationError naming the first line it cannot read."""
    days = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _LINE.match(line)
        try:
            if not match:
                raise ValueError(line)
            first = datetime.date(*map(int, match.group(1, 2, 3)))
            last = datetime.date(*map(int, match.group(4, 5, 6))) if match.group(4) else first
        except ValueError:
            raise forms.ValidationError(
                _("Line %(n)s: “%(line)s” is not a date (2027-01-01) or a range (2027-02-06 – 2027-02-13).")
                % {"n": number, "line": line}
            ) from None
        if last < first or (last - first).days > 31:
            raise forms.ValidationError(_("Line %(n)s: the range runs backwards or is too long.") % {"n": number})
        name = match.group(7).strip()
        days += [(first + datetime.timedelta(days=i), name) for i in range((last - first).days + 1)]
    return days


class StatutoryYearForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    holidays = forms.CharField(
        label=_("Holidays (days off)"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 8, "placeholder": _("2027-01-01 New Year's Day\n2027-02-06 – 2027-02-13 Spring Festival")}
        ),
        help_text=_("One date or range per line, with the holiday's name, as in the State Council's notice."),
    )
    workdays = forms.CharField(
        label=_("Make-up workdays (weekend days worked)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("2027-02-20 Spring Festival make-up workday")}),
    )

    def clean_holidays(self):
        return parse_days(self.cleaned_data["holidays"])

    def clean_workdays(self):
        return parse_days(self.cleaned_data["workdays"])
