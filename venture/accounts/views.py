from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from venture import permissions
from venture.accounts.models import Role

from .forms import LoginForm
from .queries import applicant_home, auditor_home, judge_home, staff_home, supervisor_home


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with the lookup, the token and the mail done after the response has gone out, so the
    response takes the same time whether or not the address has an account (the page says the same either way)."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"

    def form_valid(self, form):
        from django.http import HttpResponseRedirect

        from venture.deferred import after_response

        options = {
            "use_https": self.request.is_secure(), "token_generator": self.token_generator,
            "from_email": self.from_email, "email_template_name": self.email_template_name,
            "subject_template_name": self.subject_template_name, "request": self.request,
            "html_email_template_name": self.html_email_template_name,
            "extra_email_context": self.extra_email_context,
        }
        return after_response(HttpResponseRedirect(self.get_success_url()), lambda: form.save(**options))


HOMES = {
    Role.APPLICANT: ("home.applicant", applicant_home, "venture/home/applicant.html"),
    Role.JUDGE: ("home.judge", judge_home, "venture/home/judge.html"),
    Role.STAFF: ("home.staff", staff_home, "venture/home/staff.html"),
    Role.SUPERVISOR: ("home.supervisor", supervisor_home, "venture/home/supervisor.html"),
    Role.AUDITOR: ("home.auditor", auditor_home, "venture/home/auditor.html"),
}


@login_required
def home(request):
    role = Role.STAFF if request.user.is_superuser else request.user.role
    action, query, template = HOMES[role]
    permissions.require(request.user, action)
    return render(request, template, query(request.user))


def sign_up(request):
    from django.contrib import messages
    from django.contrib.auth import login
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from .forms import SignUpForm
    from .services import sign_up_applicant

    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = sign_up_applicant(username=data["username"], full_name=data["full_name"], email=data["email"],
                                 mobile=data["mobile"], password=data["password1"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Register your organization next."))
        next_url = request.GET.get("next")
        from django.utils.http import url_has_allowed_host_and_scheme

        if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            return redirect(next_url)
        return redirect("organizations:create")
    return render(request, "accounts/signup.html", {"form": form})
