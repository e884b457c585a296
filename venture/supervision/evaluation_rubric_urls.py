"""The evaluation rubric steps of a round's set-up. venture/urls.py puts these patterns in the competitions
namespace, beside the other set-up steps, so their names stay ``competitions:evaluation_midterm`` and
``competitions:evaluation_final``."""

from django.urls import path

from . import evaluation_rubric_views

urlpatterns = [
    # One page per evaluation, so that each is a step of the set-up ("Save and continue" walks through them).
    path(
        "rounds/<int:pk>/evaluation/midterm/",
        evaluation_rubric_views.round_evaluation_rubric,
        {"kind": "midterm"},
        name="evaluation_midterm",
    ),
    path(
        "rounds/<int:pk>/evaluation/final/",
        evaluation_rubric_views.round_evaluation_rubric,
        {"kind": "final"},
        name="evaluation_final",
    ),
]
