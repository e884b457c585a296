from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from venture.validators import normalize_mobile, validate_mobile


class LoginForm(AuthenticationForm):
    """Django's login form. Throttling is django-axes' (venture.accounts.throttle), on every authenticate() call."""


class SignUpForm(forms.ModelForm):
    """An applicant creates their own account; they then register their organization (or accept an invitation)."""

    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    class Meta:
        model = get_user_model()
        fields = ["username", "full_name", "email", "mobile"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["full_name"].required = True

    def clean_mobile(self):
        value = self.cleaned_data.get("mobile", "")
        if value:
            validate_mobile(value)
        return normalize_mobile(value)

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            user = get_user_model()(
                username=cleaned.get("username"), email=cleaned.get("email"), full_name=cleaned.get("full_name", "")
            )
            try:
                password_validation.validate_password(p1, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned
