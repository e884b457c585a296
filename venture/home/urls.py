"""The round overview pages. They keep their names in the competitions namespace (``competitions:rounds``,
``competitions:round``): venture/urls.py puts these patterns there."""

from django.urls import path

from . import views

round_patterns = [
    path("rounds/", views.round_list, name="rounds"),
    path("rounds/<int:pk>/", views.round_detail, name="round"),
]
