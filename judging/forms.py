from django import forms
from django.utils.translation import gettext_lazy as _

from venture.accounts.models import User

from .models import Judge


class DeclarationForm(forms.Form):
    has_conflict = forms.TypedChoiceField(
        label=_("Conflict of interest"),
        widget=forms.RadioSelect,
        coerce=lambda v: v == "yes",
        choices=[
            ("no", _("I have no conflict of interest with this proposal or its organization.")),
            ("yes", _("I have a conflict of interest and recuse myself.")),
        ],
    )
    reason = forms.CharField(
        label=_("Describe the conflict (required when you recuse)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("has_conflict") and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Describe the conflict of interest."))
        return cleaned


class ScoreSheetForm(forms.Form):
    """One field per criterion (step and maximum from the round), a comment and the version for the stale check."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )

    def __init__(self, *args, criteria, step, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        whole = step == step.to_integral_value()
        for c in self.criteria:
            self.fields[f"c_{c.pk}"] = forms.DecimalField(
                # Range and step are checked by services.save_sheet, which says "between 0 and 25" in words.
                label=c.name,
                required=False,
                max_digits=6,
                # A phone opens its number pad: digits only on a whole-point scale, with a decimal point otherwise.
                widget=forms.NumberInput(
                    attrs={
                        "step": f"{step.normalize():f}",
                        "min": "0",
                        "max": f"{c.max_points.normalize():f}",
                        "inputmode": "numeric" if whole else "decimal",
                        "class": "form-control form-control-lg",
                        "data-weight": f"{c.weight.normalize():f}",
                        "data-max": f"{c.max_points.normalize():f}",
                    }
                ),
                error_messages={"invalid": _("Enter a number.")},
            )

    def points(self):
        return {c.pk: self.cleaned_data.get(f"c_{c.pk}") for c in self.criteria}


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class JudgeForm(forms.ModelForm):
    username = forms.SlugField(label=_("Username"), max_length=150)
    full_name = forms.CharField(label=_("Full name"), max_length=100)
    email = forms.EmailField(label=_("Email"))

    class Meta:
        model = Judge
        fields = ["title", "affiliation", "expertise", "phone", "other_affiliations"]
        widgets = {"other_affiliations": forms.Textarea(attrs={"rows": 3})}

    field_order = ["username", "full_name", "email", "title", "affiliation", "expertise", "phone", "other_affiliations"]

    def clean_username(self):
        value = self.cleaned_data["username"]
        if User.objects.filter(username=value).exists():
            raise forms.ValidationError(_("This username is taken."))
        return value


class PanelForm(forms.Form):
    judges = forms.ModelMultipleChoiceField(
        label=_("Judges"), queryset=Judge.objects.select_related("user"), widget=forms.CheckboxSelectMultiple
    )
    k = forms.IntegerField(label=_("Judges per proposal"), min_value=1, max_value=20, initial=3, required=False)
    seed = forms.IntegerField(
        label=_("Random seed (optional, for a reproducible assignment)"), required=False, min_value=0
    )
