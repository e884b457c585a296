"""Reads for supervision: budget against actual, alerts, the portfolio — sums in the database, in Decimal, in a
fixed number of queries whatever the number of projects or ledger rows."""

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
    late = extra.get("late_rectifications") if extra else project.rectifications.filter(
        deadline__lt=today).exclude(status=RectificationStatus.CLOSED).count()
    if late:
        found.append(Alert("rectification_overdue", _("%(n)s rectification(s) past their deadline.") % {"n": late},
                           "danger"))
    if project.status == ProjectStatus.SUSPENDED:
        found.append(Alert("suspended", project.flag_reason or _("Suspended."), "danger"))
    return found


def overdue_count(project, today=None):
    today = today or timezone.localdate()
    return project.reports.filter(status__in=[ReportStatus.DUE, ReportStatus.CHANGES], due_on__lt=today).count()


def portfolio(competition=None, today=None, status=None, q=None):
    """One row per funded project with grant, released, spent, spent % vs time elapsed %, people served vs target,
    open rectifications, overdue reports and alerts. A fixed number of queries."""
    today = today or timezone.localdate()
    projects = FundedProject.objects.select_related("competition", "organization")
    if competition is not None:
        projects = projects.filter(competition=competition)
    if status:
        projects = projects.filter(status=status)
    if q:
        projects = projects.filter(Q(title__icontains=q) | Q(organization__name__icontains=q))
    spent = Expenditure.objects.filter(project=OuterRef("pk")).values("project").annotate(s=Sum("amount")).values("s")
    people = (ProgressReport.objects.filter(project=OuterRef("pk"), status=ReportStatus.ACCEPTED).values("project")
              .annotate(s=Sum("people_served")).values("s"))
    projects = projects.annotate(
        spent=Coalesce(Subquery(spent[:1]), Value(ZERO), output_field=MONEY_FIELD),
        people=Coalesce(Subquery(people[:1]), Value(0)),
        overdue=Count("reports", filter=Q(reports__status__in=[ReportStatus.DUE, ReportStatus.CHANGES],
                                          reports__due_on__lt=today), distinct=True),
        open_rectifications=Subquery(Rectification.objects.filter(project=OuterRef("pk")).exclude(
            status=RectificationStatus.CLOSED).values("project").annotate(n=Count("pk")).values("n")[:1]),
        late_rectifications=Subquery(Rectification.objects.filter(project=OuterRef("pk"), deadline__lt=today).exclude(
            status=RectificationStatus.CLOSED).values("project").annotate(n=Count("pk")).values("n")[:1]),
        first_spend=Subquery(Expenditure.objects.filter(project=OuterRef("pk")).order_by("date").values("date")[:1]),
        last_spend=Subquery(Expenditure.objects.filter(project=OuterRef("pk")).order_by("-date").values("date")[:1]),
    ).order_by("competition_id", "title")
    projects = list(projects)
    ids = [p.pk for p in projects]
    lines_by_project = {}
    for line in (ApprovedLine.objects.filter(project_id__in=ids).select_related("category")
                 .annotate(spent=Coalesce(Sum("expenditures__amount"), Value(ZERO), output_field=MONEY_FIELD))):
        lines_by_project.setdefault(line.project_id, []).append(line)
    cat_spent = {}
    for row in (Expenditure.objects.filter(project_id__in=ids).values("project_id", "category_id")
                .annotate(s=Sum("amount"))):
        cat_spent[(row["project_id"], row["category_id"])] = row["s"]
    from venture.competitions.models import BudgetCategory

    categories = {c.pk: c for c in BudgetCategory.objects.filter(
        competition_id__in={p.competition_id for p in projects})}
    rows = []
    for p in projects:
        lines = lines_by_project.get(p.pk, [])
        cats = {}
        for line in lines:
            cats.setdefault(line.category_id, {"category": line.category, "name": line.category.name,
                                               "approved": ZERO, "spent": ZERO})["approved"] += line.amount
        for (pid, cid), s in cat_spent.items():
            if pid == p.pk:
                cat = categories.get(cid)
                cats.setdefault(cid, {"category": cat, "name": cat.name if cat else "?", "approved": ZERO,
                                      "spent": ZERO})["spent"] = s
        found = alerts(p, today, lines=lines, categories=list(cats.values()), extra={
            "dates": {"first": p.first_spend, "last": p.last_spend}, "overdue": p.overdue,
            "late_rectifications": p.late_rectifications or 0})
        rows.append({
            "project": p, "grant": p.grant, "released": p.released_total, "spent": p.spent,
            "spent_share": p.spent * 100 / p.grant if p.grant else ZERO,
            "elapsed_share": time_elapsed_share(p, today), "people": p.people, "people_target": p.people_target,
            "open_rectifications": p.open_rectifications or 0, "overdue": p.overdue, "alerts": found,
        })
    return rows
