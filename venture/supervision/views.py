"""全程督导 pages: the project workspace, progress reports, the expenditure ledger, site visits and rectifications,
evaluations, the portfolio dashboard and the public feedback page. Each view fetches, checks permission, validates
with a form, calls one service and redirects; the rules are in services, the reads in queries."""

import secrets
import uuid
from decimal import Decimal

import pandas as pd
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST
from django_tasks import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch

from venture import charts, permissions
from venture.audit.models import AuditEvent
from venture.audit.services import record
from venture.awards.models import GrantAgreement
from venture.errors import flash_error as _error
from venture.exports import dataframe_response
from venture.money import format_money
from venture.security import client_ip
from venture.uploads import serve

from . import queries, services
from .forms import (
    EVALUATION_KINDS,
    ActivityFormSet,
    AddRectificationForm,
    AnswerForm,
    AttachReceiptForm,
    BudgetRevisionForm,
    CloseOutForm,
    EvaluationForm,
    ExpenditureForm,
    FeedbackForm,
    LedgerImportForm,
    PortfolioFilterForm,
    ReasonForm,
    RectificationFormSet,
    RectificationReviewForm,
    RefundForm,
    ReleaseTrancheForm,
    ReportForm,
    ReversalForm,
    ReviewForm,
    SignAgreementForm,
    SupervisorsForm,
    VisitForm,
    activity_rows,
)
from .ledger_files import COLUMN_LABELS
from .models import (
    EvaluationKind,
    Expenditure,
    FundedProject,
    ProgressReport,
    Rectification,
    RectificationEvent,
    RectificationStatus,
    ReportPhoto,
    Tranche,
    VisitPhoto,
)
from .tasks import import_ledger_file

PROJECTS = FundedProject.objects.select_related("competition", "organization", "agreement")
REPORTS = ProgressReport.objects.select_related("project__competition", "project__organization", "reviewed_by")
RECTIFICATIONS = Rectification.objects.select_related("project__competition", "project__organization", "visit")
ZERO = Decimal("0")
LEDGER_FIELDS = ["date", "category", "item", "amount", "payee", "description", "voucher_no"]
INVOICE_FIELDS = ["invoice_code", "invoice_number", "payee_uscc"]  # optional columns of an import


def _ledger_headers(fields):
    """The columns as the template and the export head them in the UI language (日期 … or date …); the import reads
    either (ledger_files.LEDGER_COLUMNS)."""
    return [str(COLUMN_LABELS[f]) for f in fields]


FEEDBACK_COOKIE = "venture_feedback_device"


def _add_errors(form, exc):
    """A service's ValidationError onto the form: per field when it names one of the form's fields."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _project(request, pk, action="project.view"):
    return permissions.get_for(request.user, action, PROJECTS, pk=pk)


def _perms(user, project):
    return {name: permissions.can(user, f"project.{name}", project) for name in ("manage", "supervise", "write")}


# --- Agreement signed: open the workspace (from the awards page) ------------------------------------------------


@require_POST
@login_required
def sign(request, agreement_pk):
    agreement = permissions.get_for(
        request.user,
        "agreement.sign",
        GrantAgreement.objects.select_related("award__competition", "award__proposal__organization"),
        pk=agreement_pk,
    )
    form = SignAgreementForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the date the agreement was signed."))
        return redirect("awards:awards", competition_pk=agreement.award.competition_id)
    try:
        project = services.sign_agreement(
            agreement=agreement, signed_on=form.cleaned_data["signed_on"], by=request.user
        )
    except ValidationError as exc:
        _error(request, exc)
        return redirect("awards:awards", competition_pk=agreement.award.competition_id)
    messages.success(
        request, _("Agreement %(number)s signed; the project workspace is open.") % {"number": agreement.number}
    )
    return redirect(project)


# --- The project workspace ---------------------------------------------------------------------------------------


def _qr_svg(url):
    # segno writes only the module path and fixed attributes; the URL is encoded, never written out as markup.
    return mark_safe(
        segno.make(url, error="m").svg_inline(scale=4, title=_("QR code of the feedback page"), svgclass="qr-code")
    )


def _workspace(request, project, status=200, **forms):
    """The workspace page; a POST that failed validation passes its bound form to keep the input and show errors."""
    user, today = request.user, timezone.localdate()
    may = _perms(user, project)
    figures = queries.budget_figures(project, today)
    evaluations = list(project.evaluations.select_related("evaluator"))
    held = [(e.kind, e.passed) for e in evaluations]
    tranches = [
        (t, services.condition_met(t))
        for t in project.tranches.select_related("released_by").prefetch_related("releases")
    ]
    cumulative = queries.cumulative_spending(project)
    # The public address (printed on leaflets as a QR code), not whatever host this request came through.
    feedback_url = settings.SITE_URL.rstrip("/") + reverse("supervision:feedback", args=[project.feedback_token])
    # What can be recorded now, by the services' own predicates: a first evaluation, or a re-evaluation after a
    # reinstatement.
    evaluation_kinds = [
        {
            "value": kind.value,
            "label": _("%(kind)s: re-evaluation") % {"kind": kind.label}
            if services.next_attempt(project, kind, held) > 1
            else kind.label,
        }
        for kind in EvaluationKind
        if services.evaluation_refusal(project, kind, held, preconditions=False) is None
    ]
    final_passed = any(kind == EvaluationKind.FINAL and passed for kind, passed in held)
    context = {
        "project": project,
        "may": may,
        "today": today,
        **figures,
        "people": queries.people_served(project),
        "spending_chart": charts.line_chart(
            {
                _("Spent (cumulative)"): cumulative,
                _("Even pace over the period"): [(project.period_start, ZERO), (project.period_end, project.grant)],
            },
            title=_("Cumulative spending"),
            value_format=format_money,
        )
        if cumulative
        else None,
        "revisions": project.revisions.select_related("created_by"),
        "indicators": project.indicators.all(),
        "milestones": project.milestones.all(),
        "tranches": tranches,
        "reports": queries.project_reports(project, today),
        "visits": project.visits.select_related("supervisor").prefetch_related("photos"),
        "rectifications": queries.project_rectifications(project, today),
        "pending_receipts": services.pending_receipts_refusal(project),
        "evaluations": evaluations,
        "pass_mark": project.competition.evaluation_pass_mark,
        "evaluation_kinds": evaluation_kinds,
        "feedback": queries.feedback_summary(project),
        "feedback_url": feedback_url,
        "qr": _qr_svg(feedback_url),
        "supervisors": project.supervisors.order_by("full_name", "username"),
    }
    if may["manage"]:
        context.update(
            {
                "revise_form": forms.get("revise_form") or BudgetRevisionForm(lines=figures["lines"]),
                "supervisors_form": forms.get("supervisors_form")
                or SupervisorsForm(initial={"supervisors": list(context["supervisors"])}),
                # An action's form where its predicate allows it; a form that failed comes back bound with its errors.
                "release_forms": {
                    t.pk: (forms.get("release_form") if forms.get("release_tranche") == t.pk else None)
                    or ReleaseTrancheForm(prefix=f"t{t.pk}")
                    for t, met in tranches
                    if services.release_refusal(t, project, met) is None or forms.get("release_tranche") == t.pk
                },
                "reinstate_form": forms.get("reinstate_form")
                or (ReasonForm() if services.reinstate_refusal(project) is None else None),
                "closeout_form": forms.get("closeout_form")
                or (CloseOutForm() if services.close_refusal(project, final_passed) is None else None),
                "refund_form": forms.get("refund_form")
                or (
                    RefundForm(initial={"amount": project.refund_due})
                    if project.status == "closed" and not project.refund_on and project.refund_due > 0
                    else None
                ),
            }
        )
    if may["supervise"]:
        context["rectification_form"] = forms.get("rectification_form") or AddRectificationForm()
    return render(request, "venture/supervision/project.html", context, status=status)


@login_required
def project(request, pk):
    return _workspace(request, _project(request, pk))


def _workspace_post(request, project, form, action, *, success, failure=None, form_name, **page):
    """The shape of the workspace's POST views: a valid form calls one service (``action(form.cleaned_data)``), then
    the success message and back to the workspace; an invalid form or the service's ValidationError shows the
    workspace again (400) with the bound form, its errors in place (and ``failure`` as a message when given)."""
    if form.is_valid():
        try:
            result = action(form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, success(result) if callable(success) else success)
            return redirect(project)
    if failure:
        messages.error(request, failure)
    return _workspace(request, project, status=400, **{form_name: form}, **page)


@require_POST
@login_required
def supervisors(request, pk):
    project = _project(request, pk, "project.manage")
    return _workspace_post(
        request,
        project,
        SupervisorsForm(request.POST),
        lambda data: services.assign_supervisors(project=project, supervisors=data["supervisors"], by=request.user),
        success=_("Supervisors saved."),
        form_name="supervisors_form",
    )


@require_POST
@login_required
def revise(request, pk):
    project = _project(request, pk, "project.manage")
    form = BudgetRevisionForm(request.POST, lines=project.lines.select_related("category"))
    return _workspace_post(
        request,
        project,
        form,
        lambda data: services.revise_budget(
            project=project,
            by=request.user,
            kind=data["kind"],
            reason=data["reason"],
            amounts=form.amounts(),
            period_end=data["period_end"],
        ),
        success=lambda revision: _("Budget version %(n)s saved.") % {"n": revision.number},
        failure=_("The revision was not saved; see the budget section."),
        form_name="revise_form",
    )


@require_POST
@login_required
def release(request, pk):
    tranche = get_object_or_404(Tranche.objects.select_related("project"), pk=pk)
    project = _project(request, tranche.project_id, "project.manage")
    return _workspace_post(
        request,
        project,
        ReleaseTrancheForm(request.POST, prefix=f"t{tranche.pk}"),
        lambda data: services.release_tranche(
            tranche=tranche,
            released_on=data["released_on"],
            voucher_no=data["voucher_no"],
            amount=data["amount"],
            by=request.user,
            override_reason=data["override_reason"],
        ),
        success=lambda t: (
            _("Tranche %(n)s released.") % {"n": t.order}
            if t.released_on
            else _("Part of tranche %(n)s released; %(rest)s remains payable.")
            % {"n": t.order, "rest": format_money(t.remaining)}
        ),
        failure=_("The tranche was not released; see the tranches section."),
        form_name="release_form",
        release_tranche=tranche.pk,
    )


@require_POST
@login_required
def reinstate(request, pk):
    project = _project(request, pk, "project.manage")
    return _workspace_post(
        request,
        project,
        ReasonForm(request.POST),
        lambda data: services.reinstate(project=project, by=request.user, reason=data["reason"]),
        success=_("The project is under way again."),
        form_name="reinstate_form",
    )


@require_POST
@login_required
def close(request, pk):
    project = _project(request, pk, "project.manage")
    return _workspace_post(
        request,
        project,
        CloseOutForm(request.POST),
        lambda data: services.close_project(project=project, by=request.user, closeout_report=data["closeout_report"]),
        success=_("The project is closed."),
        form_name="closeout_form",
    )


@require_POST
@login_required
def refund(request, pk):
    project = _project(request, pk, "project.manage")
    return _workspace_post(
        request,
        project,
        RefundForm(request.POST),
        lambda data: services.record_refund(
            project=project,
            by=request.user,
            amount=data["amount"],
            received_on=data["received_on"],
            voucher_no=data["voucher_no"],
        ),
        success=_("Refund recorded."),
        form_name="refund_form",
    )


# --- Progress reports ------------------------------------------------------------------------------------------------


def _report_page(request, report, form=None, activities=None, review_form=None, status=200):
    project = report.project
    may = _perms(request.user, project)
    editable = may["write"] and report.open_to_write
    reviewable = may["supervise"] and report.open_to_review
    indicators = list(project.indicators.all())
    context = {
        "report": report,
        "project": project,
        "may": may,
        "editable": editable,
        "reviewable": reviewable,
        "activity_list": report.activities.all(),
        "progress": report.progress.select_related("indicator"),
        "photos": report.photos.all(),
        "overdue": report.pk in queries.overdue_report_ids(project),
    }
    if editable:
        context["form"] = form or ReportForm(
            indicators=indicators,
            initial={
                "narrative": report.narrative,
                "people_served": report.people_served or None,
                **{f"ind_{p.indicator_id}": p.value for p in context["progress"]},
            },
        )
        context["activities"] = activities or ActivityFormSet(
            prefix="activities",
            initial=[
                {k: getattr(a, k) for k in ("date", "place", "participants", "description")}
                for a in context["activity_list"]
            ],
        )
    if reviewable:
        context["review_form"] = review_form or ReviewForm()
    return render(request, "venture/supervision/report.html", context, status=status)


def _report(request, pk):
    report = get_object_or_404(REPORTS, pk=pk)
    permissions.require(request.user, "project.view", report.project)
    return report


@login_required
def report(request, pk):
    report = _report(request, pk)
    if request.method != "POST":
        return _report_page(request, report)
    permissions.require(request.user, "project.write", report.project)
    form = ReportForm(request.POST, request.FILES, indicators=report.project.indicators.all())
    activities = ActivityFormSet(request.POST, prefix="activities")
    if form.is_valid() and activities.is_valid():
        try:
            services.submit_report(
                report=report,
                by=request.user,
                narrative=form.cleaned_data["narrative"],
                people_served=form.cleaned_data["people_served"],
                activities=activity_rows(activities),
                progress=form.progress(),
                photos=form.cleaned_data["photos"],
            )
            messages.success(request, _("Report submitted; the supervisor will review it."))
            return redirect(report.project)
        except ValidationError as exc:
            _error(request, exc)
    messages.error(request, _("The report was not submitted; see the fields marked below. Attach the photos again."))
    return _report_page(request, report, form=form, activities=activities, status=400)


@require_POST
@login_required
def report_review(request, pk):
    report = _report(request, pk)
    permissions.require(request.user, "project.supervise", report.project)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_report(
                report=report,
                accept=form.cleaned_data["decision"] == "accept",
                note=form.cleaned_data["note"],
                by=request.user,
            )
            messages.success(request, _("Review saved."))
            return redirect(report.project)
        except ValidationError as exc:
            form.add_error("note", exc)
    return _report_page(request, report, review_form=form, status=400)


@login_required
def report_photo(request, pk):
    photo = get_object_or_404(ReportPhoto.objects.select_related("report__project"), pk=pk)
    permissions.require(request.user, "project.view", photo.report.project)
    return serve(photo.file)


# --- Ledger --------------------------------------------------------------------------------------------------------


LEDGER_VIEWS = {"pending", "after_close", "corrections"}


def _ledger_entries(project, show=None, line=None):
    """The ledger rows, or those an alert is about (``show``: pending receipts, entries after the close-out,
    corrections; ``line``: one approved line)."""
    entries = project.expenditures.all()
    if show == "pending":
        entries = services.pending_receipts(project)
    elif show == "after_close":
        entries = entries.filter(created_at__gt=project.closed_at) if project.closed_at else entries.none()
    elif show == "corrections":
        entries = entries.filter(Q(reverses__isnull=False) | Q(corrects__isnull=False) | Q(reversal__isnull=False))
    if line:
        entries = entries.filter(line_id=line)
    return entries.select_related("line", "category", "reverses", "corrects", "reversal")


def _ledger_page(request, project, form=None, import_form=None, import_report=None, status=200):
    may_write = permissions.can(request.user, "project.write", project)
    show = request.GET.get("show") if request.GET.get("show") in LEDGER_VIEWS else None
    line = request.GET.get("line") if (request.GET.get("line") or "").isdigit() else None
    entries = _ledger_entries(project, show, line).order_by("-date", "-id")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    writable = may_write and services.ledger_write_refusal(project) is None
    context = {
        "project": project,
        "page": page,
        "may_write": may_write,
        "show": show,
        "line_filter": line,
        "may_correct": writable,
        "reversal_form": ReversalForm(),
        "receipt_form": AttachReceiptForm(),
        "total": project.expenditures.aggregate(s=Sum("amount"))["s"] or ZERO,
        "threshold": project.competition.receipt_threshold,
        "import_report": import_report,
        "ledger_columns": pgettext("list separator", ", ").join(_ledger_headers(LEDGER_FIELDS)),
        "invoice_columns": pgettext("list separator", ", ").join(_ledger_headers(INVOICE_FIELDS)),
    }
    if may_write:
        context["form"] = form or ExpenditureForm(project=project, by=request.user)
        context["import_form"] = import_form or LedgerImportForm()
    return render(request, "venture/supervision/ledger.html", context, status=status)


@login_required
def ledger(request, pk):
    return _ledger_page(request, _project(request, pk))


@require_POST
@login_required
def ledger_add(request, pk):
    project = _project(request, pk, "project.write")
    form = ExpenditureForm(request.POST, request.FILES, project=project, by=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_expenditure(
                project=project,
                by=request.user,
                date=data["date"],
                line=data["line"],
                amount=data["amount"],
                payee=data["payee"],
                description=data["description"],
                voucher_no=data["voucher_no"],
                receipt=data["receipt"],
                invoice_kind=data["invoice_kind"],
                invoice_code=data["invoice_code"],
                invoice_number=data["invoice_number"],
                payee_uscc=data["payee_uscc"],
                staff_reason=data.get("staff_reason", ""),
            )
            messages.success(request, _("Entry recorded."))
            return redirect("supervision:ledger", pk=project.pk)
        except ValidationError as exc:
            _add_errors(form, exc)
    messages.error(request, _("Nothing was saved; correct the fields marked below."))
    return _ledger_page(request, project, form=form, status=400)


@require_POST
@login_required
def ledger_import(request, pk):
    project = _project(request, pk, "project.write")
    form = LedgerImportForm(request.POST, request.FILES)
    if form.is_valid() and len(form.ledger_file.rows) > settings.LEDGER_IMPORT_BACKGROUND_ROWS:
        return _import_in_background(request, project, form)
    if form.is_valid():
        try:
            entries, report = services.import_ledger(project=project, ledger_file=form.ledger_file, by=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if entries:
                messages.success(request, _("%(n)s entries imported.") % {"n": len(entries)})
                return redirect("supervision:ledger", pk=project.pk)
            messages.error(
                request,
                _(
                    "Nothing was imported: %(bad)s problems in %(all)s rows. Correct them "
                    "and upload the whole file again."
                )
                % {"bad": report.problems, "all": report.rows},
            )
            return _ledger_page(request, project, import_form=form, status=400, import_report=report)
    messages.error(request, _("Nothing was imported."))
    return _ledger_page(request, project, import_form=form, status=400)


def _import_in_background(request, project, form):
    """A large file (over LEDGER_IMPORT_BACKGROUND_ROWS rows) is kept in the media storage and imported by the worker
    (``tasks.import_ledger_file``); the user waits on the import's status page."""
    upload = form.cleaned_data["file"]
    path = default_storage.save(f"ledger-imports/{project.pk}/{uuid.uuid4().hex}-{upload.name}", upload)
    result = import_ledger_file.enqueue(
        project_id=project.pk,
        path=path,
        name=upload.name,
        by_id=request.user.pk,
        queued_at=timezone.now().isoformat(),
        language=translation.get_language(),
    )
    if result.is_finished:  # a backend that runs tasks at once (the tests'): the outcome is here already
        return _import_outcome(request, project, result)
    return redirect("supervision:ledger_import_status", pk=project.pk, task_id=result.id)


def _import_outcome(request, project, result):
    if result.status != TaskResultStatus.SUCCESSFUL:
        messages.error(request, _("The import failed; nothing was imported. Staff can see why and run it again."))
        return redirect("supervision:ledger", pk=project.pk)
    outcome = result.return_value
    if outcome.get("errors"):
        for message in outcome["errors"]:
            messages.error(request, message)
        return redirect("supervision:ledger", pk=project.pk)
    if outcome["imported"]:
        messages.success(request, _("%(n)s entries imported.") % {"n": outcome["imported"]})
        return redirect("supervision:ledger", pk=project.pk)
    messages.error(
        request,
        _("Nothing was imported: %(bad)s problems in %(all)s rows. Correct them and upload the whole file again.")
        % {"bad": outcome["problems"], "all": outcome["rows"]},
    )
    report = services.ImportReport(rows=outcome["rows"], problems=outcome["problems"], failed=outcome["failed"])
    return _ledger_page(request, project, status=400, import_report=report)


@login_required
def ledger_import_status(request, pk, task_id):
    """Where the user waits for a large import: reloads itself until the worker is done, then shows the outcome as
    a small file's import would. Only the project's writers, and only an import of this project (else 404)."""
    project = _project(request, pk, "project.write")
    try:
        result = import_ledger_file.get_result(str(task_id))
    except (TaskResultDoesNotExist, TaskResultMismatch, NotImplementedError) as exc:
        # NotImplementedError: a backend that keeps no results (the immediate one of tests and ``make dev``)
        raise Http404 from exc
    if result.kwargs.get("project_id") != project.pk:
        raise Http404
    if result.is_finished:
        return _import_outcome(request, project, result)
    response = render(request, "venture/supervision/ledger_import_wait.html", {"project": project}, status=202)
    response["Refresh"] = "3"
    return response


def _entry(request, pk):
    entry = get_object_or_404(
        Expenditure.objects.select_related("project__competition", "project__organization", "line", "category"), pk=pk
    )
    permissions.require(request.user, "project.write", entry.project)
    return entry


CORRECTED_FIELDS = (
    "date",
    "line",
    "amount",
    "payee",
    "payee_uscc",
    "description",
    "voucher_no",
    "receipt",
    "invoice_kind",
    "invoice_code",
    "invoice_number",
)


@login_required
def ledger_correct(request, pk):
    """红冲: reverse an entry with the reason, and (optionally) record the corrected entry in its place."""
    entry = _entry(request, pk)
    project = entry.project
    form = ReversalForm(request.POST or None)
    corrected = ExpenditureForm(
        request.POST or None,
        request.FILES or None,
        project=project,
        by=request.user,
        replacing=entry,
        prefix="new",
        initial={
            "date": entry.date,
            "line": entry.line_id,
            "amount": entry.amount,
            "payee": entry.payee,
            "payee_uscc": entry.payee_uscc,
            "description": entry.description,
            "voucher_no": entry.voucher_no,
            "invoice_kind": entry.invoice_kind,
            "invoice_code": entry.invoice_code,
            "invoice_number": entry.invoice_number,
        },
    )
    refusal = services.reversal_refusal(entry)
    if request.method == "POST" and form.is_valid():
        with_corrected = form.cleaned_data["with_corrected"]
        if not with_corrected or corrected.is_valid():
            data = corrected.cleaned_data if with_corrected else None
            try:
                services.reverse_expenditure(
                    entry=entry,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    corrected={k: data[k] for k in CORRECTED_FIELDS} if data else None,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Entry reversed.")
                    if not with_corrected
                    else _("Entry reversed and the corrected entry recorded."),
                )
                return redirect(reverse("supervision:ledger", args=[project.pk]) + "?show=corrections")
    return render(
        request,
        "venture/supervision/ledger_correct.html",
        {"project": project, "entry": entry, "form": form, "corrected": corrected, "refusal": refusal},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def ledger_receipt(request, pk):
    """Attach the receipt of a "receipt pending" entry afterwards."""
    entry = _entry(request, pk)
    form = AttachReceiptForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_receipt(entry=entry, by=request.user, receipt=form.cleaned_data["receipt"])
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Receipt attached."))
            return redirect("supervision:ledger", pk=entry.project_id)
    else:
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
    return _ledger_page(request, entry.project, status=400)


@login_required
def duplicate_invoices(request, pk):
    """The refused attempts to claim an invoice already claimed (the audit trail's ``ledger.duplicate_invoice``)."""
    project = _project(request, pk, "project.supervise")
    events = (
        AuditEvent.objects.filter(
            action=queries.DUPLICATE_INVOICE_ACTION, object_type="supervision.fundedproject", object_id=str(project.pk)
        )
        .select_related("actor")
        .order_by("-at", "-id")
    )
    return render(request, "venture/supervision/duplicate_invoices.html", {"project": project, "events": events})


@login_required
def ledger_template(request, pk):
    project = _project(request, pk)
    approved = pgettext("ledger column", "Approved amount")
    lines = pd.DataFrame(
        [(line.category.name, line.item, line.amount) for line in project.lines.select_related("category")],
        columns=[*_ledger_headers(["category", "item"]), approved],
    )
    return dataframe_response(
        {
            _("Ledger"): pd.DataFrame(columns=_ledger_headers(LEDGER_FIELDS + INVOICE_FIELDS)),
            _("Budget lines"): lines,
        },
        filename=_("Ledger template-%(project)s") % {"project": project.title},
        money_columns=[approved],
    )


@login_required
def ledger_export(request, pk):
    project = _project(request, pk)
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    rows = project.expenditures.order_by("date", "id").values_list(
        "date",
        "category__name",
        "line__item",
        "amount",
        "payee",
        "description",
        "voucher_no",
        "invoice_code",
        "invoice_number",
        "payee_uscc",
        "receipt",
        "pk",
        "reverses_id",
        "corrects_id",
        "correction_reason",
    )
    frame = pd.DataFrame(
        [
            (
                *r[:10],
                _("yes") if r[10] else _("no"),
                r[11],
                _("reversal of entry %(n)s") % {"n": r[12]}
                if r[12]
                else _("correction of entry %(n)s") % {"n": r[13]}
                if r[13]
                else "",
                r[14],
            )
            for r in rows
        ],
        columns=[
            *_ledger_headers(LEDGER_FIELDS + INVOICE_FIELDS),
            _("Receipt"),
            _("Entry no."),
            _("Correction"),
            _("Reason"),
        ],
    )
    response = dataframe_response(
        frame,
        filename=_("Ledger-%(project)s") % {"project": project.title},
        fmt=fmt,
        sheet_name=_("Ledger"),
        money_columns=_ledger_headers(["amount"]),
    )
    record(actor=request.user, action="export.ledger", obj=project, after={"format": fmt, "rows": len(frame)})
    return response


@login_required
def receipt(request, pk):
    entry = get_object_or_404(Expenditure.objects.select_related("project"), pk=pk)
    permissions.require(request.user, "project.view", entry.project)
    if not entry.receipt:
        raise Http404
    return serve(entry.receipt)


# --- Site visits and rectifications ------------------------------------------------------------------------------


@login_required
def visit_new(request, pk):
    project = _project(request, pk, "project.supervise")
    form = VisitForm(request.POST or None, request.FILES or None)
    items = RectificationFormSet(request.POST or None, prefix="items")
    if request.method == "POST":
        if form.is_valid() and items.is_valid():
            data = form.cleaned_data
            try:
                services.record_visit(
                    project=project,
                    by=request.user,
                    date=data["date"],
                    people_met=data["people_met"],
                    observations=data["observations"],
                    rating=data["rating"],
                    findings=data["findings"],
                    rectifications=items.rows(),
                    photos=data["photos"],
                )
                messages.success(request, _("Site visit recorded."))
                return redirect(project)
            except ValidationError as exc:
                _add_errors(form, exc)
        messages.error(request, _("The visit was not saved; see the fields marked below. Attach the photos again."))
    return render(
        request,
        "venture/supervision/visit_form.html",
        {"project": project, "form": form, "items": items},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def visit_photo(request, pk):
    photo = get_object_or_404(VisitPhoto.objects.select_related("visit__project"), pk=pk)
    permissions.require(request.user, "project.view", photo.visit.project)
    return serve(photo.file)


@require_POST
@login_required
def rectification_add(request, pk):
    project = _project(request, pk, "project.supervise")
    return _workspace_post(
        request,
        project,
        AddRectificationForm(request.POST),
        lambda data: services.add_rectification(project=project, by=request.user, **data),
        success=_("Rectification item added."),
        form_name="rectification_form",
    )


def _rectification(request, pk):
    item = get_object_or_404(RECTIFICATIONS, pk=pk)
    permissions.require(request.user, "project.view", item.project)
    return item


def _rectification_page(request, item, answer_form=None, review_form=None, status=200):
    may = _perms(request.user, item.project)
    context = {
        "item": item,
        "project": item.project,
        "may": may,
        "late": item.pk in queries.late_rectification_ids(item.project),
        "events": item.events.select_related("by"),
    }
    if may["write"] and item.status == RectificationStatus.OPEN:
        context["answer_form"] = answer_form or AnswerForm()
    if may["supervise"] and item.status == RectificationStatus.ANSWERED:
        context["review_form"] = review_form or RectificationReviewForm()
    return render(request, "venture/supervision/rectification.html", context, status=status)


@login_required
def rectification(request, pk):
    return _rectification_page(request, _rectification(request, pk))


@require_POST
@login_required
def rectification_answer(request, pk):
    item = _rectification(request, pk)
    permissions.require(request.user, "project.write", item.project)
    form = AnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.answer_rectification(
                item=item, by=request.user, answer=form.cleaned_data["answer"], evidence=form.cleaned_data["evidence"]
            )
            messages.success(request, _("Answer sent; the supervisor will check it."))
            return redirect("supervision:rectification", pk=item.pk)
        except ValidationError as exc:
            _add_errors(form, exc)
    return _rectification_page(request, item, answer_form=form, status=400)


@require_POST
@login_required
def rectification_review(request, pk):
    item = _rectification(request, pk)
    permissions.require(request.user, "project.supervise", item.project)
    form = RectificationReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_rectification(
                item=item,
                by=request.user,
                close=form.cleaned_data["decision"] == "close",
                note=form.cleaned_data["note"],
            )
            messages.success(request, _("Review saved."))
            return redirect("supervision:rectification", pk=item.pk)
        except ValidationError as exc:
            form.add_error("note", exc)
    return _rectification_page(request, item, review_form=form, status=400)


@login_required
def rectification_evidence(request, pk):
    item = _rectification(request, pk)
    if not item.evidence:
        raise Http404
    return serve(item.evidence)


@login_required
def rectification_event_evidence(request, pk):
    event = get_object_or_404(RectificationEvent.objects.select_related("rectification__project"), pk=pk)
    permissions.require(request.user, "project.view", event.rectification.project)
    if not event.evidence:
        raise Http404
    return serve(event.evidence)


# --- Evaluations -----------------------------------------------------------------------------------------------------


@login_required
def evaluation_new(request, pk, kind):
    project = _project(request, pk, "project.supervise")
    if kind not in EVALUATION_KINDS:
        raise Http404
    criteria = list(project.competition.evaluation_criteria.filter(kind=kind))
    form = EvaluationForm(request.POST or None, criteria=criteria)
    held = list(project.evaluations.values_list("kind", "passed"))
    refusal = services.evaluation_refusal(project, kind, held, preconditions=False)
    missing = [] if refusal else services.evaluation_missing(project, kind)
    may_override = permissions.is_staff(request.user)
    if not may_override:
        form.fields.pop("override_reason")
    attempt = None if refusal else services.next_attempt(project, kind, held)
    if request.method == "POST" and form.is_valid():
        try:
            evaluation = services.evaluate(
                project=project,
                kind=kind,
                by=request.user,
                points=form.points(),
                comment=form.cleaned_data["comment"],
                override_reason=form.cleaned_data.get("override_reason", ""),
            )
            if evaluation.passed:
                messages.success(
                    request,
                    _("%(kind)s: %(total)s points, passed (pass mark %(mark)s).")
                    % {
                        "kind": evaluation.get_kind_display(),
                        "total": evaluation.total,
                        "mark": project.competition.evaluation_pass_mark,
                    },
                )
            else:
                messages.warning(
                    request,
                    _(
                        "%(kind)s: %(total)s points, failed (pass mark %(mark)s). The project is "
                        "suspended and its next tranche stopped."
                    )
                    % {
                        "kind": evaluation.get_kind_display(),
                        "total": evaluation.total,
                        "mark": project.competition.evaluation_pass_mark,
                    },
                )
            return redirect(project)
        except ValidationError as exc:
            _add_errors(form, exc)
    return render(
        request,
        "venture/supervision/evaluation_form.html",
        {
            "project": project,
            "form": form,
            "kind": EvaluationKind(kind),
            "criteria": criteria,
            "attempt": attempt,
            "refusal": refusal,
            "missing": missing,
            "may_override": may_override,
            "pass_mark": project.competition.evaluation_pass_mark,
            "scale": sum((c.max_points for c in criteria), ZERO),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Portfolio ---------------------------------------------------------------------------------------------------


PORTFOLIO_PAGE = 50  # projects a page


@login_required
def portfolio(request):
    """Every funded project the filters match, 50 a page: the totals, the summaries by status and by round and the
    charts are over all of them (summed in the database), the rows (spent, alerts, ...) are built for the page shown
    only. The export has every matching project."""
    permissions.require(request.user, "portfolio.view")
    form = PortfolioFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    supervisor = request.user if permissions.is_supervisor(request.user) else None
    projects = queries.portfolio_projects(
        competition=filters.get("round"),
        status=filters.get("status") or None,
        q=filters.get("q") or None,
        supervisor=supervisor,
    )
    today = timezone.localdate()
    if request.GET.get("export") in ("xlsx", "csv"):
        return _portfolio_export(request, queries.portfolio_rows(projects, today), request.GET["export"])
    summary = queries.portfolio_summary(projects, today)
    paginator = Paginator(projects.values_list("pk", flat=True), PORTFOLIO_PAGE)
    paginator.count = summary["all"].count  # known already: no COUNT query
    page = paginator.get_page(request.GET.get("page"))
    rows = queries.portfolio_rows(projects.filter(pk__in=page.object_list), today)
    totals = queries.portfolio_category_totals(projects)
    monthly = queries.portfolio_monthly_totals(projects)
    query = request.GET.copy()
    query.pop("export", None)
    query.pop("page", None)
    return render(
        request,
        "venture/supervision/portfolio.html",
        {
            "form": form,
            "rows": rows,
            "page": page,
            "summary": summary,
            # each status and round links to the portfolio filtered by it, the other filters kept
            "summary_sections": [
                (_("By status"), [(g, _filter_link(query, "status", g.key)) for g in summary["by_status"]]),
                (_("By round"), [(g, _filter_link(query, "round", g.key)) for g in summary["by_round"]]),
            ],
            "query": query.urlencode(),
            "category_totals": totals,
            "monthly_totals": monthly,
            "category_chart": charts.grouped_bars(
                [name for name, _a, _s in totals],
                {_("Approved budget"): [a for _n, a, _s in totals], _("Spent"): [s for _n, _a, s in totals]},
                title=_("Budget and spending by category, every matching project"),
                value_format=format_money,
            ),
            "monthly_chart": charts.line_chart(
                {_("Spent per month"): monthly},
                title=_("Monthly spending"),
                value_format=format_money,
                x_format=lambda d: d.strftime("%Y-%m"),
            ),
        },
    )


def _filter_link(query, name, value):
    """The portfolio's address with one filter set to ``value``, the others kept, back on page 1."""
    query = query.copy()
    query[name] = value
    return "?" + query.urlencode()


def _portfolio_export(request, rows, fmt):
    labels = {
        "round": _("Round"),
        "project": _("Project"),
        "organization": _("Organization"),
        "status": _("Status"),
        "grant": _("Grant (yuan)"),
        "released": _("Released (yuan)"),
        "spent": _("Spent (yuan)"),
        "spent_share": _("Spent (%)"),
        "elapsed_share": _("Time elapsed (%)"),
        "people": _("People served (accepted reports)"),  # two headings that both read 服务人数 were one too many
        "people_target": _("People to serve (target)"),
        "open_rectifications": _("Open rectifications"),
        "overdue": _("Overdue reports"),
        "alerts": _("Alerts"),
    }
    frame = pd.DataFrame(
        [
            {
                "round": r["project"].competition.title,
                "project": r["project"].title,
                "organization": r["project"].organization.name,
                "status": r["project"].get_status_display(),
                "grant": r["grant"],
                "released": r["released"],
                "spent": r["spent"],
                "spent_share": r["spent_share"].quantize(Decimal("0.1")),
                "elapsed_share": r["elapsed_share"].quantize(Decimal("0.1")),
                "people": r["people"],
                "people_target": r["people_target"],
                "open_rectifications": r["open_rectifications"],
                "overdue": r["overdue"],
                "alerts": "\n".join(a.message for a in r["alerts"]),
            }
            for r in rows
        ],
        columns=list(labels),
    ).rename(columns=labels)
    response = dataframe_response(
        frame,
        filename=f"督导总览-{timezone.localdate().isoformat()}",
        fmt=fmt,
        sheet_name=_("Portfolio"),
        money_columns=[labels["grant"], labels["released"], labels["spent"]],
    )
    record(actor=request.user, action="export.portfolio", after={"format": fmt, "rows": len(frame)})
    return response


# --- Public beneficiary feedback ---------------------------------------------------------------------------------


def feedback(request, token):
    """Public, no login, anonymous: a worker who was served rates the project. Nothing identifying is stored."""
    project = get_object_or_404(FundedProject.objects.select_related("organization"), feedback_token=token)
    form = FeedbackForm(request.POST or None)
    # The device: a random id in a signed cookie (a year), so that workers sharing a venue's network each count.
    device = request.get_signed_cookie(FEEDBACK_COOKIE, default=None, salt=FEEDBACK_COOKIE)
    new_device = device is None
    device = device or secrets.token_urlsafe(16)
    response = None
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:  # a bot filled in the honeypot: answer as if accepted, store nothing
            return redirect(reverse("supervision:feedback", args=[token]) + "?thanks=1")
        try:
            services.submit_feedback(
                project=project,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                ip=client_ip(request),
                device=device,
            )
            response = redirect(reverse("supervision:feedback", args=[token]) + "?thanks=1")
        except ValidationError as exc:
            _add_errors(form, exc)
    if response is None:
        response = render(
            request,
            "venture/supervision/feedback.html",
            {"project": project, "form": form, "thanks": request.method == "GET" and request.GET.get("thanks") == "1"},
            status=400 if request.method == "POST" else 200,
        )
    if new_device:
        response.set_signed_cookie(
            FEEDBACK_COOKIE,
            device,
            salt=FEEDBACK_COOKIE,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response
