from django.urls import path

from . import views

app_name = "organizations"
urlpatterns = [
    path("", views.organization_list, name="list"),
    path("new/", views.organization_create, name="create"),
    path("<int:pk>/", views.organization_detail, name="detail"),
    path("<int:pk>/edit/", views.organization_edit, name="edit"),
    path("<int:pk>/verify/", views.organization_verify, name="verify"),
    path("<int:pk>/reject/", views.organization_reject, name="reject"),
    path("<int:pk>/resubmit/", views.organization_resubmit, name="resubmit"),
    path("<int:pk>/invite/", views.organization_invite, name="invite"),
    path("<int:pk>/certificate/", views.organization_certificate, name="certificate"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
]
