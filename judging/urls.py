from django.urls import include, path

from . import views

app_name = "judging"
urlpatterns = [
    path("assignments/<int:pk>/declare/", views.declare, name="declare"),
    path("assignments/<int:pk>/sheet/", views.score_sheet, name="sheet"),
    path("sheets/<int:pk>/unlock/", views.unlock, name="unlock"),
    path("judges/", views.judge_list, name="judges"),
    path("judges/new/", views.judge_create, name="judge_create"),
    path("round/<int:competition_pk>/panel/<str:stage>/", views.panel, name="panel"),
    path("round/<int:competition_pk>/conflicts/", views.conflict_register, name="conflicts"),
    path("conflicts/<int:pk>/override/", views.conflict_override, name="override"),
    path("round/<int:competition_pk>/<str:stage>/ranking/", views.provisional_ranking, name="ranking"),
    path("", include("judging.roadshow_urls")),
]
