from django.urls import path

from . import views

app_name = "awards"
urlpatterns = [
    # Awards and the public notice (staff)
    path("calendar/", views.statutory_calendar, name="calendar"),
    path("round/<int:competition_pk>/awards/", views.awards, name="awards"),
    path("round/<int:competition_pk>/awards/propose/", views.propose, name="propose"),
    path("round/<int:competition_pk>/awards/grades/", views.grades, name="grades"),
    path("awards/<int:pk>/edit/", views.award_edit, name="award_edit"),
    path("round/<int:competition_pk>/awards/add/", views.award_add, name="award_add"),
    path("round/<int:competition_pk>/notice/publish/", views.notice_publish, name="notice_publish"),
    path("round/<int:competition_pk>/notice/close/", views.notice_close, name="notice_close"),
    path("round/<int:competition_pk>/notice/reopen/", views.notice_reopen, name="notice_reopen"),
    path("objections/<int:pk>/handle/", views.objection_handle, name="objection_handle"),
    # Public, no login
    path("notice/<int:competition_pk>/", views.notice, name="notice"),
    path("notice/<int:competition_pk>/objection/", views.objection_form, name="objection"),
    # Applicant
    path("result/<int:proposal_pk>/", views.my_result, name="my_result"),
]
