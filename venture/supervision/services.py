"""Every write in supervision: one transaction, the state checked, the audit event written."""

import datetime
import hashlib
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import DataError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from venture.accounts.models import Role
from venture.audit.services import record
from venture.competitions.models import TrancheCondition
from venture.money import format_money
from venture.organizations.models import Membership, OrgStatus

from . import expenditure_rules, ledger
from .models import (
    PROJECT_TRANSITIONS,
    RECTIFICATION_TRANSITIONS,
    REPORT_TRANSITIONS,
    ApprovedLine,
    BudgetRevision,
    Evaluation,
    EvaluationKind,
    Expenditure,
    Feedback,
    FundedProject,
    IndicatorProgress,
    LedgerImport,
    ProgressReport,
    ProjectIndicator,
    ProjectMilestone,
    ProjectStatus,
    Rectification,
    RectificationStatus,
    ReportActivity,
    ReportPhoto,
    ReportStatus,
    RevisionKind,
    SiteVisit,
    Tranche,
)

CENT = Decimal("0.01")
REPORT_GRACE_DAYS = 10


def _money(x):
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def _transition(table, current, to, what):
    if to not in table[current]:
        raise ValidationError(
            _("%(what)s cannot go from “%(from)s” to “%(to)s”.") % {"what": what, "from": current.label, "to": to.label}
        )


# --- The workspace --------------------------------------------------------------------------------------------------


def report_periods(start, end, frequency):
    """(period start, period end) pairs covering start..end by calendar months or quarters."""
    step = 1 if frequency == "monthly" else 3
    periods, cur = [], start
    while cur <= end:
        month = cur.month - 1 + step
        nxt = datetime.date(cur.year + month // 12, month % 12 + 1, 1)
        if frequency != "monthly":  # align quarters to calendar quarters after the first
            q_month = ((cur.month - 1) // 3 + 1) * 3
            nxt = datetime.date(cur.year + q_month // 12, q_month % 12 + 1, 1)
        periods.append((cur, min(end, nxt - datetime.timedelta(days=1))))
        cur = nxt
    return periods


@transaction.atomic
def sign_agreement(*, agreement, signed_on, by):
    """The agreement is signed: open the funded project's workspace from it (budget, indicators, milestones,
    tranches, report schedule)."""
    award = agreement.award
    proposal = award.proposal
    if hasattr(agreement, "project"):
        raise ValidationError(_("This agreement has already been signed."))
    if proposal.organization.status != OrgStatus.VERIFIED:
        raise ValidationError(
            _(
                "The organization's identity changed and waits for verification; sign the agreement "
                "once union staff have verified it again."
            )
        )
    competition = award.competition
    project = FundedProject.objects.create(
        agreement=agreement,
        competition=competition,
        proposal=proposal,
        organization=proposal.organization,
        title=proposal.title,
        grant=agreement.amount,
        signed_on=signed_on,
        period_start=agreement.period_start,
        period_end=agreement.period_end,
        people_target=proposal.people_to_serve or 0,
    )
    # Approved lines: the proposal's lines, scaled when the award is smaller than the request.
    lines = list(proposal.budget_lines.select_related("category").order_by("category__order", "id"))
    requested = sum((line.amount for line in lines), Decimal("0"))
    ratio = (agreement.amount / requested) if requested else Decimal("1")
    approved, allotted = [], Decimal("0")
    for i, line in enumerate(lines):
        amount = agreement.amount - allotted if i == len(lines) - 1 else _money(line.amount * ratio)
        allotted += amount
        approved.append(ApprovedLine(project=project, category=line.category, item=line.item, amount=amount))
    ApprovedLine.objects.bulk_create(approved)
    BudgetRevision.objects.create(
        project=project,
        number=1,
        kind=RevisionKind.INITIAL,
        created_by=by,
        period_end=project.period_end,
        lines=_lines_json(project),
    )
    ProjectIndicator.objects.bulk_create(
        [
            ProjectIndicator(project=project, name=i.name, target=i.target, unit=i.unit)
            for i in proposal.indicators.all()
        ]
    )
    ProjectMilestone.objects.bulk_create(
        [ProjectMilestone(project=project, date=m.date, title=m.title) for m in proposal.milestones.all()]
    )
    Tranche.objects.bulk_create(
        [
            Tranche(
                project=project,
                order=t["order"],
                percent=Decimal(t["percent"]),
                amount=Decimal(t["amount"]),
                condition=t["condition"],
            )
            for t in agreement.tranches
        ]
    )
    ProgressReport.objects.bulk_create(
        [
            ProgressReport(
                project=project, period_start=a, period_end=b, due_on=b + datetime.timedelta(days=REPORT_GRACE_DAYS)
            )
            for a, b in report_periods(project.period_start, project.period_end, competition.report_frequency)
        ]
    )
    record(
        actor=by,
        action="project.open",
        obj=project,
        after={"agreement": agreement.number, "grant": agreement.amount, "signed_on": signed_on},
    )
    return project


def _lines_json(project):
    return [
        {"line": line.pk, "category": line.category.name, "item": line.item, "amount": f"{line.amount:.2f}"}
        for line in project.lines.select_related("category").order_by("category__order", "id")
    ]


@transaction.atomic
def revise_budget(*, project, by, kind, reason, amounts, period_end=None):
    """A budget revision (amounts per line, same total) or a no-cost extension (new end date). Earlier versions
    stay in BudgetRevision."""
    project = FundedProject.objects.select_for_update().get(pk=project.pk)
    if not reason.strip():
        raise ValidationError(_("Give the reason for the revision."))
    lines = {line.pk: line for line in project.lines.all()}
    new_total = Decimal("0")
    for pk, line in lines.items():
        amount = _money(amounts.get(pk, line.amount))
        if amount < 0:
            raise ValidationError(_("A budget line cannot be negative."))
        if amount < line.spent:
            raise ValidationError(
                _("“%(item)s” has already spent %(spent)s; it cannot be cut below that.")
                % {"item": line.item, "spent": format_money(line.spent)}
            )
        new_total += amount
    if new_total != project.grant:
        raise ValidationError(
            _("The revised lines add up to %(total)s; they must add up to the grant, %(grant)s.")
            % {"total": format_money(new_total), "grant": format_money(project.grant)}
        )
    if kind == RevisionKind.EXTENSION:
        if period_end is None or period_end <= project.period_end:
            raise ValidationError(_("A no-cost extension moves the end date later."))
        project.period_end = period_end
        project.save(update_fields=["period_end"])
    for pk, line in lines.items():
        if pk in amounts:
            line.amount = _money(amounts[pk])
            line.save(update_fields=["amount"])
    number = project.revisions.count() + 1
    revision = BudgetRevision.objects.create(
        project=project,
        number=number,
        kind=kind,
        reason=reason,
        lines=_lines_json(project),
        period_end=project.period_end,
        created_by=by,
    )
    record(
        actor=by,
        action=f"project.revise.{kind}",
        obj=project,
        note=reason,
        after={"version": number, "period_end": project.period_end},
    )
    return revision


@transaction.atomic
def assign_supervisors(*, project, supervisors, by):
    """The supervisors (role supervisor) who visit and evaluate the project; replaces the previous set."""

    supervisors = list(supervisors)
    if any(u.role != Role.SUPERVISOR for u in supervisors):
        raise ValidationError(_("Only supervisor accounts can supervise a project."))
    before = sorted(project.supervisors.values_list("username", flat=True))
    if before == sorted(u.username for u in supervisors):
        return project  # nothing changes, nothing is recorded
    project.supervisors.set(supervisors)
    record(
        actor=by,
        action="project.supervisors",
        obj=project,
        before={"supervisors": before},
        after={"supervisors": sorted(u.username for u in supervisors)},
    )
    return project


# --- Tranches -------------------------------------------------------------------------------------------------------


def condition_met(tranche):
    kinds = {TrancheCondition.MIDTERM: EvaluationKind.MIDTERM, TrancheCondition.FINAL: EvaluationKind.FINAL}
    if tranche.condition == TrancheCondition.SIGNING:
        return True
    return Evaluation.objects.filter(project=tranche.project, kind=kinds[tranche.condition], passed=True).exists()


@transaction.atomic
def release_tranche(*, tranche, released_on, voucher_no, by, amount=None):
    tranche = Tranche.objects.select_for_update(of=("self",)).select_related("project").get(pk=tranche.pk)
    project = tranche.project
    if reason := release_refusal(tranche, project):
        raise ValidationError(reason)
    if not voucher_no.strip():
        raise ValidationError(_("Enter the payment voucher number."))
    amount = _money(amount if amount is not None else tranche.amount)
    if amount <= 0 or amount > tranche.amount:
        raise ValidationError(_("Release between ¥0.01 and %(max)s.") % {"max": format_money(tranche.amount)})
    try:
        with transaction.atomic():
            # The database refuses a released total above the grant (CheckConstraint), whatever runs concurrently.
            FundedProject.objects.filter(pk=project.pk).update(released_total=F("released_total") + amount)
    except IntegrityError as exc:
        raise ValidationError(_("This release would exceed the grant.")) from exc
    tranche.released_on, tranche.released_amount, tranche.voucher_no, tranche.released_by = (
        released_on,
        amount,
        voucher_no,
        by,
    )
    tranche.save()
    record(
        actor=by,
        action="tranche.release",
        obj=project,
        after={"tranche": tranche.order, "amount": amount, "voucher": voucher_no, "on": released_on},
    )
    return tranche


# --- Progress reports -------------------------------------------------------------------------------------------------


@transaction.atomic
def submit_report(*, report, by, narrative, people_served, activities, progress, photos=()):
    """activities: [{"date","place","participants","description"}]; progress: {ProjectIndicator: value}."""
    report = ProgressReport.objects.select_for_update(of=("self",)).select_related("project").get(pk=report.pk)
    _transition(REPORT_TRANSITIONS, ReportStatus(report.status), ReportStatus.SUBMITTED, _("A report"))
    if not narrative.strip():
        raise ValidationError(_("Describe what was done in the period."))
    report.activities.all().delete()
    ReportActivity.objects.bulk_create([ReportActivity(report=report, **a) for a in activities])
    report.progress.all().delete()
    IndicatorProgress.objects.bulk_create(
        [IndicatorProgress(report=report, indicator=i, value=v) for i, v in progress.items() if v is not None]
    )
    for upload in photos:
        ReportPhoto.objects.create(report=report, file=upload, caption=upload.name[:200])
    report.narrative, report.people_served = narrative, people_served
    report.status, report.submitted_at = ReportStatus.SUBMITTED, timezone.now()
    report.save()
    record(
        actor=by,
        action="report.submit",
        obj=report.project,
        after={
            "period": [report.period_start, report.period_end],
            "people": people_served,
            "activities": len(activities),
        },
    )
    return report


@transaction.atomic
def review_report(*, report, accept, note, by):
    report = ProgressReport.objects.select_for_update(of=("self",)).select_related("project").get(pk=report.pk)
    to = ReportStatus.ACCEPTED if accept else ReportStatus.CHANGES
    _transition(REPORT_TRANSITIONS, ReportStatus(report.status), to, _("A report"))
    if not accept and not note.strip():
        raise ValidationError(_("Say what should change."))
    report.status, report.review_note, report.reviewed_by = to, note, by
    report.save()
    if accept:  # indicator progress counts once the report is accepted
        for p in report.progress.select_related("indicator"):
            ProjectIndicator.objects.filter(pk=p.indicator_id).update(achieved=F("achieved") + p.value)
    record(actor=by, action=f"report.{to}", obj=report.project, note=note)
    return report


REMINDER_HORIZON_DAYS = 7


def reports_to_remind(today=None, horizon=REMINDER_HORIZON_DAYS, every=None):
    """Reports still to be written (or changed) of active projects that are overdue or due within ``horizon`` days;
    with ``every`` (days), leave out those reminded more recently than that."""
    today = today or timezone.localdate()
    reports = ProgressReport.objects.filter(
        status__in=[ReportStatus.DUE, ReportStatus.CHANGES],
        due_on__lte=today + datetime.timedelta(days=horizon),
        project__status=ProjectStatus.ACTIVE,
    )
    if every:
        since = timezone.now() - datetime.timedelta(days=every)
        reports = reports.filter(Q(reminded_at__isnull=True) | Q(reminded_at__lt=since))
    return reports.select_related("project__organization").order_by("project__organization_id", "due_on", "id")


def send_report_reminders(*, today=None, dry_run=False, horizon=REMINDER_HORIZON_DAYS, every=None):
    """One e-mail per organization listing its overdue reports and those due within ``horizon`` days, to its members
    (the organization's own address when no member has one); sets ``reminded_at``. Returns
    [(organization, recipients, reports)] — what was sent, or with ``dry_run`` what would be, sending nothing."""

    today = today or timezone.localdate()
    by_org: dict[int, list[ProgressReport]] = {}
    for report in reports_to_remind(today, horizon, every):
        by_org.setdefault(report.project.organization_id, []).append(report)
    emails: dict[int, list[str]] = {}
    for m in (
        Membership.objects.filter(organization_id__in=by_org, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__username")
    ):
        emails.setdefault(m.organization_id, []).append(m.user.email)
    sent = []
    for org_id, reports in by_org.items():
        organization = reports[0].project.organization
        recipients = emails.get(org_id) or ([organization.email] if organization.email else [])
        if not recipients:
            continue
        if not dry_run:
            lines = []
            for r in reports:
                state = _("OVERDUE") if r.due_on < today else _("due")
                lines.append(
                    _("- %(project)s: report for %(start)s to %(end)s, %(state)s on %(due)s")
                    % {
                        "project": r.project.title,
                        "start": r.period_start.isoformat(),
                        "end": r.period_end.isoformat(),
                        "state": state,
                        "due": r.due_on.isoformat(),
                    }
                )
            body = _(
                "Dear colleagues of %(org)s,\n\nthese progress reports are to be written:\n%(lines)s\n\n"
                "Please file them on the venture platform: %(link)s\n"
            ) % {"org": organization.name, "lines": "\n".join(lines), "link": settings.SITE_URL}
            send_mail(_("Progress report reminder: %(n)s report(s)") % {"n": len(reports)}, body, None, recipients)
            with transaction.atomic():
                ProgressReport.objects.filter(pk__in=[r.pk for r in reports]).update(reminded_at=timezone.now())
                for project in {r.project for r in reports}:
                    record(
                        actor="send_report_reminders",
                        action="report.remind",
                        obj=project,
                        after={"reports": [r.pk for r in reports if r.project_id == project.pk], "to": recipients},
                    )
        sent.append((organization, recipients, reports))
    return sent


# --- Expenditure ledger ----------------------------------------------------------------------------------------------


def _refresh_totals(project):
    """The project's running totals from its ledger, also on the caller's instance."""
    fresh = ledger.refresh_totals([project.pk])
    project.spent_total, project.first_spent_on, project.last_spent_on = fresh.projects[project.pk]


def check_expenditure(project, *, date, line, category, amount, receipt, by=None, **fields):
    """Field errors for one ledger entry, as {field: message} (the first of each field); empty when it may be
    recorded. The rule itself is ``expenditure_rules.validate_expenditure``."""
    found = expenditure_rules.validate_expenditure(
        project, by=by, date=date, amount=amount, line=line, category=category, receipt=receipt, **fields
    )
    return {name: messages[0] for name, messages in found.items()}


def _store_totals(project):
    """Refresh the running totals; a total the fields cannot hold is refused (never stored, never a 500)."""
    try:
        with transaction.atomic():
            _refresh_totals(project)
    except (IntegrityError, DataError, InvalidOperation) as exc:
        raise ValidationError(
            _("The project's spending would exceed what the ledger can hold; nothing was saved.")
        ) from exc


@transaction.atomic
def record_expenditure(
    *,
    project,
    by,
    date,
    amount,
    payee,
    description,
    voucher_no,
    line=None,
    category=None,
    receipt=None,
    receipt_pending=False,
    invoice_kind="",
    invoice_code="",
    invoice_number="",
    payee_uscc="",
    staff_reason="",
    today=None,
):
    """One ledger entry, checked by the one expenditure rule after the project's row lock (so that two writers
    cannot both pass the duplicate checks)."""
    ledger.lock_projects([project.pk])  # writers of one ledger queue, each refresh sees the other's rows
    project.refresh_from_db(fields=["status", "flag_reason", "spent_total"])
    if line is not None:
        line.refresh_from_db(fields=["spent"])
    expenditure_rules.require_valid(
        expenditure_rules.validate_expenditure(
            project,
            by=by,
            date=date,
            amount=amount,
            line=line,
            category=category,
            receipt=receipt,
            receipt_pending=receipt_pending,
            voucher_no=voucher_no,
            invoice_kind=invoice_kind,
            invoice_code=invoice_code,
            invoice_number=invoice_number,
            payee_uscc=payee_uscc,
            staff_reason=staff_reason,
            today=today,
        )
    )
    entry = Expenditure.objects.create(
        project=project,
        date=date,
        line=line,
        category=line.category if line else category,
        amount=_money(amount),
        payee=payee,
        description=description,
        voucher_no=voucher_no,
        receipt=receipt or "",
        invoice_kind=invoice_kind,
        invoice_code=invoice_code,
        invoice_number=invoice_number,
        payee_uscc=payee_uscc,
        created_by=by,
    )
    _store_totals(project)
    after = {"date": date, "amount": entry.amount, "line": line.pk if line else None, "voucher": voucher_no}
    if invoice_number:
        after["invoice"] = f"{invoice_code}{'/' if invoice_code else ''}{invoice_number}"
    if staff_reason and project.status != ProjectStatus.ACTIVE:
        after["reason"] = staff_reason
    record(actor=by, action="expenditure.record", obj=project, after=after)
    return entry


MAX_REPORTED_PROBLEMS = 200


@dataclass
class ImportReport:
    """The outcome of an import: the rows with problems (the first ``MAX_REPORTED_PROBLEMS`` problems, each
    naming the file's own column), and how many problems and rows there were in all."""

    rows: int = 0
    problems: int = 0
    failed: list = field(default_factory=list)  # [(row number, [message])], at most MAX_REPORTED_PROBLEMS messages

    @property
    def shown(self):
        return sum(len(m) for _n, m in self.failed)


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return expenditure_rules.digits(value) if isinstance(value, int) else str(value).strip()


def _parse_row(project, values, headers, categories, lines, *, by, known, row, today):
    """(problems [(field, message)], entry data) of one file row, checked by the one expenditure rule."""
    problems = []
    try:
        date = expenditure_rules.parse_date(values.get("date"))
    except ValidationError as exc:
        date = None
        problems.append(("date", exc.messages[0]))
    try:
        amount = expenditure_rules.parse_amount(values.get("amount"))
    except ValidationError as exc:
        amount = None
        problems.append(("amount", exc.messages[0]))
    text = {
        name: _cell_text(values.get(name))
        for name in (
            "category",
            "item",
            "payee",
            "description",
            "voucher_no",
            "invoice_code",
            "invoice_number",
            "payee_uscc",
        )
    }
    category = categories.get(text["category"])
    if category is None:
        problems.append(("category", _("“%(v)s” is not a budget category of this round") % {"v": text["category"]}))
    line = lines.get((text["category"], text["item"])) if category and text["item"] else None
    for name in ("payee", "description", "voucher_no"):
        if not text[name]:
            problems.append((name, _("this cell is empty")))
    code, number = expenditure_rules.digits(text["invoice_code"]), expenditure_rules.digits(text["invoice_number"])
    kind = expenditure_rules.invoice_kind_of(code, number)
    uscc = text["payee_uscc"].upper()
    found = (
        expenditure_rules.validate_expenditure(
            project,
            by=by,
            date=date,
            amount=amount,
            line=line,
            category=category if line is None else None,
            item=text["item"] if line is None else None,
            receipt=None,
            receipt_pending=True,
            voucher_no=text["voucher_no"],
            invoice_kind=kind,
            invoice_code=code,
            invoice_number=number,
            payee_uscc=uscc,
            today=today,
            known=known,
            row=row,
        )
        if category is not None
        else {}
    )
    skip = {name for name, _m in problems}
    for name, messages in found.items():
        if name == "amount" and amount is None or name == "date" and date is None or name in skip:
            continue
        problems.extend((name, m) for m in messages)
    data = {
        "date": date,
        "amount": amount,
        "line": line,
        "category": line.category if line else category,
        "payee": text["payee"][:200],
        "description": text["description"][:300],
        "voucher_no": text["voucher_no"][:60],
        "invoice_kind": kind,
        "invoice_code": code,
        "invoice_number": number,
        "payee_uscc": uscc,
    }
    return problems, data


_FIELD_NAMES = {"line": "item", "invoice_kind": "invoice_number", "receipt": "amount"}


def _labelled(problems, headers):
    """Messages naming the file's own column: “金额: …”; problems of the whole entry without a column."""
    out = []
    for name, message in problems:
        header = headers.get(_FIELD_NAMES.get(name, name)) or headers.get(name)
        if name == "line" and not header:
            header = headers.get("category")
        out.append(format_html("{}{}", _("%(column)s: ") % {"column": header}, message) if header else message)
    return out


@transaction.atomic
def import_ledger(*, project, ledger_file, by, today=None):
    """All or nothing: returns (imported entries, ImportReport). Nothing is saved when any row fails, when the
    project is not open to entries, or when this very file was imported before. Rows above the receipt threshold
    are accepted as "receipt pending"."""
    ledger.lock_projects([project.pk])  # writers of one ledger queue, each refresh sees the other's rows
    project.refresh_from_db(fields=["status", "flag_reason", "spent_total"])
    earlier = (
        LedgerImport.objects.filter(project=project, sha256=ledger_file.sha256).select_related("created_by").first()
    )
    if earlier is not None:
        raise ValidationError(
            _(
                "This file was already imported on %(when)s by %(who)s (%(n)s rows, vouchers "
                "%(vouchers)s); it was not imported again."
            )
            % {
                "when": timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M"),
                "who": earlier.created_by.get_full_name() or earlier.created_by.username if earlier.created_by else "—",
                "n": earlier.rows,
                "vouchers": _voucher_span(earlier),
            }
        )
    categories = {c.name: c for c in project.competition.budget_categories.all()}
    lines = {(line.category.name, line.item): line for line in project.lines.select_related("category")}
    rows = ledger_file.rows
    known = expenditure_rules.Known.load(
        project,
        vouchers=[_cell_text(v.get("voucher_no")) for _n, v in rows],
        invoices=[(None, None, expenditure_rules.digits(_cell_text(v.get("invoice_number")))) for _n, v in rows],
    )
    headers = ledger_file.headers
    report, parsed = ImportReport(rows=len(rows)), []
    for n, values in rows:
        problems, data = _parse_row(
            project, values, headers, categories, lines, by=by, known=known, row=_("row %(n)s") % {"n": n}, today=today
        )
        if problems:
            report.problems += len(problems)
            room = MAX_REPORTED_PROBLEMS - report.shown
            if room > 0:
                report.failed.append((n, _labelled(problems, headers)[:room]))
        parsed.append(data)
    if report.problems:
        return [], report
    batch = LedgerImport.objects.create(
        project=project, sha256=ledger_file.sha256, filename=ledger_file.name[:255], rows=len(parsed), created_by=by
    )
    entries = Expenditure.objects.bulk_create(
        [
            Expenditure(project=project, created_by=by, ledger_import=batch, **{**d, "amount": _money(d["amount"])})
            for d in parsed
        ],
        batch_size=1000,
    )
    _store_totals(project)
    record(
        actor=by,
        action="expenditure.import",
        obj=project,
        after={
            "rows": len(entries),
            "total": sum(e.amount for e in entries),
            "file": ledger_file.name,
            "sha256": ledger_file.sha256,
        },
    )
    return entries, report


def _voucher_span(batch):
    vouchers = list(batch.entries.order_by("pk").values_list("voucher_no", flat=True))
    if not vouchers:
        return "—"
    return vouchers[0] if len(vouchers) == 1 else f"{vouchers[0]} … {vouchers[-1]}"


# --- Site visits, rectifications, evaluations, close-out ----------------------------------------------------------


@transaction.atomic
def record_visit(*, project, by, date, people_met, observations, rating, findings, rectifications=(), photos=()):
    if not 1 <= int(rating) <= 5:
        raise ValidationError(_("The rating is from 1 to 5."))
    visit = SiteVisit.objects.create(
        project=project,
        supervisor=by,
        date=date,
        people_met=people_met,
        observations=observations,
        rating=rating,
        findings=findings,
    )
    for upload in photos:
        visit.photos.create(file=upload, caption=upload.name[:200])
    for r in rectifications:
        Rectification.objects.create(project=project, visit=visit, **r)
    record(
        actor=by,
        action="visit.record",
        obj=project,
        after={"date": date, "rating": rating, "rectifications": len(rectifications)},
    )
    return visit


@transaction.atomic
def add_rectification(*, project, by, what, deadline, owner, visit=None):
    item = Rectification.objects.create(project=project, visit=visit, what=what, deadline=deadline, owner=owner)
    record(actor=by, action="rectification.create", obj=project, after={"what": what, "deadline": deadline})
    return item


@transaction.atomic
def answer_rectification(*, item, by, answer, evidence=None):
    item = Rectification.objects.select_for_update().get(pk=item.pk)
    _transition(
        RECTIFICATION_TRANSITIONS, RectificationStatus(item.status), RectificationStatus.ANSWERED, _("A rectification")
    )
    if not answer.strip():
        raise ValidationError(_("Describe what was done."))
    item.answer, item.answered_at, item.status = answer, timezone.now(), RectificationStatus.ANSWERED
    if evidence:
        item.evidence = evidence
    item.save()
    record(actor=by, action="rectification.answer", obj=item.project, note=answer)
    return item


@transaction.atomic
def review_rectification(*, item, by, close, note=""):
    item = Rectification.objects.select_for_update().get(pk=item.pk)
    to = RectificationStatus.CLOSED if close else RectificationStatus.OPEN
    _transition(RECTIFICATION_TRANSITIONS, RectificationStatus(item.status), to, _("A rectification"))
    if not close and not note.strip():
        raise ValidationError(_("Say why the rectification is reopened."))
    item.status, item.review_note = to, note
    item.closed_at = timezone.now() if close else None
    item.save()
    record(actor=by, action=f"rectification.{'close' if close else 'reopen'}", obj=item.project, note=note)
    return item


def _project_transition(project, to, by, reason):
    _transition(PROJECT_TRANSITIONS, ProjectStatus(project.status), to, _("A project"))
    before = project.status
    project.status = to
    project.flag_reason = reason if to == ProjectStatus.SUSPENDED else project.flag_reason
    project.save(update_fields=["status", "flag_reason", "closed_at", "closeout_report"])
    record(actor=by, action=f"project.{to}", obj=project, before={"status": before}, after={"status": to}, note=reason)


# --- What can be done now --------------------------------------------------------------------------------------------
# Predicates: each returns None when the action is open now, or the reason (a sentence) why not. The services refuse
# with that reason; the workspace shows or hides the action by the same function, so a button and its service cannot
# disagree.


def evaluation_refusal(project, kind, held=None):
    """Why an evaluation of ``kind`` cannot be held now, or None. ``held``: the project's evaluations as
    [(kind, passed)], read when not given."""
    if held is None:
        held = list(Evaluation.objects.filter(project=project).values_list("kind", "passed"))
    if any(passed for k, passed in held if k == kind):
        return _("This evaluation has already been passed.")
    if project.status == ProjectStatus.CLOSED:
        return _("The project is closed.")
    if project.status != ProjectStatus.ACTIVE:
        return _(
            "The evaluation failed and the project is suspended: reinstate it once the rectification is done, "
            "then hold the re-evaluation."
        )
    midterm = [passed for k, passed in held if k == EvaluationKind.MIDTERM]
    if kind == EvaluationKind.FINAL and midterm and not any(midterm):
        return _("The mid-term evaluation has not been passed yet: hold its re-evaluation first.")
    return None


def next_attempt(project, kind, held=None):
    """The attempt number a new evaluation of this kind would get, or ValidationError saying why none can be held
    now (``evaluation_refusal``)."""
    if held is None:
        held = list(Evaluation.objects.filter(project=project).values_list("kind", "passed"))
    if reason := evaluation_refusal(project, kind, held):
        raise ValidationError(reason)
    return sum(1 for k, _passed in held if k == kind) + 1


def release_refusal(tranche, project, met=None):
    """Why ``tranche`` of ``project`` cannot be released now, or None. ``met``: ``condition_met(tranche)`` when
    already known."""
    if tranche.released_on:
        return _("This tranche has already been released.")
    if project.status != ProjectStatus.ACTIVE:
        return _("The project is %(status)s; no tranche can be released.") % {"status": project.get_status_display()}
    if not (condition_met(tranche) if met is None else met):
        return _("The release condition does not hold yet: %(condition)s.") % {
            "condition": tranche.get_condition_display()
        }
    return None


def reinstate_refusal(project):
    """Why the project cannot be reinstated (made active again) now, or None: only a suspended project can."""
    current = ProjectStatus(project.status)
    if ProjectStatus.ACTIVE not in PROJECT_TRANSITIONS[current]:
        return _("%(what)s cannot go from “%(from)s” to “%(to)s”.") % {
            "what": _("A project"),
            "from": current.label,
            "to": ProjectStatus.ACTIVE.label,
        }
    return None


def close_refusal(project, final_passed=None):
    """Why the project cannot be closed out now, or None: it needs a passed final evaluation and must not be closed
    already. ``final_passed``: whether a final evaluation passed, when already known."""
    if project.status == ProjectStatus.CLOSED:
        return _("The project is closed.")
    if final_passed is None:
        final_passed = Evaluation.objects.filter(project=project, kind=EvaluationKind.FINAL, passed=True).exists()
    if not final_passed:
        return _("A project closes after a passed final evaluation.")
    return None


# How an applicant's milestone names an evaluation (milestones are the applicant's own Chinese text).
EVALUATION_MILESTONE_WORDS = {EvaluationKind.MIDTERM: "中期评估", EvaluationKind.FINAL: "终期评估"}


@transaction.atomic
def evaluate(*, project, kind, by, points, comment=""):
    """points: {EvaluationCriterion: points}. Pass ≥ the round's mark releases the gated tranche; a fail stops it
    and flags (suspends) the project. After a fail, once the project has been reinstated (its rectification done),
    the evaluation can be held again (复评): the next attempt. A pass is final."""
    project = FundedProject.objects.select_for_update(of=("self",)).select_related("competition").get(pk=project.pk)
    criteria = list(project.competition.evaluation_criteria.filter(kind=kind))
    if not criteria:
        raise ValidationError(_("This round has no rubric for this evaluation."))
    attempt = next_attempt(project, kind)
    errors = {}
    for c in criteria:
        value = points.get(c)
        if value is None or value < 0 or value > c.max_points:
            errors[f"c_{c.pk}"] = _("Between 0 and %(max)s.") % {"max": f"{c.max_points.normalize():f}"}
    if errors:
        raise ValidationError(errors)
    scale = sum((c.max_points for c in criteria), Decimal("0"))
    total = _money(sum((Decimal(points[c]) for c in criteria), Decimal("0")) * 100 / scale)
    passed = total >= project.competition.evaluation_pass_mark
    evaluation = Evaluation.objects.create(
        project=project,
        kind=kind,
        evaluator=by,
        comment=comment,
        total=total,
        passed=passed,
        attempt=attempt,
        points={str(c.pk): str(points[c]) for c in criteria},
    )
    record(
        actor=by,
        action=f"evaluation.{kind}",
        obj=project,
        after={"total": total, "passed": passed, "attempt": attempt},
        note=comment,
    )
    # The milestone that names this evaluation ("中期评估", "完成中期服务与中期评估") is done once it is held, whatever
    # its result: the project page no longer calls it overdue.
    project.milestones.filter(done_on__isnull=True, title__contains=EVALUATION_MILESTONE_WORDS[kind]).update(
        done_on=timezone.localdate()
    )
    if not passed and project.status == ProjectStatus.ACTIVE:
        _project_transition(
            project,
            ProjectStatus.SUSPENDED,
            by,
            _("%(kind)s failed with %(total)s points.") % {"kind": EvaluationKind(kind).label, "total": total},
        )
    return evaluation


@transaction.atomic
def reinstate(*, project, by, reason):
    project = FundedProject.objects.select_for_update().get(pk=project.pk)
    if not reason.strip():
        raise ValidationError(_("Give the reason."))
    if refusal := reinstate_refusal(project):
        raise ValidationError(refusal)
    _project_transition(project, ProjectStatus.ACTIVE, by, reason)
    return project


@transaction.atomic
def close_project(*, project, by, closeout_report):
    project = FundedProject.objects.select_for_update().get(pk=project.pk)
    if reason := close_refusal(project):
        raise ValidationError(reason)
    if not closeout_report.strip():
        raise ValidationError(_("Write the close-out report."))
    if project.rectifications.exclude(status=RectificationStatus.CLOSED).exists():
        raise ValidationError(_("Close every rectification first."))
    project.closeout_report, project.closed_at = closeout_report, timezone.now()
    _project_transition(project, ProjectStatus.CLOSED, by, "")
    return project


# --- Beneficiary feedback -------------------------------------------------------------------------------------------

FEEDBACK_PER_DAY = 5


def client_key(ip):
    return hashlib.sha256(f"{settings.SECRET_KEY}:feedback:{ip}".encode()).hexdigest()


@transaction.atomic
def submit_feedback(*, project, rating, comment, ip):
    if not 1 <= int(rating) <= 5:
        raise ValidationError(_("Choose 1 to 5 stars."))
    key = client_key(ip)
    since = timezone.now() - datetime.timedelta(days=1)
    if Feedback.objects.filter(project=project, client_key=key, created_at__gte=since).count() >= FEEDBACK_PER_DAY:
        raise ValidationError(_("Thank you — we have already received several ratings from this connection today."))
    return Feedback.objects.create(project=project, rating=int(rating), comment=comment.strip()[:1000], client_key=key)
