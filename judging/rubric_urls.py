"""The rubric step of a round's set-up. venture/urls.py puts this pattern in the competitions namespace, beside the
other set-up steps, so its name stays ``competitions:rubric``."""

from django.urls import path

from . import rubric_views

urlpatterns = [
    path("rounds/<int:pk>/rubric/", rubric_views.round_rubric, name="rubric"),
]
