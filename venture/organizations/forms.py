from django import forms
from django.utils.translation import gettext_lazy as _

from venture.uploads import validate_upload
from venture.validators import normalize_mobile, validate_mobile, validate_uscc

from .models import Organization


class OrganizationForm(forms.ModelForm):
    # People type numbers with spaces or +86; the form accepts that and stores the 11 digits.
    mobile = forms.CharField(label=_("Mobile number"), max_length=20)

    class Meta:
        model = Organization
        fields = [
            "name",
            "uscc",
            "org_type",
            "registration_authority",
            "registration_date",
            "legal_representative",
            "contact_person",
            "mobile",
            "email",
            "address",
            "bank_account_name",
            "bank_name",
            "bank_account_number",
            "service_area",
            "staff_count",
            "past_projects",
            "certificate",
        ]
        widgets = {
            "registration_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "past_projects": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "uscc": _("18 characters, as printed on the registration certificate."),
            "bank_account_name": _(
                "The grant is paid into this account; it is printed on the grant agreement, and an agreement "
                "already issued keeps the account it was issued with."
            ),
            "bank_name": _("The bank and the branch where the account is held."),
        }

    def clean_bank_account_number(self):
        return "".join((self.cleaned_data.get("bank_account_number") or "").split())

    def clean_uscc(self):
        value = (self.cleaned_data.get("uscc") or "").strip().upper().replace(" ", "")
        value = validate_uscc(value)
        clash = Organization.objects.filter(uscc=value).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(
                _("An organization with this unified social credit code is already registered."), code="duplicate"
            )
        return value

    def clean_mobile(self):
        value = self.cleaned_data.get("mobile", "")
        validate_mobile(value)
        return normalize_mobile(value)

    def clean_certificate(self):
        upload = self.cleaned_data.get("certificate")
        if upload and hasattr(upload, "content_type"):
            validate_upload(upload, allowed=("pdf", "jpg", "jpeg", "png"))
        return upload


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
