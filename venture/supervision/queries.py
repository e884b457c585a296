"""Reads for supervision: budget against actual, alerts, the portfolio — sums in the database, in Decimal, in a
fixed number of queries whatever the number of projects or ledger rows."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Avg, Case, CharField, Count, Min, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from venture import charts
from venture.audit.models import AuditEvent
from venture.competitions.models import BudgetCategory, Competition
from venture.money import format_money

from .models import (
    ApprovedLine,
    CategorySpend,
    Expenditure,
    Feedback,
    FundedProject,
    MonthlySpend,
    ProgressReport,
    ProjectStatus,
    Rectification,
    RectificationStatus,
    ReportStatus,
)

ZERO = Decimal("0")


def _categories(lines, spend, categories):
    """Approved and spent per budget category: the lines' categories in budget order, then any category spent in
    that the budget lacks (its rules, such as the management-fee cap, still apply). ``spend``: [(category id,
    amount)] from CategorySpend; ``categories``: {id: BudgetCategory}."""
    by_category = {}
    for line in lines:
        category = categories[line.category_id]
        c = by_category.setdefault(
            line.category_id, {"category": category, "name": category.name, "approved": ZERO, "spent": ZERO}
        )
        c["approved"] += line.amount
    for category_id, amount in sorted(spend, key=lambda r: (categories[r[0]].order, r[0])):
        category = categories[category_id]
        by_category.setdefault(
            category_id, {"category": category, "name": category.name, "approved": ZERO, "spent": ZERO}
        )["spent"] = amount
    for c in by_category.values():
        c["remaining"] = c["approved"] - c["spent"]
        c["share"] = (c["spent"] / c["approved"] * 100) if c["approved"] else None
    return list(by_category.values())


def _round_categories(competition_ids):
    return BudgetCategory.objects.filter(competition_id__in=competition_ids).in_bulk()


def budget_vs_actual(project):
    """Per line and per category: approved, spent, remaining, spent share — from the ledger's running totals
    (venture.supervision.ledger). Three queries."""
    categories = _round_categories([project.competition_id])
    lines = sorted(
        ApprovedLine.objects.filter(project=project), key=lambda ln: (categories[ln.category_id].order, ln.pk)
    )
    for line in lines:
        line.category = categories[line.category_id]
    spend = CategorySpend.objects.filter(project=project).values_list("category_id", "amount")
    return lines, _categories(lines, spend, categories)


@dataclass
class LineTotal:
    """An approved line as the portfolio reads it: what alerts() needs, without a model instance."""

    pk: int
    category_id: int
    item: str
    amount: Decimal
    spent: Decimal


@dataclass
class Alert:
    code: str
    message: str
    severity: str = "warning"
    url: str = ""  # the rows the alert is about


DUPLICATE_INVOICE_ACTION = "ledger.duplicate_invoice"  # audit action written when a claimed invoice is refused


def ledger_url(project_id, show=None, line=None):
    url = reverse("supervision:ledger", args=[project_id])
    if show:
        return f"{url}?show={show}"
    if line:
        return f"{url}?line={line}"
    return url


def money_alert_annotations(now=None):
    """Annotations of FundedProject with the counts the money alerts need (one query whatever the number of
    projects): ``receipts_overdue`` (pending past RECEIPT_PENDING_DAYS), ``after_close`` (entries recorded after
    the close-out), ``duplicate_invoices`` (refused claims of an invoice already claimed, from the audit trail)."""
    now = now or timezone.now()
    days = getattr(settings, "RECEIPT_PENDING_DAYS", 30)

    def count(queryset, key="project"):
        # unordered: the default ordering (by project, hence by round and title) joined two tables per subquery
        return Coalesce(Subquery(queryset.order_by().values(key).annotate(n=Count("pk")).values("n")[:1]), Value(0))

    return {
        "receipts_overdue": count(
            Expenditure.objects.filter(
                # "not a reversal" written NOT (… IS NOT NULL): SQLite without statistics looked up "reverses IS
                # NULL" in the unique index of reversals, every entry of the ledger for each project (2.5 s for 50
                # projects of 2,000 entries); this way it reads the project's entries. PostgreSQL reads it as IS NULL
                # and still uses the partial index expenditure_no_receipt.
                ~Q(reverses__isnull=False),
                project=OuterRef("pk"),
                receipt="",
                reversal__isnull=True,
                amount__gt=OuterRef("competition__receipt_threshold"),
                created_at__lt=now - datetime.timedelta(days=days),
            )
        ),
        # Only a closed project is looked into: the subquery of an open one is not run (it read the whole ledger).
        "after_close": Case(
            When(closed_at__isnull=True, then=Value(0)),
            default=count(Expenditure.objects.filter(project=OuterRef("pk"), created_at__gt=OuterRef("closed_at"))),
        ),
        "duplicate_invoices": count(
            AuditEvent.objects.filter(
                action=DUPLICATE_INVOICE_ACTION,
                object_type=FundedProject._meta.label_lower,
                object_id=Cast(OuterRef("pk"), CharField()),
            ),
            "object_id",
        ),
    }


def money_alert_counts(project_ids, now=None):
    """{project id: {"receipts_overdue", "after_close", "duplicate_invoices"}} in one query."""
    return {
        row["pk"]: row
        for row in FundedProject.objects.filter(pk__in=list(project_ids))
        .annotate(**money_alert_annotations(now))
        .values("pk", *MONEY_ALERTS)
    }


MONEY_ALERTS = ("receipts_overdue", "after_close", "duplicate_invoices")


def time_elapsed_share(project, today=None):
    today = today or timezone.localdate()
    total = (project.period_end - project.period_start).days + 1
    done = min(max((today - project.period_start).days + 1, 0), total)
    return Decimal(done * 100) / Decimal(total) if total > 0 else Decimal("100")


def alerts(project, today=None, lines=None, categories=None, extra=None):
    """Every rule of the round that the project breaks today. ``lines``/``categories`` from budget_vs_actual may be
    passed to avoid recomputing; ``extra`` carries precomputed counts from the portfolio query."""
    today = today or timezone.localdate()
    c = project.competition
    if lines is None or categories is None:
        lines, categories = budget_vs_actual(project)
    found = []
    tolerance = c.overspend_tolerance
    for line in lines:
        if line.spent > line.amount * (1 + tolerance / 100):
            found.append(
                Alert(
                    "overspend",
                    _("“%(item)s” has spent %(spent)s of %(approved)s, more than %(tol)s%% over its budget.")
                    % {
                        "item": line.item,
                        "spent": format_money(line.spent),
                        "approved": format_money(line.amount),
                        "tol": f"{tolerance.normalize():f}",
                    },
                    "danger",
                    ledger_url(project.pk, line=line.pk),
                )
            )
    for cat in categories:
        if cat["approved"] == 0 and cat["spent"] > 0:
            found.append(
                Alert(
                    "unbudgeted",
                    _("%(spent)s spent in “%(cat)s”, a category the budget lacks.")
                    % {"spent": format_money(cat["spent"]), "cat": cat["name"]},
                    "danger",
                )
            )
    spent_total = sum((cat["spent"] for cat in categories), ZERO)
    fee = [cat for cat in categories if cat["category"] is not None and cat["category"].is_management_fee]
    for cat in fee:
        cap = cat["category"].cap_percent
        if cap is not None and cat["spent"] > project.grant * cap / 100:
            found.append(
                Alert(
                    "fee_cap",
                    _("Management fee %(spent)s is above the %(cap)s%% cap (%(limit)s).")
                    % {
                        "spent": format_money(cat["spent"]),
                        "cap": f"{cap.normalize():f}",
                        "limit": format_money(project.grant * cap / 100),
                    },
                    "danger",
                )
            )
    first, last = project.first_spent_on, project.last_spent_on
    if first and first < project.signed_on:
        found.append(
            Alert(
                "before_agreement",
                _("Spending dated %(day)s, before the agreement was signed (%(signed)s).")
                % {"day": first.isoformat(), "signed": project.signed_on.isoformat()},
            )
        )
    if last and last > project.period_end:
        found.append(
            Alert("after_period", _("Spending dated %(day)s, after the project period.") % {"day": last.isoformat()})
        )
    if project.status == ProjectStatus.ACTIVE and project.grant:
        elapsed = time_elapsed_share(project, today)
        spent_share = spent_total * 100 / project.grant
        if abs(spent_share - elapsed) > c.spend_rate_tolerance:
            found.append(
                Alert(
                    "spend_rate",
                    _("%(spent)s%% of the grant spent after %(elapsed)s%% of the project period.")
                    % {"spent": f"{spent_share:.0f}", "elapsed": f"{elapsed:.0f}"},
                )
            )
    overdue = extra.get("overdue") if extra else overdue_count(project, today)
    if overdue:
        found.append(Alert("report_overdue", _("%(n)s progress report(s) overdue.") % {"n": overdue}, "danger"))
    late = extra.get("late_rectifications") if extra else _late_rectifications(project, today).count()
    if late:
        found.append(
            Alert("rectification_overdue", _("%(n)s rectification(s) past their deadline.") % {"n": late}, "danger")
        )
    if project.status == ProjectStatus.SUSPENDED:
        found.append(Alert("suspended", project.flag_reason or _("Suspended."), "danger"))
    spent_total = project.spent_total
    if spent_total > project.released_total:
        found.append(
            Alert(
                "spent_over_released",
                _("%(spent)s spent, more than the %(released)s released.")
                % {"spent": format_money(spent_total), "released": format_money(project.released_total)},
                "danger",
                ledger_url(project.pk),
            )
        )
    money = (extra or {}).get("money") or money_alert_counts([project.pk])[project.pk]
    if money["receipts_overdue"]:
        found.append(
            Alert(
                "receipts_pending",
                _("%(n)s entry(ies) still without their receipt after %(days)s days.")
                % {"n": money["receipts_overdue"], "days": getattr(settings, "RECEIPT_PENDING_DAYS", 30)},
                "warning",
                ledger_url(project.pk, show="pending"),
            )
        )
    if money["duplicate_invoices"]:
        found.append(
            Alert(
                "duplicate_invoice",
                _("%(n)s attempt(s) to claim an invoice already claimed.") % {"n": money["duplicate_invoices"]},
                "danger",
                reverse("supervision:duplicate_invoices", args=[project.pk]),
            )
        )
    if money["after_close"]:
        found.append(
            Alert(
                "after_close",
                _("%(n)s ledger entry(ies) recorded after the close-out.") % {"n": money["after_close"]},
                "danger",
                ledger_url(project.pk, show="after_close"),
            )
        )
    for a in found:
        if not a.url:
            a.url = _ALERT_ANCHORS.get(a.code, "").format(
                project=project.get_absolute_url(), ledger=ledger_url(project.pk)
            )
    return found


_ALERT_ANCHORS = {
    "unbudgeted": "{ledger}",
    "fee_cap": "{ledger}",
    "before_agreement": "{ledger}",
    "after_period": "{ledger}",
    "spend_rate": "{project}#budget",
    "report_overdue": "{project}#reports",
    "rectification_overdue": "{project}#rectifications",
    "suspended": "{project}#evaluations",
}


def budget_figures(project, today):
    """Budget against actual with alerts and the by-category chart, shared by the workspace and the report PDF."""
    lines, categories = budget_vs_actual(project)
    for line in lines:
        line.remaining = line.amount - line.spent
    spent = sum((c["spent"] for c in categories), ZERO)
    return {
        "lines": lines,
        "categories": categories,
        "spent": spent,
        "spent_share": spent * 100 / project.grant if project.grant else ZERO,
        "elapsed_share": time_elapsed_share(project, today),
        "alerts": alerts(project, today, lines=lines, categories=categories),
        "category_chart": charts.grouped_bars(
            [c["name"] for c in categories],
            {_("Approved budget"): [c["approved"] for c in categories], _("Spent"): [c["spent"] for c in categories]},
            title=_("Budget and spending by category"),
            value_format=format_money,
        ),
    }


def _overdue_reports(project, today=None):
    today = today or timezone.localdate()
    return project.reports.filter(status__in=[ReportStatus.DUE, ReportStatus.CHANGES], due_on__lt=today)


def _late_rectifications(project, today=None):
    today = today or timezone.localdate()
    return project.rectifications.filter(deadline__lt=today).exclude(status=RectificationStatus.CLOSED)


def overdue_count(project, today=None):
    return _overdue_reports(project, today).count()


def overdue_report_ids(project, today=None):
    return set(_overdue_reports(project, today).values_list("pk", flat=True))


def late_rectification_ids(project, today=None):
    return set(_late_rectifications(project, today).values_list("pk", flat=True))


def project_reports(project, today=None):
    """The project's progress reports, each with ``overdue`` set by the same rule as the alert; two queries."""
    late = overdue_report_ids(project, today)
    reports = list(project.reports.select_related("reviewed_by"))
    for r in reports:
        r.overdue = r.pk in late
    return reports


def project_rectifications(project, today=None):
    """The project's rectification items, each with ``late`` (open past the deadline, as in the alert)."""
    late = late_rectification_ids(project, today)
    items = list(project.rectifications.select_related("visit"))
    for r in items:
        r.late = r.pk in late
    return items


def _count_per_project(queryset):
    """An annotation of FundedProject: how many rows of ``queryset`` belong to the project (0 when none). Unordered:
    the rows' default ordering (by project, hence by round and title) joined two tables in every subquery."""
    return Coalesce(
        Subquery(
            queryset.filter(project=OuterRef("pk")).order_by().values("project").annotate(n=Count("pk")).values("n")[:1]
        ),
        Value(0),
    )


def portfolio_projects(competition=None, status=None, q=None, supervisor=None):
    """The funded projects the portfolio shows (filtered by round, status and a search of the title or the
    organization's name; ``supervisor``: only the projects that user supervises), in the page's order: by round,
    then title. A queryset: nothing is read yet."""
    projects = FundedProject.objects.all()
    if supervisor is not None:
        projects = projects.filter(supervisors=supervisor)
    if competition is not None:
        projects = projects.filter(competition=competition)
    if status:
        projects = projects.filter(status=status)
    if q:
        projects = projects.filter(Q(title__icontains=q) | Q(organization__name__icontains=q))
    return projects.order_by("competition_id", "title", "pk")


def portfolio(competition=None, today=None, status=None, q=None, supervisor=None):
    """The rows of every project the filters match (see ``portfolio_projects`` and ``portfolio_rows``)."""
    return portfolio_rows(portfolio_projects(competition=competition, status=status, q=q, supervisor=supervisor), today)


def portfolio_rows(projects, today=None):
    """One row per project of ``projects`` (a queryset, possibly one page of ``portfolio_projects``) with grant,
    released, spent, spent % vs time elapsed %, people served vs target, open rectifications, overdue reports,
    alerts, and the spending by category. Five queries whatever the number of projects: the ledger is read through
    its running totals (venture.supervision.ledger)."""
    today = today or timezone.localdate()
    projects = projects.select_related("organization")

    count = _count_per_project
    people = (
        ProgressReport.objects.filter(project=OuterRef("pk"), status=ReportStatus.ACCEPTED)
        .order_by()
        .values("project")
        .annotate(s=Sum("people_served"))
        .values("s")
    )
    open_items = Rectification.objects.exclude(status=RectificationStatus.CLOSED)
    projects = list(
        projects.annotate(
            people=Coalesce(Subquery(people[:1]), Value(0)),
            overdue=count(
                ProgressReport.objects.filter(status__in=[ReportStatus.DUE, ReportStatus.CHANGES], due_on__lt=today)
            ),
            open_rectifications=count(open_items),
            late_rectifications=count(open_items.filter(deadline__lt=today)),
            **money_alert_annotations(),
        )
    )
    # Plain tuples rather than model instances below: building thousands of instances was most of the page's time.
    competitions = Competition.objects.in_bulk({p.competition_id for p in projects})
    categories = _round_categories(competitions)
    ids = [p.pk for p in projects]
    lines_by_project, spend_by_project = {}, {}
    for pk, project_id, category_id, item, amount, spent in (
        ApprovedLine.objects.filter(project_id__in=ids)
        .values_list("pk", "project_id", "category_id", "item", "amount", "spent")
        .order_by("category__order", "id")
    ):
        lines_by_project.setdefault(project_id, []).append(LineTotal(pk, category_id, item, amount, spent))
    for project_id, category_id, amount in CategorySpend.objects.filter(project_id__in=ids).values_list(
        "project_id", "category_id", "amount"
    ):
        spend_by_project.setdefault(project_id, []).append((category_id, amount))
    # One reverse() for the page, not one per row: the project's address with its id filled in.
    url = reverse("supervision:project", args=[2**31 - 1]).replace(str(2**31 - 1), "{}")
    rows = []
    for p in projects:
        lines = lines_by_project.get(p.pk, [])
        p.competition = competitions[p.competition_id]
        cats = _categories(lines, spend_by_project.get(p.pk, []), categories)
        found = alerts(
            p,
            today,
            lines=lines,
            categories=cats,
            extra={
                "overdue": p.overdue,
                "late_rectifications": p.late_rectifications,
                "money": {k: getattr(p, k) for k in MONEY_ALERTS},
            },
        )
        spent = p.spent_total
        rows.append(
            {
                "project": p,
                "url": url.format(p.pk),
                "grant": p.grant,
                "released": p.released_total,
                "spent": spent,
                "spent_share": spent * 100 / p.grant if p.grant else ZERO,
                "elapsed_share": time_elapsed_share(p, today),
                "people": p.people,
                "people_target": p.people_target,
                "open_rectifications": p.open_rectifications,
                "overdue": p.overdue,
                "alerts": found,
                "categories": cats,
            }
        )
    return rows


# --- Pages: the workspace, the portfolio's charts, an organization's record ----------------------------------------


def people_served(project):
    """People served according to the accepted progress reports."""
    return ProgressReport.objects.filter(project=project, status=ReportStatus.ACCEPTED).aggregate(
        n=Coalesce(Sum("people_served"), Value(0))
    )["n"]


def cumulative_spending(project):
    """[(date, spent up to and including that day)] from the ledger; one query."""
    total, points = ZERO, []
    for row in Expenditure.objects.filter(project=project).values("date").annotate(s=Sum("amount")).order_by("date"):
        total += row["s"]
        points.append((row["date"], total))
    return points


@dataclass
class PortfolioGroup:
    """Totals of the portfolio's projects of one round, of one status, or of all of them."""

    count: int = 0
    grant: Decimal = ZERO
    released: Decimal = ZERO
    spent: Decimal = ZERO
    open_rectifications: int = 0
    overdue: int = 0
    label: str = ""
    key: object = None  # the round's id or the status's value

    def add(self, row):
        self.count += row["n"]
        self.grant += row["grant"]
        self.released += row["released"]
        self.spent += row["spent"]
        self.open_rectifications += row["open_rectifications"]
        self.overdue += row["overdue"]


def portfolio_summary(projects, today=None):
    """Totals over every project of ``projects`` (a ``portfolio_projects`` queryset, all of it, not one page), added
    up in the database from the running totals: {"all": PortfolioGroup, "by_status": [...], "by_round": [...]}.
    One grouped query (by round and status; its few groups are then added up here)."""
    today = today or timezone.localdate()
    count = _count_per_project
    groups = (
        projects.order_by()
        .annotate(
            open_items=count(Rectification.objects.exclude(status=RectificationStatus.CLOSED)),
            overdue_reports=count(
                ProgressReport.objects.filter(status__in=[ReportStatus.DUE, ReportStatus.CHANGES], due_on__lt=today)
            ),
        )
        .values("competition_id", "competition__title", "status")
        .annotate(
            n=Count("pk"),
            grant=Sum("grant"),
            released=Sum("released_total"),
            spent=Sum("spent_total"),
            open_rectifications=Sum("open_items"),
            overdue=Sum("overdue_reports"),
        )
        .order_by("competition_id", "status")
    )
    total, by_status, by_round = PortfolioGroup(), {}, {}
    for row in groups:
        total.add(row)
        by_round.setdefault(
            row["competition_id"], PortfolioGroup(label=row["competition__title"], key=row["competition_id"])
        ).add(row)
        by_status.setdefault(
            row["status"], PortfolioGroup(label=ProjectStatus(row["status"]).label, key=row["status"])
        ).add(row)
    order = {value: i for i, value in enumerate(ProjectStatus.values)}
    return {
        "all": total,
        "by_status": sorted(by_status.values(), key=lambda g: order[g.key]),
        "by_round": list(by_round.values()),
    }


def portfolio_monthly_totals(projects):
    """[(first day of the month, spent)] over every project of ``projects``, summed in the database from the
    ledger's monthly running totals; one query."""
    return list(
        MonthlySpend.objects.filter(project__in=projects.values("pk"))
        .values("month")
        .annotate(s=Sum("amount"))
        .values_list("month", "s")
        .order_by("month")
    )


def portfolio_category_totals(projects):
    """Approved and spent by budget category name over every project of ``projects`` (rounds name their categories
    alike), summed in the database from the approved lines and the ledger's running totals per category, in the
    categories' order: [(name, approved, spent)]; two queries. A category spent in that a budget lacks counts with
    nothing approved."""
    totals = {}
    for model, column in ((ApprovedLine, 1), (CategorySpend, 2)):
        for name, order, amount in (
            model.objects.filter(project__in=projects.values("pk"))
            .values("category__name")
            .annotate(order=Min("category__order"), s=Sum("amount"))
            .values_list("category__name", "order", "s")
            .order_by()
        ):
            t = totals.setdefault(name, [order, ZERO, ZERO])
            t[0] = min(t[0], order)
            t[column] += amount
    return [
        (name, approved, spent)
        for name, (_o, approved, spent) in sorted(totals.items(), key=lambda kv: (kv[1][0], kv[0]))
    ]


def feedback_summary(project, latest=5):
    """Average rating, count and the latest comments of the beneficiaries' feedback; two queries."""

    stats = Feedback.objects.filter(project=project).aggregate(
        average=Avg("rating"), count=Count("pk"), commented=Count("pk", filter=~Q(comment=""))
    )
    comments = list(
        Feedback.objects.filter(project=project).exclude(comment="").values("rating", "comment", "created_at")[:latest]
    )
    average = Decimal(str(stats["average"])).quantize(Decimal("0.01")) if stats["average"] is not None else None
    # ratings without a comment are counted but not listed: the page says how many of them have one
    return {"average": average, "count": stats["count"], "commented": stats["commented"], "comments": comments}
