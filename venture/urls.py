from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from venture.accounts import two_factor_views
from venture.accounts import views as account_views
from venture.audit import views as audit_views

handler403 = "venture.errors.permission_denied"
handler404 = "venture.errors.page_not_found"
handler500 = "venture.errors.server_error"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/signup/", account_views.sign_up, name="signup"),
    path("accounts/two-factor/", two_factor_views.setup, name="two_factor_setup"),
    path("accounts/two-factor/verify/", two_factor_views.verify, name="two_factor_verify"),
    path("accounts/two-factor/reset/<int:pk>/", two_factor_views.reset, name="two_factor_reset"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path("accounts/password/reset/", account_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="accounts/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("i18n/setlang/", set_language, name="set_language"),
    path("audit/", audit_views.event_list, name="audit"),
    path("audit/export.csv", audit_views.export_csv, name="audit_export"),
    path("organizations/", include("venture.organizations.urls")),
    path("", include("venture.competitions.urls")),
    path("proposals/", include("venture.proposals.urls")),
    path("screening/", include("venture.screening.urls")),
    path("judging/", include("judging.urls")),
    path("results/", include("venture.awards.urls")),
    path("documents/", include("venture.documents.urls")),
    path("supervision/", include("venture.supervision.urls")),
    path("admin/", admin.site.urls),
]
