from django.urls import path

from . import views

app_name = "background"
urlpatterns = [
    path("failed/", views.failed, name="failed"),
    path("failed/<uuid:pk>/retry/", views.retry, name="retry"),
]
