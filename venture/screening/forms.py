from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ChecklistItem


class ChecklistForm(forms.Form):
    """One pass/fail + note per configured check, then the decision."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        widget=forms.RadioSelect,
        choices=[("", _("Not decided yet")), ("eligible", _("Eligible")), ("ineligible", _("Ineligible"))],
    )
    reason = forms.CharField(
        label=_(
            "Reason (shown to the applicant; needed when ineligible, when passing with a failed or "
            "unchecked item, and when changing an earlier decision)"
        ),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )

    def __init__(self, *args, items, results, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            previous = results.get(item.pk)
            self.fields[f"pass_{item.pk}"] = forms.ChoiceField(
                label=item.text,
                required=False,
                widget=forms.RadioSelect,
                choices=[("", _("Not checked")), ("1", _("Pass")), ("0", _("Fail"))],
                initial="" if previous is None else ("1" if previous.passed else "0"),
            )
            self.fields[f"note_{item.pk}"] = forms.CharField(
                label=_("Note"), required=False, max_length=500, initial=previous.note if previous else ""
            )

    def results(self):
        out = {}
        for item in self.items:
            value = self.cleaned_data.get(f"pass_{item.pk}")
            if value in ("0", "1"):
                out[item] = (value == "1", self.cleaned_data.get(f"note_{item.pk}", ""))
        return out

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "ineligible" and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Give the reason for the ineligible decision; the applicant will see it."))
        return cleaned


class BulkForm(forms.Form):
    decision = forms.ChoiceField(choices=[("eligible", _("Eligible")), ("ineligible", _("Ineligible"))])
    reason = forms.CharField(required=False, max_length=2000)
    proposals = forms.ModelMultipleChoiceField(queryset=None)

    def __init__(self, *args, competition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposals"].queryset = competition.proposals.order_by("title", "pk")  # the order of the report


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["text", "order"]
