from django.urls import path

from . import views

app_name = "supervision"
urlpatterns = [
    # Staff, auditor; supervisors see their own projects
    path("portfolio/", views.portfolio, name="portfolio"),
    # From the awards page: the signed agreement opens the workspace (staff)
    path("agreements/<int:agreement_pk>/sign/", views.sign, name="sign"),
    # The project workspace and its staff actions
    path("projects/<int:pk>/", views.project, name="project"),
    path("projects/<int:pk>/supervisors/", views.supervisors, name="supervisors"),
    path("projects/<int:pk>/revise/", views.revise, name="revise"),
    path("projects/<int:pk>/reinstate/", views.reinstate, name="reinstate"),
    path("projects/<int:pk>/close/", views.close, name="close"),
    path("projects/<int:pk>/refund/", views.refund, name="refund"),
    path("tranches/<int:pk>/release/", views.release, name="release"),
    # Ledger
    path("projects/<int:pk>/ledger/", views.ledger, name="ledger"),
    path("projects/<int:pk>/ledger/add/", views.ledger_add, name="ledger_add"),
    path("projects/<int:pk>/ledger/import/", views.ledger_import, name="ledger_import"),
    path("projects/<int:pk>/ledger/import/<uuid:task_id>/", views.ledger_import_status, name="ledger_import_status"),
    path("projects/<int:pk>/ledger/template.xlsx", views.ledger_template, name="ledger_template"),
    path("projects/<int:pk>/ledger/export/", views.ledger_export, name="ledger_export"),
    path("receipts/<int:pk>/", views.receipt, name="receipt"),
    path("expenditures/<int:pk>/correct/", views.ledger_correct, name="ledger_correct"),
    path("expenditures/<int:pk>/receipt/", views.ledger_receipt, name="ledger_receipt"),
    path("projects/<int:pk>/duplicate-invoices/", views.duplicate_invoices, name="duplicate_invoices"),
    # Progress reports
    path("reports/<int:pk>/", views.report, name="report"),
    path("reports/<int:pk>/review/", views.report_review, name="report_review"),
    path("report-photos/<int:pk>/", views.report_photo, name="report_photo"),
    # Site visits, rectifications, evaluations (supervisors)
    path("projects/<int:pk>/visits/new/", views.visit_new, name="visit_new"),
    path("visit-photos/<int:pk>/", views.visit_photo, name="visit_photo"),
    path("projects/<int:pk>/rectifications/add/", views.rectification_add, name="rectification_add"),
    path("rectifications/<int:pk>/", views.rectification, name="rectification"),
    path("rectifications/<int:pk>/answer/", views.rectification_answer, name="rectification_answer"),
    path("rectifications/<int:pk>/review/", views.rectification_review, name="rectification_review"),
    path("rectifications/<int:pk>/evidence/", views.rectification_evidence, name="rectification_evidence"),
    path(
        "rectification-events/<int:pk>/evidence/",
        views.rectification_event_evidence,
        name="rectification_event_evidence",
    ),
    path("projects/<int:pk>/evaluations/<str:kind>/", views.evaluation_new, name="evaluation_new"),
    # Public, no login
    path("feedback/<str:token>/", views.feedback, name="feedback"),
]
