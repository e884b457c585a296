from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    # PDFs
    path("proposals/<int:pk>/application.pdf", views.application_book, name="application_book"),
    path("round/<int:competition_pk>/finalists.pdf", views.finalists_book, name="finalists_book"),
    path("round/<int:competition_pk>/score-sheet.pdf", views.blank_score_sheet, name="blank_sheet"),
    path("assignments/<int:pk>/score-sheet.pdf", views.filled_score_sheet, name="filled_sheet"),
    path("round/<int:competition_pk>/signed-sheets.pdf", views.signed_sheet_bundle, name="sheet_bundle"),
    path("notice/<int:competition_pk>/notice.pdf", views.notice_pdf, name="notice"),  # public, no login
    path("awards/<int:award_pk>/agreement.pdf", views.agreement_pdf, name="agreement"),
    path("round/<int:competition_pk>/guide.pdf", views.round_guide, name="guide"),  # public once the call is
    path("round/<int:competition_pk>/budget-template/", views.budget_template, name="budget_template"),
    path("manual/<str:language>/<slug:role>.pdf", views.manual_pdf, name="manual"),  # applicant chapter public
    # Spreadsheets: xlsx, or csv with ?format=csv
    path("round/<int:competition_pk>/proposals/export/", views.proposals_export, name="proposals"),
    path("round/<int:competition_pk>/scores/export/", views.scores_export, name="scores"),
    path("round/<int:competition_pk>/ranking/export/", views.ranking_export, name="ranking"),
]

# PDFs that keep the address and the name they have beside their stage's pages: the root URLconf mounts these into
# the results and the supervision namespaces (results:report_pdf, supervision:report_pdf), so the stages' apps need
# not import this one (documents sits above them all).
results_urlpatterns = [
    path("results/round/<int:competition_pk>/results/report.pdf", views.results_report_pdf, name="report_pdf"),
]
supervision_urlpatterns = [
    path("projects/<int:pk>/report.pdf", views.supervision_report_pdf, name="report_pdf"),
]
