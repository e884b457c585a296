"""Two-factor pages: enrolment (QR code, then the backup codes once), verification at sign-in, and the recovery of
another member's second factor by a staff member (with a reason, audited)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token

from venture import permissions

from . import two_factor


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class ResetForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500)


def _next(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """Enrol an authenticator app. A user already enrolled must have verified this session to enrol again."""
    if two_factor.is_enrolled(request.user) and not request.user.is_verified():
        return redirect("two_factor_verify")
    device = two_factor.pending_device(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = two_factor.confirm_enrolment(user=request.user, device=device, token=form.cleaned_data["token"])
        if result is None:
            form.add_error("token", _("That code is not right. Check the time on your phone and try the new code."))
        else:
            confirmed, codes = result
            otp_login(request, confirmed)
            request.session[two_factor.SESSION_PENDING] = False
            return render(request, "accounts/two_factor_codes.html", {"codes": codes, "next": _next(request, "")})
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr": two_factor.qr_svg(device),
            "secret": two_factor.secret_base32(device),
            "required": two_factor.required_for(request.user),
            "enrolled": two_factor.is_enrolled(request.user),
            "next": _next(request, ""),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    if not two_factor.is_enrolled(request.user):
        return redirect("two_factor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is None:
            form.add_error("token", _("That code is not right, or it has been used already."))
        else:
            otp_login(request, device)
            request.session[two_factor.SESSION_PENDING] = False
            return redirect(_next(request))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next(request, "")})


@login_required
@require_http_methods(["GET", "POST"])
def reset(request, pk):
    """Staff remove another member's authenticator and backup codes (lost phone); they enrol again at sign-in."""
    member = permissions.get_for(request.user, "account.reset_two_factor", get_user_model().objects.all(), pk=pk)
    form = ResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        two_factor.reset_two_factor(user=member, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(
            request,
            _("Two-factor sign-in reset for %(name)s; they enrol again at their next sign-in.")
            % {"name": member.display_name},
        )
        return redirect("home")
    return render(
        request,
        "accounts/two_factor_reset.html",
        {"form": form, "member": member, "enrolled": two_factor.is_enrolled(member)},
    )
