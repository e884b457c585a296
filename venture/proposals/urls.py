from django.urls import path

from . import views

app_name = "proposals"
urlpatterns = [
    path("start/<int:competition_pk>/", views.proposal_start, name="create"),
    path("start/<int:competition_pk>/from/<int:pk>/", views.proposal_reuse, name="reuse"),
    path("round/<int:competition_pk>/", views.proposal_list, name="list"),
    path("<int:pk>/", views.proposal_detail, name="detail"),
    path("<int:pk>/edit/", views.proposal_edit, name="edit"),
    path("<int:pk>/submit/", views.proposal_submit, name="submit"),
    path("<int:pk>/autosave/", views.proposal_autosave, name="autosave"),
    path("<int:pk>/place-lines/", views.place_lines, name="place_lines"),
    path("<int:pk>/withdraw/", views.proposal_withdraw, name="withdraw"),
    path("<int:pk>/return/", views.proposal_return, name="return"),
    path("<int:pk>/attachments/", views.attachment_add, name="attachment_add"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment_delete"),
]
