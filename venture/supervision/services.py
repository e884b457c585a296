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
from venture.awards.services import approved_lines
from venture.competitions.models import TrancheCondition
from venture.money import format_money
from venture.organizations.models import Membership, OrgStatus
from venture.permissions import is_staff

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
    RectificationEvent,
    RectificationEventKind,
    RectificationStatus,
    ReportActivity,
    ReportPhoto,
    ReportStatus,
    RevisionKind,
    SiteVisit,
    Tranche,
    TrancheRelease,
)

CENT = Decimal("0.01")
REPORT_GRACE_DAYS = 10


def _setting(name, default):
    return getattr(settings, name, default)


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
    # Approved lines: the budget the agreement was issued with (the proposal's lines, scaled when the award is smaller
    # than the request; venture.awards.services.approved_lines); an agreement issued before it kept them is read the
    # same way from the proposal.
    rows = agreement.budget or approved_lines(proposal, agreement.amount)
    ApprovedLine.objects.bulk_create(
        ApprovedLine(project=project, category_id=r["category_id"], item=r["item"], amount=Decimal(r["amount"]))
        for r in rows
    )
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


def payment_date_refusal(project, paid_on, today=None):
    """Why ``paid_on`` cannot be a tranche payment date, or None: not in the future, not after the project's end
    plus its grace period (setting TRANCHE_PAYMENT_GRACE_DAYS)."""
    today = today or timezone.localdate()
    if paid_on is None:
        return _("Enter the payment date.")
    if paid_on > today:
        return _("The payment date %(day)s is in the future.") % {"day": paid_on.isoformat()}
    grace = _setting("TRANCHE_PAYMENT_GRACE_DAYS", 30)
    latest = project.period_end + datetime.timedelta(days=grace)
    if paid_on > latest:
        return _("The payment date %(day)s is after the project's end plus %(n)s days of grace (%(latest)s).") % {
            "day": paid_on.isoformat(),
            "n": grace,
            "latest": latest.isoformat(),
        }
    return None


@transaction.atomic
def release_tranche(*, tranche, released_on, voucher_no, by, amount=None, override_reason=""):
    """Pay (part of) a tranche: without ``amount``, what remains of it. The tranche is paid (``released_on``) only
    when fully released; until then further releases pay the remainder, never more. While ledger entries still wait
    for their receipts, only staff may release, giving ``override_reason`` (audited)."""
    tranche = Tranche.objects.select_for_update(of=("self",)).select_related("project").get(pk=tranche.pk)
    project = tranche.project
    if reason := release_refusal(tranche, project):
        raise ValidationError(reason)
    if reason := payment_date_refusal(project, released_on):
        raise ValidationError({"released_on": reason})
    if not voucher_no.strip():
        raise ValidationError(_("Enter the payment voucher number."))
    override_reason = (override_reason or "").strip()
    if reason := pending_receipts_refusal(project):
        if not override_reason:
            raise ValidationError(reason)
        if not is_staff(by):
            raise ValidationError(_("Only union staff may release a tranche while receipts are pending."))
    else:
        override_reason = ""
    remaining = tranche.remaining
    amount = _money(amount if amount is not None else remaining)
    if amount <= 0 or amount > remaining:
        raise ValidationError(_("Release between ¥0.01 and %(max)s.") % {"max": format_money(remaining)})
    try:
        with transaction.atomic():
            # The database refuses a released total above the grant (CheckConstraint), whatever runs concurrently.
            FundedProject.objects.filter(pk=project.pk).update(released_total=F("released_total") + amount)
    except IntegrityError as exc:
        raise ValidationError(_("This release would exceed the grant.")) from exc
    TrancheRelease.objects.create(
        tranche=tranche,
        amount=amount,
        released_on=released_on,
        voucher_no=voucher_no,
        override_reason=override_reason,
        released_by=by,
    )
    tranche.released_amount = (tranche.released_amount or Decimal("0")) + amount
    tranche.voucher_no, tranche.released_by = voucher_no, by
    tranche.released_on = released_on if tranche.released_amount == tranche.amount else None
    tranche.save()
    record(
        actor=by,
        action="tranche.release",
        obj=project,
        note=override_reason,
        after={
            "tranche": tranche.order,
            "amount": amount,
            "voucher": voucher_no,
            "on": released_on,
            "remaining": tranche.remaining,
            **({"override": override_reason} if override_reason else {}),
        },
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
    if reason := report_refusal(report, people_served, activities):
        raise ValidationError(reason)
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


def _whole(n):
    return isinstance(n, int) and not isinstance(n, bool) and n >= 0


def report_refusal(report, people_served, activities):
    """Why a report with these figures cannot be submitted, or None: counts are whole numbers, every activity lies
    inside the report's period."""
    if not _whole(people_served):
        return _("People served is a whole number.")
    for a in activities:
        if not _whole(a.get("participants")):
            return _("Participants of “%(what)s” is a whole number.") % {"what": a.get("description", "")}
        if not report.period_start <= a["date"] <= report.period_end:
            return _("The activity “%(what)s” on %(day)s is outside the report's period (%(start)s to %(end)s).") % {
                "what": a.get("description", ""),
                "day": a["date"].isoformat(),
                "start": report.period_start.isoformat(),
                "end": report.period_end.isoformat(),
            }
    return None


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


def record_expenditure(*, project, by, invoice_kind="", invoice_code="", invoice_number="", **fields):
    """One ledger entry, checked by the one expenditure rule after the project's row lock (so that two writers
    cannot both pass the duplicate checks). An invoice refused because it was claimed before leaves an audit record
    of the attempt (the "duplicate invoice" alert counts them), written after the refused entry is rolled back."""
    claims: list = []
    try:
        return _record_expenditure(
            project=project,
            by=by,
            invoice_kind=invoice_kind,
            invoice_code=invoice_code,
            invoice_number=invoice_number,
            claims=claims,
            **fields,
        )
    except ValidationError:
        if claims:
            _record_claim_attempts(project, by, claims)
        raise


def _record_claim_attempts(project, by, claims):
    """Audit the refused claims of invoices already claimed (kept when the refused write itself is rolled back)."""
    for (kind, code, number), first in claims:
        record(
            actor=by,
            action=expenditure_rules.DUPLICATE_INVOICE_ACTION,
            obj=project,
            after={
                "invoice": f"{code}{'/' if code else ''}{number}",
                "kind": kind,
                "first_entry": first.pk,
                "first_project": first.project_id,
            },
        )


@transaction.atomic
def _record_expenditure(
    *,
    project,
    by,
    date,
    amount,
    payee,
    description,
    voucher_no,
    claims,
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
    corrects=None,
    correction_reason="",
):
    ledger.lock_projects([project.pk])  # writers of one ledger queue, each refresh sees the other's rows
    project.refresh_from_db(fields=["status", "flag_reason", "spent_total"])
    if line is not None:
        line.refresh_from_db(fields=["spent"])
    if corrects is not None and not (
        corrects.project_id == project.pk and Expenditure.objects.filter(reverses=corrects).exists()
    ):
        raise ValidationError(_("A corrected entry replaces an entry of this ledger that has been reversed."))
    known = expenditure_rules.Known.load(
        project, vouchers=[voucher_no], invoices=[(invoice_kind, invoice_code, invoice_number)]
    )
    known.claims = claims  # the caller audits refused claims once this transaction is rolled back
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
            known=known,
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
        corrects=corrects,
        correction_reason=correction_reason if corrects is not None else "",
        created_by=by,
    )
    _store_totals(project)
    after = {"date": date, "amount": entry.amount, "line": line.pk if line else None, "voucher": voucher_no}
    if invoice_number:
        after["invoice"] = f"{invoice_code}{'/' if invoice_code else ''}{invoice_number}"
    if staff_reason and project.status != ProjectStatus.ACTIVE:
        after["reason"] = staff_reason
    if corrects is not None:  # the corrected entry in place of a reversed one: one record that says so
        after.update({"corrects": corrects.pk, "entry": entry.pk})
        record(actor=by, action="expenditure.correct", obj=project, note=correction_reason, after=after)
    else:
        record(actor=by, action="expenditure.record", obj=project, after=after)
    return entry


MAX_REPORTED_PROBLEMS = 200


def ledger_write_refusal(project):
    """Why the project's ledger cannot change now (a correction, an attached receipt), or None: a closed project's
    books are closed."""
    if project.status == ProjectStatus.CLOSED:
        return _("The project is closed; its ledger no longer changes.")
    return None


def reversal_refusal(entry):
    """Why ``entry`` cannot be reversed (红冲), or None (what the page asks before offering the form; the service
    asks the one expenditure rule)."""
    if entry.reverses_id:
        return _("This entry is itself a reversal.")
    if Expenditure.objects.filter(reverses=entry).exists():
        return _("This entry has already been reversed.")
    return ledger_write_refusal(entry.project)


@transaction.atomic
def reverse_expenditure(*, entry, by, reason, corrected=None):
    """红冲: an entry is never edited or deleted. Its reversal is a negative entry mirroring it (amount, date, line,
    category, voucher, invoice) and pointing at it, so every running total nets it out exactly, with the reason;
    it passes the one expenditure rule in its reversal mode. ``corrected`` (the fields of ``record_expenditure``)
    records the right entry in its place, pointing at the original; the original's voucher and invoice are free
    for it. One audit record each: ``expenditure.reverse`` and ``expenditure.correct``. Returns (reversal, corrected
    entry or None)."""
    ledger.lock_projects([entry.project_id])
    entry = Expenditure.objects.select_related("project__competition", "line", "category").get(pk=entry.pk)
    project = entry.project
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the correction.")})
    mirror = {
        "date": entry.date,
        "line": entry.line,
        "category": entry.category,
        "amount": -entry.amount,
        "voucher_no": entry.voucher_no,
        "invoice_kind": entry.invoice_kind,
        "invoice_code": entry.invoice_code,
        "invoice_number": entry.invoice_number,
    }
    expenditure_rules.require_valid(
        expenditure_rules.validate_expenditure(project, by=by, staff_reason=reason, reverses=entry, **mirror)
    )
    reversal = Expenditure.objects.create(
        project=project,
        payee=entry.payee,
        description=entry.description[:300],
        payee_uscc=entry.payee_uscc,
        reverses=entry,
        correction_reason=reason,
        created_by=by,
        **mirror,
    )
    _store_totals(project)
    record(
        actor=by,
        action="expenditure.reverse",
        obj=project,
        note=reason,
        after={
            "entry": entry.pk,
            "reversal": reversal.pk,
            "amount": reversal.amount,
            "date": entry.date,
            "voucher": entry.voucher_no,
        },
    )
    fixed = None
    if corrected:
        fixed = record_expenditure(
            project=project, by=by, corrects=entry, correction_reason=reason, **{"staff_reason": reason, **corrected}
        )
    return reversal, fixed


def pending_receipts(project):
    """Entries above the receipt threshold still without a receipt ("receipt pending"), reversed ones left out."""
    return Expenditure.objects.filter(
        project=project,
        receipt="",
        reverses__isnull=True,
        reversal__isnull=True,
        amount__gt=project.competition.receipt_threshold,
    )


def overdue_receipts(project, now=None):
    """Pending receipts entered more than RECEIPT_PENDING_DAYS (setting) ago."""
    now = now or timezone.now()
    days = _setting("RECEIPT_PENDING_DAYS", 30)
    return pending_receipts(project).filter(created_at__lt=now - datetime.timedelta(days=days))


def pending_receipts_refusal(project):
    """Why the next tranche waits for receipts, or None."""
    n = pending_receipts(project).count()
    if n:
        return _(
            "%(n)s ledger entry(ies) still wait for their receipts; attach them before the next tranche, or "
            "(staff) give the reason to release anyway."
        ) % {"n": n}
    return None


@transaction.atomic
def attach_receipt(*, entry, by, receipt):
    """Attach the receipt of a "receipt pending" entry (the upload checked by the form like every other upload)."""
    entry = Expenditure.objects.select_for_update().select_related("project").get(pk=entry.pk)
    if entry.receipt:
        raise ValidationError(_("This entry already has its receipt."))
    if entry.reverses_id:
        raise ValidationError(_("A reversal has no receipt of its own."))
    if not receipt:
        raise ValidationError({"receipt": _("Choose the receipt file.")})
    entry.receipt, entry.receipt_attached_at = receipt, timezone.now()
    entry.save(update_fields=["receipt", "receipt_attached_at"])
    record(
        actor=by,
        action="expenditure.receipt",
        obj=entry.project,
        after={"entry": entry.pk, "voucher": entry.voucher_no, "file": entry.receipt.name},
    )
    return entry


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
        if known.claims:  # nothing is imported, but the attempts to claim invoices claimed before are on record
            _record_claim_attempts(project, by, known.claims)
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


def visit_date_refusal(date, today=None):
    if date > (today or timezone.localdate()):
        return _("A visit cannot be dated in the future.")
    return None


def deadline_refusal(deadline, visit_date):
    if visit_date is not None and deadline <= visit_date:
        return _("The deadline must come after the visit (%(day)s).") % {"day": visit_date.isoformat()}
    return None


@transaction.atomic
def record_visit(*, project, by, date, people_met, observations, rating, findings, rectifications=(), photos=()):
    if not 1 <= int(rating) <= 5:
        raise ValidationError(_("The rating is from 1 to 5."))
    if reason := visit_date_refusal(date):
        raise ValidationError({"date": reason})
    for r in rectifications:
        if reason := deadline_refusal(r["deadline"], date):
            raise ValidationError(reason)
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
    if reason := deadline_refusal(deadline, visit.date if visit else None):
        raise ValidationError({"deadline": reason})
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
    # The history: each answer is its own row with its own evidence (the item's fields hold the latest).
    RectificationEvent.objects.create(
        rectification=item,
        kind=RectificationEventKind.ANSWER,
        text=answer,
        by=by,
        evidence=item.evidence.name if evidence else "",
        at=item.answered_at,
    )
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
    RectificationEvent.objects.create(
        rectification=item,
        kind=RectificationEventKind.CLOSE if close else RectificationEventKind.REOPEN,
        text=note,
        by=by,
        at=timezone.now(),
    )
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


def evaluation_missing(project, kind, today=None):
    """What an evaluation of ``kind`` still lacks, as sentences (empty when nothing): the final needs the period
    ended (or its last month, with FINAL_EVALUATION_IN_LAST_MONTH), every due report accepted and no open
    rectification; the mid-term needs its due reports accepted."""
    today = today or timezone.localdate()
    missing = []
    if kind == EvaluationKind.FINAL:
        if _setting("FINAL_EVALUATION_IN_LAST_MONTH", False):
            opens = project.period_end - datetime.timedelta(days=30)
            if today < opens:
                missing.append(_("the project's last month has not begun (from %(day)s)") % {"day": opens.isoformat()})
        elif today <= project.period_end:
            missing.append(_("the project period has not ended (%(day)s)") % {"day": project.period_end.isoformat()})
    unaccepted = list(
        project.reports.filter(due_on__lte=today)
        .exclude(status=ReportStatus.ACCEPTED)
        .order_by("period_start")
        .values_list("period_start", "period_end")
    )
    if unaccepted:
        missing.append(
            _("%(n)s due progress report(s) not accepted: %(periods)s")
            % {"n": len(unaccepted), "periods": ", ".join(f"{a.isoformat()}–{b.isoformat()}" for a, b in unaccepted)}
        )
    if kind == EvaluationKind.FINAL:
        open_items = project.rectifications.exclude(status=RectificationStatus.CLOSED).count()
        if open_items:
            missing.append(_("%(n)s rectification(s) not closed") % {"n": open_items})
    return missing


def evaluation_refusal(project, kind, held=None, today=None, *, preconditions=True):
    """Why an evaluation of ``kind`` cannot be held now, or None. ``held``: the project's evaluations as
    [(kind, passed)], read when not given. With ``preconditions``, also what the evaluation lacks
    (``evaluation_missing``), which staff may override with a reason."""
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
    if preconditions and (missing := evaluation_missing(project, kind, today)):
        return _("Not yet: %(missing)s.") % {"missing": "; ".join(missing)}
    return None


def next_attempt(project, kind, held=None):
    """The attempt number a new evaluation of this kind would get, or ValidationError saying why none can be held
    now (``evaluation_refusal``)."""
    if held is None:
        held = list(Evaluation.objects.filter(project=project).values_list("kind", "passed"))
    if reason := evaluation_refusal(project, kind, held, preconditions=False):
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
def evaluate(*, project, kind, by, points, comment="", override_reason=""):
    """points: {EvaluationCriterion: points}. Pass ≥ the round's mark releases the gated tranche; a fail stops it
    and flags (suspends) the project. After a fail, once the project has been reinstated (its rectification done),
    the evaluation can be held again (复评): the next attempt. A pass is final."""
    project = FundedProject.objects.select_for_update(of=("self",)).select_related("competition").get(pk=project.pk)
    criteria = list(project.competition.evaluation_criteria.filter(kind=kind))
    if not criteria:
        raise ValidationError(_("This round has no rubric for this evaluation."))
    attempt = next_attempt(project, kind)
    override_reason = (override_reason or "").strip()
    if missing := evaluation_missing(project, kind):
        if not (override_reason and is_staff(by)):
            raise ValidationError(_("Not yet: %(missing)s.") % {"missing": "; ".join(missing)})
    else:
        override_reason = ""
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
        override_reason=override_reason,
        points={str(c.pk): str(points[c]) for c in criteria},
    )
    after = {"total": total, "passed": passed, "attempt": attempt}
    if override_reason:  # held although preconditions were missing: the one record of the evaluation says so
        after.update({"override": override_reason, "missing": missing})
    record(actor=by, action=f"evaluation.{kind}", obj=project, after=after, note=comment)
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


@transaction.atomic
def record_refund(*, project, by, amount, received_on, voucher_no):
    """The unspent money (应退回) came back: recorded once, on a closed project, at most what was due."""
    project = FundedProject.objects.select_for_update().get(pk=project.pk)
    if project.status != ProjectStatus.CLOSED:
        raise ValidationError(_("The refund is recorded after the close-out."))
    if project.refund_on:
        raise ValidationError(_("The refund has already been recorded."))
    amount = _money(amount)
    if amount <= 0 or amount > project.refund_due:
        raise ValidationError(
            {"amount": _("Between ¥0.01 and %(max)s, the amount due.") % {"max": format_money(project.refund_due)}}
        )
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": _("The date is in the future.")})
    if not voucher_no.strip():
        raise ValidationError({"voucher_no": _("Enter the voucher number.")})
    project.refund_amount, project.refund_on, project.refund_voucher = amount, received_on, voucher_no.strip()
    project.save(update_fields=["refund_amount", "refund_on", "refund_voucher"])
    record(
        actor=by,
        action="project.refund",
        obj=project,
        after={"amount": amount, "on": received_on, "voucher": voucher_no, "due": project.refund_due},
    )
    return project


# --- Beneficiary feedback -------------------------------------------------------------------------------------------

FEEDBACK_PER_DAY = 5  # per device (a signed cookie)
FEEDBACK_PER_NETWORK_PER_DAY = 300  # per network: workers at a venue share its Wi-Fi


def client_key(value, kind="device"):
    return hashlib.sha256(f"{settings.SECRET_KEY}:feedback:{kind}:{value}".encode()).hexdigest()


@transaction.atomic
def submit_feedback(*, project, rating, comment, ip, device):
    """A rating from one device (its id from a signed cookie) on one network (its address, kept only hashed)."""
    if not 1 <= int(rating) <= 5:
        raise ValidationError(_("Choose 1 to 5 stars."))
    key, network = client_key(device), client_key(ip, "network")
    since = timezone.now() - datetime.timedelta(days=1)
    recent = Feedback.objects.filter(project=project, created_at__gte=since)
    if recent.filter(client_key=key).count() >= _setting("FEEDBACK_PER_DAY", FEEDBACK_PER_DAY):
        raise ValidationError(_("Thank you — we have already received several ratings from this device today."))
    if recent.filter(network_key=network).count() >= _setting(
        "FEEDBACK_PER_NETWORK_PER_DAY", FEEDBACK_PER_NETWORK_PER_DAY
    ):
        raise ValidationError(_("Thank you — we have already received many ratings from this network today."))
    return Feedback.objects.create(
        project=project, rating=int(rating), comment=comment.strip()[:1000], client_key=key, network_key=network
    )
