from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from judging import rubric_urls
from venture.accounts import two_factor_views
from venture.accounts import views as account_views
from venture.audit import views as audit_views
from venture.competitions import urls as competition_urls
from venture.documents import urls as document_urls
from venture.home import urls as home_urls
from venture.home import views as home_views
from venture.results import urls as results_urls
from venture.supervision import evaluation_rubric_urls
from venture.supervision import urls as supervision_urls

handler403 = "venture.errors.permission_denied"
handler404 = "venture.errors.page_not_found"
handler500 = "venture.errors.server_error"


def with_documents(urls, documents):
    """A stage's URLs with the PDFs venture.documents serves beside them, in the stage's namespace."""
    return include((urls.urlpatterns + documents, urls.app_name))


# The competitions namespace: the calls and the round's set-up steps. The round overview pages and the rubric steps
# live with the apps that own what they show (home, judging, supervision) and keep their ``competitions:`` names.
COMPETITION_PATTERNS = (
    [
        *competition_urls.urlpatterns,
        *home_urls.round_patterns,
        *rubric_urls.urlpatterns,
        *evaluation_rubric_urls.urlpatterns,
    ],
    "competitions",
)

urlpatterns = [
    path("", home_views.home, name="home"),
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
    path("tasks/", include("venture.background.urls")),
    path("organizations/", include("venture.organizations.urls")),
    path("", include(COMPETITION_PATTERNS)),
    path("proposals/", include("venture.proposals.urls")),
    path("screening/", include("venture.screening.urls")),
    path("judging/", include("judging.urls")),
    path("", with_documents(results_urls, document_urls.results_urlpatterns)),
    path("results/", include("venture.awards.urls")),
    path("documents/", include("venture.documents.urls")),
    path("help/", include("venture.help.urls")),
    path("supervision/", with_documents(supervision_urls, document_urls.supervision_urlpatterns)),
    path("notifications/", include("venture.notifications.urls")),
    path("admin/", admin.site.urls),
]
