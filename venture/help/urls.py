from django.urls import path

from . import views

app_name = "help"
urlpatterns = [
    path("", views.index, name="index"),
    path("how-we-judge/", views.explainer, name="explainer"),
    path("<slug:role>/", views.chapter, name="chapter"),
]
