from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge/", views.badge, name="badge"),
    path("<int:pk>/read/", views.read, name="read"),
    path("read-all/", views.read_all, name="read_all"),
    path("rounds/<int:competition_pk>/", views.round_settings, name="round"),
    path("rounds/<int:competition_pk>/test/", views.round_test, name="round_test"),
]
