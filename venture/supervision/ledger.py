"""Running totals of the expenditure ledger: spent per approved line (``ApprovedLine.spent``), per budget category
(``CategorySpend``) and per month (``MonthlySpend``), and per project (``FundedProject.spent_total`` with the first
and last spending dates).

The ledger itself stays the record; the totals are what the portfolio and the workspace read, so that a page over
200 projects with 2,000 ledger rows each reads a few thousand small rows instead of grouping 400,000. Every change to
the ledger calls ``refresh_totals`` for its project inside the same transaction, after taking the project's row lock,
so two writers never interleave a recomputation. Recomputing from the ledger (rather than adding to a counter) keeps
the totals exact whatever changed; for one project it is four grouped queries over that project's rows.

``manage.py ledger_totals --check`` compares the stored totals with a fresh computation and ``--fix`` rewrites them
(after a restore from an old backup, or a change made outside the application).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections
from django.db.models import CharField, DateField, Max, Min, Sum
from django.db.models.functions import Cast, Substr, TruncMonth

from .models import ApprovedLine, CategorySpend, Expenditure, FundedProject, MonthlySpend

ZERO = Decimal("0")


@dataclass
class Totals:
    """Fresh totals of a set of projects, computed from the ledger."""

    projects: dict = field(default_factory=dict)  # {project id: (spent, first date, last date)}
    lines: dict = field(default_factory=dict)  # {line id: spent}, every line of the projects
    categories: dict = field(default_factory=dict)  # {(project id, category id): spent}
    months: dict = field(default_factory=dict)  # {(project id, first day of the month): spent}


def _models(apps=None):
    if apps is not None:  # a data migration passes its historical models
        return [
            apps.get_model("supervision", name)
            for name in ("Expenditure", "ApprovedLine", "FundedProject", "CategorySpend", "MonthlySpend")
        ]

    return [Expenditure, ApprovedLine, FundedProject, CategorySpend, MonthlySpend]


def _scope(queryset, project_ids, key="project_id__in"):
    return queryset if project_ids is None else queryset.filter(**{key: list(project_ids)})


def compute_totals(project_ids=None, apps=None):
    """The totals of the given projects (None: of every project) from their ledger rows: four grouped queries
    plus one for the project ids and one for the line ids."""
    Expenditure, ApprovedLine, FundedProject, _c, _m = _models(apps)
    entries = _scope(Expenditure.objects.all(), project_ids)
    totals = Totals()
    for pk in _scope(FundedProject.objects.all(), project_ids, "pk__in").values_list("pk", flat=True):
        totals.projects[pk] = (ZERO, None, None)
    for row in entries.values("project_id").annotate(s=Sum("amount"), first=Min("date"), last=Max("date")).order_by():
        totals.projects[row["project_id"]] = (row["s"], row["first"], row["last"])
    for pk in _scope(ApprovedLine.objects.all(), project_ids).values_list("pk", flat=True):
        totals.lines[pk] = ZERO
    for line_id, s in entries.exclude(line=None).values_list("line_id").annotate(s=Sum("amount")).order_by():
        totals.lines[line_id] = s
    for project_id, category_id, s in (
        entries.values_list("project_id", "category_id").annotate(s=Sum("amount")).order_by()
    ):
        totals.categories[project_id, category_id] = s
    for project_id, month, s in (
        entries.annotate(m=_month(entries.db)).values_list("project_id", "m").annotate(s=Sum("amount")).order_by()
    ):
        if isinstance(month, str):  # "YYYY-MM" from SQLite
            month = datetime.date(int(month[:4]), int(month[5:7]), 1)
        elif isinstance(month, datetime.datetime):
            month = month.date()
        totals.months[project_id, month] = s
    return totals


def _month(alias):
    """The month of the entry's date. SQLite stores dates as ISO text, so its first seven characters are the month
    in native SQL (TruncMonth would call back into Python for every row there); elsewhere TruncMonth, which does not
    depend on how the server formats dates as text."""
    if connections[alias].vendor == "sqlite":
        return Substr(Cast("date", output_field=CharField()), 1, 7)
    return TruncMonth("date", output_field=DateField())


def stored_totals(project_ids=None, apps=None):
    """The totals as stored, in the same shape as ``compute_totals``."""
    _e, ApprovedLine, FundedProject, CategorySpend, MonthlySpend = _models(apps)
    totals = Totals()
    for pk, spent, first, last in _scope(FundedProject.objects.all(), project_ids, "pk__in").values_list(
        "pk", "spent_total", "first_spent_on", "last_spent_on"
    ):
        totals.projects[pk] = (spent, first, last)
    totals.lines = dict(_scope(ApprovedLine.objects.all(), project_ids).values_list("pk", "spent"))
    for project_id, category_id, amount in _scope(CategorySpend.objects.all(), project_ids).values_list(
        "project_id", "category_id", "amount"
    ):
        totals.categories[project_id, category_id] = amount
    for project_id, month, amount in _scope(MonthlySpend.objects.all(), project_ids).values_list(
        "project_id", "month", "amount"
    ):
        totals.months[project_id, month] = amount
    return totals


def differences(project_ids=None, apps=None):
    """Where the stored totals differ from the ledger: [(what, key, stored, computed)]; empty when they agree."""
    fresh, stored = compute_totals(project_ids, apps), stored_totals(project_ids, apps)
    found = []
    for what in ("projects", "lines", "categories", "months"):
        a, b = getattr(stored, what), getattr(fresh, what)
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                found.append((what, key, a.get(key), b.get(key)))
    return found


def lock_projects(project_ids=None):
    """Take the row locks of the projects (None: all), as every ledger write does, so that totals computed next
    cannot miss an entry being recorded meanwhile. Inside a transaction."""
    _e, _l, FundedProject, _c, _m = _models()
    list(_scope(FundedProject.objects.select_for_update(), project_ids, "pk__in").values_list("pk", flat=True))


def refresh_totals(project_ids=None, apps=None):
    """Rewrite the stored totals of the given projects (None: all) from their ledger. Call it inside the
    transaction that changed the ledger, after locking the project row."""
    _e, ApprovedLine, FundedProject, CategorySpend, MonthlySpend = _models(apps)
    fresh = compute_totals(project_ids, apps)
    stored = stored_totals(project_ids, apps)
    changed = [
        FundedProject(pk=pk, spent_total=s, first_spent_on=first, last_spent_on=last)
        for pk, (s, first, last) in fresh.projects.items()
        if stored.projects.get(pk) != (s, first, last)
    ]
    FundedProject.objects.bulk_update(changed, ["spent_total", "first_spent_on", "last_spent_on"], batch_size=500)
    changed = [ApprovedLine(pk=pk, spent=s) for pk, s in fresh.lines.items() if stored.lines.get(pk) != s]
    ApprovedLine.objects.bulk_update(changed, ["spent"], batch_size=500)
    if fresh.categories != stored.categories:
        _scope(CategorySpend.objects.all(), project_ids).delete()
        CategorySpend.objects.bulk_create(
            [CategorySpend(project_id=p, category_id=c, amount=s) for (p, c), s in fresh.categories.items()],
            batch_size=1000,
        )
    if fresh.months != stored.months:
        _scope(MonthlySpend.objects.all(), project_ids).delete()
        MonthlySpend.objects.bulk_create(
            [MonthlySpend(project_id=p, month=m, amount=s) for (p, m), s in fresh.months.items()], batch_size=1000
        )
    return fresh
