"""Reads for supervision: budget against actual, alerts, the portfolio — sums in the database, in Decimal, in a
fixed number of queries whatever the number of projects or ledger rows."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, Max, Min, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    ApprovedLine,
    Expenditure,
    FundedProject,
    ProgressReport,
    ProjectStatus,
    Rectification,
    RectificationStatus,
    ReportStatus,
)

ZERO = Decimal("0")
MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


def _sum(qs, field="amount"):
    return Coalesce(Subquery(qs.values(field).annotate(s=Sum("amount")).values("s")[:1]), Value(ZERO),
                    output_field=MONEY_FIELD)


def budget_vs_actual(project):
    """Per line and per category: approved, spent, remaining, spent share. Two queries."""
    lines = list(ApprovedLine.objects.filter(project=project).select_related("category")
                 .annotate(spent=Coalesce(Sum("expenditures__amount"), Value(ZERO), output_field=MONEY_FIELD))
                 .order_by("category__order", "id"))
    by_category = {}
    for line in lines:
        c = by_category.setdefault(line.category_id, {"category": line.category, "approved": ZERO, "spent": ZERO})
        c["approved"] += line.amount
    for row in (Expenditure.objects.filter(project=project).values("category_id", "category__name",
                                                                   "category__order")
                .annotate(s=Sum("amount"))):
        c = by_category.setdefault(row["category_id"], {"category": None, "name": row["category__name"],
                                                        "approved": ZERO, "spent": ZERO})
        c["spent"] = row["s"]
    missing = [pk for pk, c in by_category.items() if c["category"] is None]
    if missing:  # spent in a category the budget lacks: its rules (management-fee cap) still apply
        from venture.competitions.models import BudgetCategory

        for pk, category in BudgetCategory.objects.in_bulk(missing).items():
            by_category[pk]["category"] = category
    for c in by_category.values():
        c["name"] = c["category"].name if c["category"] else c.get("name")
        c["remaining"] = c["approved"] - c["spent"]
        c["share"] = (c["spent"] / c["approved"] * 100) if c["approved"] else None
    return lines, list(by_category.values())


@dataclass
class Alert:
    code: str
    message: str
    severity: str = "warning"


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
            found.append(Alert("overspend", _("“%(item)s” has spent ¥%(spent)s of ¥%(approved)s, more than %(tol)s%% "
                                              "over its budget.") % {
                "item": line.item, "spent": f"{line.spent:,.2f}", "approved": f"{line.amount:,.2f}",
                "tol": f"{tolerance.normalize():f}"}, "danger"))
    for cat in categories:
        if cat["approved"] == 0 and cat["spent"] > 0:
            found.append(Alert("unbudgeted", _("¥%(spent)s spent in “%(cat)s”, a category the budget lacks.") % {
                "spent": f"{cat['spent']:,.2f}", "cat": cat["name"]}, "danger"))
    spent_total = sum((cat["spent"] for cat in categories), ZERO)
    fee = [cat for cat in categories if cat["category"] is not None and cat["category"].is_management_fee]
    for cat in fee:
        cap = cat["category"].cap_percent
        if cap is not None and cat["spent"] > project.grant * cap / 100:
            found.append(Alert("fee_cap", _("Management fee ¥%(spent)s is above the %(cap)s%% cap (¥%(limit)s).") % {
                "spent": f"{cat['spent']:,.2f}", "cap": f"{cap.normalize():f}",
                "limit": f"{project.grant * cap / 100:,.2f}"}, "danger"))
    bounds = extra.get("dates") if extra else None
    if bounds is None:
        bounds = Expenditure.objects.filter(project=project).aggregate(first=Min("date"), last=Max("date"))
    if bounds["first"] and bounds["first"] < project.signed_on:
        found.append(Alert("before_agreement", _("Spending dated %(day)s, before the agreement was signed (%(signed)s).")
                           % {"day": bounds["first"].isoformat(), "signed": project.signed_on.isoformat()}))
    if bounds["last"] and bounds["last"] > project.period_end:
        found.append(Alert("after_period", _("Spending dated %(day)s, after the project period.") % {
            "day": bounds["last"].isoformat()}))
    if project.status == ProjectStatus.ACTIVE and project.grant:
        elapsed = time_elapsed_share(project, today)
        spent_share = spent_total * 100 / project.grant
        if abs(spent_share - elapsed) > c.spend_rate_tolerance:
            found.append(Alert("spend_rate", _("%(spent)s%% of the grant spent after %(elapsed)s%% of the project "
                                               "period.") % {"spent": f"{spent_share:.0f}",
                                                             "elapsed": f"{elapsed:.0f}"}))
    overdue = extra.get("overdue") if extra else overdue_count(project, today)
    if overdue:
        found.append(Alert("report_overdue", _("%(n)s progress report(s) overdue.") % {"n": overdue}, "danger"))
    late = extra.get("late_rectifications") if extra else _late_rectifications(project, today).count()
    if late:
        found.append(Alert("rectification_overdue", _("%(n)s rectification(s) past their deadline.") % {"n": late},
                           "danger"))
    if project.status == ProjectStatus.SUSPENDED:
        found.append(Alert("suspended", project.flag_reason or _("Suspended."), "danger"))
    return found


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


def _ledger_by_project(project_ids=None):
    """The ledger of the projects (None: of every project, read sequentially rather than through an IN list of
    ids, which SQLite answers by one index lookup per ledger row) in ONE grouped pass — the expensive part at
    hundreds of thousands of rows:
    {project id: {"lines": {line id: spent}, "categories": {category id: spent}, "total", "first", "last" (dates),
    "months": {first day of the month: spent}}}. Months come from the ISO date text, a native SQL function on
    SQLite and PostgreSQL alike (TruncMonth calls back into Python for every row on SQLite)."""
    from django.db.models import CharField
    from django.db.models.functions import Cast, Substr

    ledger = {}
    entries = Expenditure.objects.all() if project_ids is None else Expenditure.objects.filter(
        project_id__in=project_ids)
    rows = (entries
            .annotate(month=Substr(Cast("date", output_field=CharField()), 1, 7))
            .values("project_id", "category_id", "line_id", "month")
            .annotate(s=Sum("amount"), first=Min("date"), last=Max("date")).order_by())
    for row in rows:
        p = ledger.setdefault(row["project_id"], {"lines": {}, "categories": {}, "total": ZERO, "first": None,
                                                  "last": None, "months": {}})
        s = row["s"]
        if row["line_id"] is not None:
            p["lines"][row["line_id"]] = p["lines"].get(row["line_id"], ZERO) + s
        p["categories"][row["category_id"]] = p["categories"].get(row["category_id"], ZERO) + s
        p["total"] += s
        p["first"] = row["first"] if p["first"] is None else min(p["first"], row["first"])
        p["last"] = row["last"] if p["last"] is None else max(p["last"], row["last"])
        month = datetime.date(int(row["month"][:4]), int(row["month"][5:7]), 1)
        p["months"][month] = p["months"].get(month, ZERO) + s
    return ledger


EMPTY_LEDGER = {"lines": {}, "categories": {}, "total": ZERO, "first": None, "last": None, "months": {}}


def portfolio(competition=None, today=None, status=None, q=None, supervisor=None):
    """One row per funded project with grant, released, spent, spent % vs time elapsed %, people served vs target,
    open rectifications, overdue reports, alerts, and the spending by category and by month. A fixed number of
    queries, one pass over the ledger. ``supervisor``: only the projects that user supervises."""
    today = today or timezone.localdate()
    projects = FundedProject.objects.select_related("competition", "organization")
    if supervisor is not None:
        projects = projects.filter(supervisors=supervisor)
    if competition is not None:
        projects = projects.filter(competition=competition)
    if status:
        projects = projects.filter(status=status)
    if q:
        projects = projects.filter(Q(title__icontains=q) | Q(organization__name__icontains=q))
    people = (ProgressReport.objects.filter(project=OuterRef("pk"), status=ReportStatus.ACCEPTED).values("project")
              .annotate(s=Sum("people_served")).values("s"))
    projects = projects.annotate(
        people=Coalesce(Subquery(people[:1]), Value(0)),
        overdue=Count("reports", filter=Q(reports__status__in=[ReportStatus.DUE, ReportStatus.CHANGES],
                                          reports__due_on__lt=today), distinct=True),
        open_rectifications=Subquery(Rectification.objects.filter(project=OuterRef("pk")).exclude(
            status=RectificationStatus.CLOSED).values("project").annotate(n=Count("pk")).values("n")[:1]),
        late_rectifications=Subquery(Rectification.objects.filter(project=OuterRef("pk"), deadline__lt=today).exclude(
            status=RectificationStatus.CLOSED).values("project").annotate(n=Count("pk")).values("n")[:1]),
    ).order_by("competition_id", "title")
    projects = list(projects)
    ids = [p.pk for p in projects]
    # Most of the projects shown: one sequential pass over the whole ledger beats an index lookup per ledger row
    # (SQLite has no statistics to choose by itself); the other projects' sums are simply not looked at.
    unfiltered = supervisor is None and competition is None and not status and not q
    most = unfiltered or len(ids) * 2 > FundedProject.objects.count()
    ledger = _ledger_by_project(None if most else ids)
    lines_by_project = {}
    for line in ApprovedLine.objects.filter(project_id__in=ids).select_related("category"):
        line.spent = ledger.get(line.project_id, EMPTY_LEDGER)["lines"].get(line.pk, ZERO)
        lines_by_project.setdefault(line.project_id, []).append(line)
    from venture.competitions.models import BudgetCategory

    categories = {c.pk: c for c in BudgetCategory.objects.filter(
        competition_id__in={p.competition_id for p in projects})}
    rows = []
    for p in projects:
        lines = lines_by_project.get(p.pk, [])
        spending = ledger.get(p.pk, EMPTY_LEDGER)
        cats = {}
        for line in lines:
            cats.setdefault(line.category_id, {"category": line.category, "name": line.category.name,
                                               "approved": ZERO, "spent": ZERO})["approved"] += line.amount
        for cid, s in spending["categories"].items():
            cat = categories.get(cid)
            cats.setdefault(cid, {"category": cat, "name": cat.name if cat else "?", "approved": ZERO,
                                  "spent": ZERO})["spent"] = s
        found = alerts(p, today, lines=lines, categories=list(cats.values()), extra={
            "dates": {"first": spending["first"], "last": spending["last"]}, "overdue": p.overdue,
            "late_rectifications": p.late_rectifications or 0})
        spent = spending["total"]
        rows.append({
            "project": p, "grant": p.grant, "released": p.released_total, "spent": spent,
            "spent_share": spent * 100 / p.grant if p.grant else ZERO,
            "elapsed_share": time_elapsed_share(p, today), "people": p.people, "people_target": p.people_target,
            "open_rectifications": p.open_rectifications or 0, "overdue": p.overdue, "alerts": found,
            "categories": list(cats.values()), "months": spending["months"],
        })
    return rows


# --- Pages: the workspace, the portfolio's charts, an organization's record ----------------------------------------


def people_served(project):
    """People served according to the accepted progress reports."""
    return (ProgressReport.objects.filter(project=project, status=ReportStatus.ACCEPTED)
            .aggregate(n=Coalesce(Sum("people_served"), Value(0)))["n"])


def cumulative_spending(project):
    """[(date, spent up to and including that day)] from the ledger; one query."""
    total, points = ZERO, []
    for row in Expenditure.objects.filter(project=project).values("date").annotate(s=Sum("amount")).order_by("date"):
        total += row["s"]
        points.append((row["date"], total))
    return points


def monthly_totals(rows):
    """[(first day of the month, spent)] across portfolio rows (no query)."""
    months = {}
    for row in rows:
        for month, amount in row["months"].items():
            months[month] = months.get(month, ZERO) + amount
    return sorted(months.items())


def category_totals(rows):
    """Approved and spent by budget category name across portfolio rows (no query): [(name, approved, spent)]."""
    totals = {}
    for row in rows:
        for cat in row["categories"]:
            order = cat["category"].order if cat["category"] is not None else 999
            t = totals.setdefault(cat["name"], [order, ZERO, ZERO])
            t[0], t[1], t[2] = min(t[0], order), t[1] + cat["approved"], t[2] + cat["spent"]
    return [(name, approved, spent) for name, (_o, approved, spent) in sorted(totals.items(),
                                                                             key=lambda kv: (kv[1][0], kv[0]))]


def feedback_summary(project, latest=5):
    """Average rating, count and the latest comments of the beneficiaries' feedback; two queries."""
    from django.db.models import Avg

    from .models import Feedback

    stats = Feedback.objects.filter(project=project).aggregate(average=Avg("rating"), count=Count("pk"))
    comments = list(Feedback.objects.filter(project=project).exclude(comment="")
                    .values("rating", "comment", "created_at")[:latest])
    average = Decimal(str(stats["average"])).quantize(Decimal("0.01")) if stats["average"] is not None else None
    return {"average": average, "count": stats["count"], "comments": comments}


def organization_projects(organization):
    """An organization's funded projects with their evaluations, newest round first; two queries."""
    from django.db.models import Prefetch

    from .models import Evaluation

    return list(FundedProject.objects.filter(organization=organization).select_related("competition")
                .prefetch_related(Prefetch("evaluations", queryset=Evaluation.objects.order_by("created_at")))
                .order_by("-competition__year", "-signed_on", "title"))
