"""The calls and the set-up steps this app owns. venture/urls.py puts them in the ``competitions`` namespace together
with the round overview pages (venture.home) and the rubric steps (judging, venture.supervision), which keep their
``competitions:`` names but live with the app that owns them."""

from django.urls import path

from . import views

urlpatterns = [
    path("calls/", views.call_list, name="calls"),
    path("calls/<int:pk>/", views.call_detail, name="call"),
    path("rounds/<int:pk>/advance/", views.round_advance, name="advance"),
    path("rounds/new/", views.round_create, name="create"),
    path("rounds/<int:pk>/edit/", views.round_edit, name="edit"),
    path("rounds/<int:pk>/copy/", views.round_copy, name="copy"),
    path("rounds/<int:pk>/categories/", views.round_categories, name="categories"),
    path("rounds/<int:pk>/budget-rules/", views.round_budget_rules, name="budget_rules"),
    path("rounds/<int:pk>/tranches/", views.round_tranches, name="tranches"),
]
