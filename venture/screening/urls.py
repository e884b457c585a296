from django.urls import path

from . import views

app_name = "screening"
urlpatterns = [
    path("round/<int:competition_pk>/", views.screening_list, name="list"),
    path("round/<int:competition_pk>/bulk/", views.screening_bulk, name="bulk"),
    path("round/<int:competition_pk>/checklist/", views.checklist, name="checklist"),
    path("proposal/<int:pk>/", views.screening_detail, name="detail"),
]
