from django.urls import path

from . import roadshow_views as views

urlpatterns = [
    path("round/<int:competition_pk>/<str:stage>/board/", views.live_board, name="board"),
    path("round/<int:competition_pk>/<str:stage>/board/cells/", views.live_board_cells, name="board_cells"),
    path("round/<int:competition_pk>/<str:stage>/progress/", views.progress_page, name="progress"),
    path("round/<int:competition_pk>/<str:stage>/remind/", views.remind, name="remind"),
    path("round/<int:competition_pk>/roadshow/", views.roadshow_control, name="roadshow"),
    path("round/<int:competition_pk>/roadshow/projector/", views.projector, name="projector"),
    path("round/<int:competition_pk>/roadshow/projector/state/", views.projector_state, name="projector_state"),
    path("round/<int:competition_pk>/roadshow/hall/", views.hall_board, name="hall_board"),
    path("round/<int:competition_pk>/roadshow/hall/cells/", views.hall_board_cells, name="hall_board_cells"),
    path("round/<int:competition_pk>/roadshow/day/", views.day_state, name="day_state"),
]
