from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .forms import LoginForm, SignUpForm
from .services import sign_up_applicant
from .tasks import RESET_TEMPLATES, send_password_reset


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, but the request only enqueues ``tasks.send_password_reset`` (the lookup, the token and
    the mail happen in the worker), so the response does the same work and takes the same time whether or not the
    address has an account (the page says the same either way)."""

    template_name = "accounts/password_reset.html"
    email_template_name = RESET_TEMPLATES["email_template_name"]
    subject_template_name = RESET_TEMPLATES["subject_template_name"]

    def form_valid(self, form):
        send_password_reset.enqueue(
            email=form.cleaned_data["email"],
            domain=self.request.get_host(),
            use_https=self.request.is_secure(),
            language=translation.get_language(),
        )
        return HttpResponseRedirect(self.get_success_url())


def sign_up(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = sign_up_applicant(
            username=data["username"],
            full_name=data["full_name"],
            email=data["email"],
            mobile=data["mobile"],
            password=data["password1"],
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Register your organization next."))
        next_url = request.GET.get("next")
        if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            return redirect(next_url)
        return redirect("organizations:create")
    return render(request, "accounts/signup.html", {"form": form})
