from django.urls import path

from . import views

app_name = "competitions"
urlpatterns = [
    path("calls/", views.call_list, name="calls"),
    path("calls/<int:pk>/", views.call_detail, name="call"),
    path("rounds/", views.round_list, name="rounds"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
    path("rounds/<int:pk>/advance/", views.round_advance, name="advance"),
    path("rounds/new/", views.round_create, name="create"),
    path("rounds/<int:pk>/edit/", views.round_edit, name="edit"),
    path("rounds/<int:pk>/categories/", views.round_categories, name="categories"),
    path("rounds/<int:pk>/budget-rules/", views.round_budget_rules, name="budget_rules"),
    path("rounds/<int:pk>/tranches/", views.round_tranches, name="tranches"),
    path("rounds/<int:pk>/rubric/", views.round_rubric, name="rubric"),
    # One page per evaluation, so that each is a step of the set-up ("Save and continue" walks through them).
    path("rounds/<int:pk>/evaluation/midterm/", views.round_evaluation_rubric, {"kind": "midterm"},
         name="evaluation_midterm"),
    path("rounds/<int:pk>/evaluation/final/", views.round_evaluation_rubric, {"kind": "final"},
         name="evaluation_final"),
]
