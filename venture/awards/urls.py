from django.urls import path

from . import results_views, views

app_name = "awards"
urlpatterns = [
    # Results (staff, auditor): ranking, diagnostics, freeze, verify, sign-off
    path("round/<int:competition_pk>/results/", results_views.results, name="results"),
    path("round/<int:competition_pk>/results/freeze/", results_views.freeze, name="freeze"),
    path("round/<int:competition_pk>/results/verify/", results_views.verify_view, name="verify"),
    path("round/<int:competition_pk>/results/sign-off/", results_views.sign_off_view, name="sign_off"),
    path("round/<int:competition_pk>/results/unlock/<int:sheet_pk>/", results_views.unlock, name="unlock"),
    path("round/<int:competition_pk>/results/report.pdf", results_views.report_pdf, name="report_pdf"),
    # Awards and the public notice (staff)
    path("round/<int:competition_pk>/awards/", views.awards, name="awards"),
    path("round/<int:competition_pk>/awards/propose/", views.propose, name="propose"),
    path("round/<int:competition_pk>/awards/grades/", views.grades, name="grades"),
    path("awards/<int:pk>/edit/", views.award_edit, name="award_edit"),
    path("round/<int:competition_pk>/awards/add/", views.award_add, name="award_add"),
    path("round/<int:competition_pk>/notice/publish/", views.notice_publish, name="notice_publish"),
    path("round/<int:competition_pk>/notice/close/", views.notice_close, name="notice_close"),
    path("objections/<int:pk>/handle/", views.objection_handle, name="objection_handle"),
    # Public, no login
    path("notice/<int:competition_pk>/", views.notice, name="notice"),
    path("notice/<int:competition_pk>/objection/", views.objection_form, name="objection"),
    # Applicant
    path("result/<int:proposal_pk>/", views.my_result, name="my_result"),
]
