"""Writes to a round (competition): its settings, the related sets (service categories, budget rules, tranche plan,
rubric, mid-term and final evaluation rubrics) and its stage. Every function runs in one transaction and writes one
audit event (none when nothing changed).

The rubric (``judging.rubric``) and the evaluation rubrics (``venture.supervision.evaluation_rubric``) are set-up
steps too, but they belong to those apps: they use the machinery here (``save_rows``) and register what a new round
and the opening check need from them in ``setup``.

The ``check_*`` functions hold the rules a round's setup must satisfy. Forms call them to show the errors next to the
fields; the ``save_*``/``create_*``/``update_*`` functions call them again, so a caller that skips the form (a test, a
script) cannot store a broken round either.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from venture.audit.services import record, snapshot
from venture.validators import validate_money

from . import policy, setup
from .models import (
    MANUAL_STAGES,
    STAGE_TRANSITIONS,
    BudgetCategory,
    Category,
    Competition,
    Stage,
    TrancheCondition,
    TranchePlanItem,
)

# The settings staff edit on the round's settings page (everything on Competition except the stage and timestamps).
SETTINGS_FIELDS = [
    "title",
    "year",
    "organizer",
    "description",
    "fund_pool",
    "min_grant",
    "max_grant",
    "opens_at",
    "closes_at",
    "finalist_quota",
    "project_start_earliest",
    "project_end_latest",
    "min_project_months",
    "max_project_months",
    "cofunding_share",
    "notice_working_days",
    "score_step",
    "comment_below",
    "comment_above",
    "presentation_minutes",
    "qa_minutes",
    "method",
    "trim",
    "tiebreak_criterion",
    "funding_rule",
    "report_frequency",
    "receipt_threshold",
    "overspend_tolerance",
    "spend_rate_tolerance",
    "evaluation_pass_mark",
]
MONEY_FIELDS = ["fund_pool", "min_grant", "max_grant", "receipt_threshold"]
SCORE_STEPS = (Decimal("1"), Decimal("0.5"))
HUNDRED = Decimal("100")

CATEGORY_FIELDS = ["name"]
BUDGET_CATEGORY_FIELDS = ["name", "cap_percent", "cap_amount", "is_management_fee"]
TRANCHE_FIELDS = ["percent", "condition"]


# --- Stage --------------------------------------------------------------------------------------------------------


# Who counts the applications a closing would lock out: the proposals app registers it (its apps.py), since this app
# may not import it. ``counter(competition)`` returns (drafts, organizations).
_lockout_counters = []


def register_lockout_counter(counter):
    if counter not in _lockout_counters:
        _lockout_counters.append(counter)


def early_consequence(competition, to, now=None):
    """What moving the round to ``to`` now does ahead of its published times, to be confirmed with a reason; "" when
    the change is on time. Opening before the opening time makes the call public early (it still accepts
    applications only from the opening time); closing before the deadline locks out whoever is still drafting."""
    now = now or timezone.now()
    current = Stage(competition.stage)
    if to == Stage.OPEN and current == Stage.DRAFT and now < competition.opens_at:
        return _(
            "The call opens on %(opens)s. Opening it now makes it public before then; applications are accepted "
            "only from that time."
        ) % {"opens": _local(competition.opens_at)}
    if to == Stage.SCREENING and current == Stage.OPEN and now < competition.closes_at:
        drafts = organizations = 0
        for counter in _lockout_counters:
            n, m = counter(competition)
            drafts, organizations = drafts + n, organizations + m
        return _(
            "The published deadline is %(deadline)s. Closing applications now, %(drafts)s drafts from "
            "%(organizations)s organizations will be locked out."
        ) % {"deadline": _local(competition.closes_at), "drafts": drafts, "organizations": organizations}
    return ""


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def advance_stage(*, competition, to, by, note="", manual=False, confirm=False):
    """Move the round to stage ``to`` by the transition table. ``manual`` (the stage buttons) may not enter the
    stages that have their own action (results, notice, supervision). A change ahead of the round's published times
    (``early_consequence``) needs ``confirm`` and a reason (``note``); the audit event records the consequence."""
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    current = Stage(competition.stage)
    if manual and to not in MANUAL_STAGES:
        raise ValidationError(
            _("“%(to)s” is entered from its own page, not with the stage buttons.") % {"to": Stage(to).label}
        )
    if to not in STAGE_TRANSITIONS[current]:
        raise ValidationError(
            _("A round cannot go from “%(from)s” to “%(to)s”.") % {"from": current.label, "to": Stage(to).label}
        )
    if to == Stage.OPEN:
        problems = opening_problems(competition)
        if problems:
            raise ValidationError(problems)
    consequence = early_consequence(competition, to)
    if consequence and not (confirm and note.strip()):
        raise ValidationError(
            _("%(consequence)s Confirm it and give the reason to go ahead.") % {"consequence": consequence},
            code="confirm",
        )
    competition.stage = to
    competition.save(update_fields=["stage", "updated_at"])
    after = {"stage": to, **({"early": consequence} if consequence else {})}
    record(
        actor=by, action="competition.stage", obj=competition, before={"stage": current.value}, after=after, note=note
    )
    return competition


def opening_problems(competition):
    """What must be in place before applicants may see and answer the call."""
    problems = []
    if not competition.categories.exists():
        problems.append(_("List at least one service category."))
    if not competition.budget_categories.exists():
        problems.append(_("List at least one budget category."))
    tranches = sum((t.percent for t in competition.tranche_plan.all()), Decimal("0"))
    if tranches != HUNDRED:
        problems.append(
            _("The tranche plan adds up to %(total)s%%; it must add up to 100%%.")
            % {"total": f"{tranches.normalize():f}"}
        )
    return problems + setup.opening_problems(competition)


# --- Settings -----------------------------------------------------------------------------------------------------


def check_settings(values):
    """Cross-field rules of a round's settings. ``values`` maps field names to cleaned values; a rule whose values are
    missing (because the field itself was invalid) is skipped. Raises ValidationError keyed by field."""
    errors: dict[str, list[ValidationError]] = {}

    def add(field, message, code):
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    def given(*names):
        return all(values.get(name) is not None for name in names)

    v = values.get
    for field in MONEY_FIELDS:
        try:
            validate_money(v(field))
        except ValidationError as exc:
            add(field, exc.messages[0], exc.code)
    if given("fund_pool") and v("fund_pool") <= 0:
        add("fund_pool", _("The fund pool must be more than zero."), "pool_zero")
    if given("max_grant") and v("max_grant") <= 0:
        add("max_grant", _("The maximum grant must be more than zero."), "max_zero")
    if given("min_grant", "max_grant") and v("min_grant") > v("max_grant"):
        add("min_grant", _("The minimum grant cannot be more than the maximum grant."), "min_above_max")
    if given("max_grant", "fund_pool") and v("max_grant") > v("fund_pool"):
        add("max_grant", _("The maximum grant cannot be more than the fund pool."), "max_above_pool")
    if given("opens_at", "closes_at") and v("closes_at") <= v("opens_at"):
        add("closes_at", _("Applications must close after they open."), "closes_before_opens")
    if given("project_start_earliest", "project_end_latest") and v("project_end_latest") <= v("project_start_earliest"):
        add(
            "project_end_latest",
            _("The latest project end must come after the earliest project start."),
            "end_before_start",
        )
    if given("min_project_months", "max_project_months") and v("min_project_months") > v("max_project_months"):
        add("max_project_months", _("The longest project cannot be shorter than the shortest project."), "months_order")
    if given("min_project_months") and v("min_project_months") < 1:
        add("min_project_months", _("A project lasts at least one month."), "months_zero")
    if given("score_step") and Decimal(v("score_step")) not in SCORE_STEPS:
        add("score_step", _("The score step is 1 or 0.5."), "score_step")
    for field in ("comment_below", "comment_above"):
        if given(field) and not 0 <= v(field) <= HUNDRED:
            add(field, _("Enter a total between 0 and 100."), "comment_range")
    if given("comment_below", "comment_above") and v("comment_below") > v("comment_above"):
        add("comment_above", _("This bound cannot be lower than the “comment required below” bound."), "comment_order")
    if given("trim") and v("trim") < 0:
        add("trim", _("The number of scores trimmed cannot be negative."), "trim_negative")
    if given("finalist_quota") and v("finalist_quota") < 1:
        add("finalist_quota", _("At least one finalist."), "quota_zero")
    if given("notice_working_days") and v("notice_working_days") < 1:
        add("notice_working_days", _("The public notice lasts at least one working day."), "notice_zero")
    if errors:
        raise ValidationError(errors)


def _check_tiebreak(competition, code):
    if code and (competition.pk is None or not competition.criteria.filter(code=code).exists()):
        raise ValidationError(
            {"tiebreak_criterion": _("The tie-break must be one of the rubric's criteria codes.")}, code="tiebreak"
        )


def quantize(obj, fields):
    """Decimals to the places their column keeps (120000 -> 120000.00), so the object, the audit trail and the
    database agree and an unchanged value is not reported as a change."""
    for name in fields:
        field, value = obj._meta.get_field(name), getattr(obj, name)
        if isinstance(field, models.DecimalField) and value is not None:
            setattr(obj, name, Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places)))


def _settings_data(data):
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"Not a round setting: {', '.join(sorted(unknown))}")
    return dict(data)


def _settings_snapshot(competition, fields=SETTINGS_FIELDS):
    """Settings for the audit trail, with times in the site's time zone (Beijing time) as staff typed them."""
    values = snapshot(competition, fields)
    for name in fields:
        value = getattr(competition, name)
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            values[name] = timezone.localtime(value).isoformat()
    return values


@transaction.atomic
def create_competition(*, by, data):
    """Create a round in the "being set up" stage from the settings in ``data`` (field -> cleaned value). The set-up
    parts of higher apps fill their share (the default mid-term and final evaluation rubrics, so that a round is never
    without them; staff change them later) and say what the audit event records of it."""
    data = _settings_data(data)
    check_settings(data)
    competition = Competition(**data, stage=Stage.DRAFT)
    _check_tiebreak(competition, competition.tiebreak_criterion)
    competition.full_clean()
    quantize(competition, SETTINGS_FIELDS)
    competition.save()
    parts = setup.on_create(competition)
    record(actor=by, action="competition.create", obj=competition, after={**_settings_snapshot(competition), **parts})
    return competition


# What a round made from an earlier one gets from the staff (the rest of the settings is copied): the round's own
# dates and money. ``copy_competition`` takes these.
COPY_FIELDS = [
    "title",
    "year",
    "fund_pool",
    "opens_at",
    "closes_at",
    "project_start_earliest",
    "project_end_latest",
]


@transaction.atomic
def copy_competition(*, source, by, data):
    """Next year's round from an earlier one, in one step: a new round in the "being set up" stage with the source's
    settings except the ones in ``data`` (``COPY_FIELDS``: title, year, fund pool and dates), and a copy of its service
    categories, budget categories with their caps, tranche plan, and what the set-up parts of higher apps copy (the
    rubric with its bands, the screening checklist, the mid-term and final evaluation rubrics). Nothing of the
    source's proposals, judges, panels, awards or projects comes along, and the source is not changed. One audit
    event ``competition.copy`` records the source and every part copied."""
    unknown = set(data) - set(COPY_FIELDS)
    if unknown:
        raise ValueError(f"Not a setting given for a copy: {', '.join(sorted(unknown))}")
    values = {field: getattr(source, field) for field in SETTINGS_FIELDS}
    values.update(data)
    # The tie-break names a rubric criterion, which exists in the copy only once the rubric is copied.
    tiebreak = values.pop("tiebreak_criterion")
    check_settings(values)
    competition = Competition(**values, stage=Stage.DRAFT)
    competition.full_clean()
    quantize(competition, SETTINGS_FIELDS)
    competition.save()
    categories = [Category(competition=competition, name=c.name, order=c.order) for c in source.categories.all()]
    Category.objects.bulk_create(categories)
    budget_categories = [
        BudgetCategory(competition=competition, order=b.order, **{f: getattr(b, f) for f in BUDGET_CATEGORY_FIELDS})
        for b in source.budget_categories.all()
    ]
    BudgetCategory.objects.bulk_create(budget_categories)
    tranches = [
        TranchePlanItem(competition=competition, order=t.order, percent=t.percent, condition=t.condition)
        for t in source.tranche_plan.all()
    ]
    TranchePlanItem.objects.bulk_create(tranches)
    parts = setup.on_copy(source, competition)
    if tiebreak:
        _check_tiebreak(competition, tiebreak)
        competition.tiebreak_criterion = tiebreak
        competition.save(update_fields=["tiebreak_criterion", "updated_at"])
    record(
        actor=by,
        action="competition.copy",
        obj=competition,
        after={
            "copied_from": {"id": source.pk, "title": source.title},
            **_settings_snapshot(competition),
            "categories": [c.name for c in categories],
            "budget_categories": rows_snapshot(budget_categories, BUDGET_CATEGORY_FIELDS),
            "tranche_plan": rows_snapshot(tranches, ["order", *TRANCHE_FIELDS]),
            **parts,
        },
    )
    return competition


def copy_initial(source):
    """What the "new round from …" form proposes: the source's title and dates a year on, its year plus one; the fund
    pool is left to staff."""
    year = source.year + 1
    return {
        "title": source.title.replace(str(source.year), str(year)) if str(source.year) in source.title else "",
        "year": year,
        "opens_at": _year_on(timezone.localtime(source.opens_at)),
        "closes_at": _year_on(timezone.localtime(source.closes_at)),
        "project_start_earliest": _year_on(source.project_start_earliest),
        "project_end_latest": _year_on(source.project_end_latest),
    }


def _year_on(value):
    """The same day a year later (29 February becomes 28 February)."""
    try:
        return value.replace(year=value.year + 1)
    except ValueError:
        return value.replace(year=value.year + 1, day=28)


@transaction.atomic
def update_competition(*, competition, by, data):
    """Change some of a round's settings; the audit event lists the fields that changed, before and after.
    Saving unchanged values writes nothing."""
    data = _settings_data(data)
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    old = {field: getattr(competition, field) for field in SETTINGS_FIELDS}
    before = _settings_snapshot(competition)
    for field, value in data.items():
        setattr(competition, field, value)
    if any(_differs(getattr(competition, field), old[field]) for field in policy.MONEY_SETTINGS):
        policy.ensure(competition, policy.Part.MONEY)
    check_settings({field: getattr(competition, field) for field in SETTINGS_FIELDS})
    if competition.tiebreak_criterion != old["tiebreak_criterion"]:
        _check_tiebreak(competition, competition.tiebreak_criterion)
    competition.full_clean()
    quantize(competition, SETTINGS_FIELDS)
    changed = [field for field in SETTINGS_FIELDS if getattr(competition, field) != old[field]]
    if not changed:
        return competition
    competition.save()
    after = _settings_snapshot(competition, changed)
    record(
        actor=by,
        action="competition.update",
        obj=competition,
        before={field: before[field] for field in changed},
        after=after,
    )
    return competition


def _differs(new, old):
    """A changed setting, comparing money and decimals by value (100000 and 100000.00 are the same)."""
    if isinstance(old, Decimal) and new is not None:
        try:
            return Decimal(new) != old
        except ArithmeticError:
            return True
    return new != old


# --- Related sets: shared machinery ---------------------------------------------------------------------------------


def rows_snapshot(objects, fields):
    return [snapshot(obj, fields) for obj in objects]


def sync_rows(model, competition, rows, *, fields, key=None, first_order=0, scope=None):
    """Make ``competition``'s rows of ``model`` equal ``rows`` (in that order): rows with an ``id`` update that row,
    rows without one are created, rows no longer listed are deleted. Existing rows keep their id, so whatever refers
    to them (proposals, budget lines) stays attached. ``scope`` ({field: value}) narrows the set to part of the
    round's rows (the evaluation rubric of one kind); new rows get those values."""
    scope = scope or {}
    existing = {obj.pk: obj for obj in model.objects.filter(competition=competition, **scope)}
    kept = [row["id"] for row in rows if row.get("id")]
    if len(kept) != len(set(kept)) or not set(kept) <= existing.keys():
        raise ValidationError(
            _("Someone else changed this list while you were editing it. Reload the page and make your changes again."),
            code="stale",
        )
    model.objects.filter(pk__in=existing.keys() - set(kept)).delete()
    # A unique key (name, code) may move from one row to another (a swap): park the changed keys on values that
    # cannot clash first, so the unique constraint holds after every single statement.
    for row in rows if key else []:
        obj = existing.get(row.get("id"))
        if obj is not None and getattr(obj, key) != row[key]:
            setattr(obj, key, f"~{obj.pk}~")
            obj.save(update_fields=[key])
    for order, row in enumerate(rows, start=first_order):
        obj = existing.get(row.get("id")) or model(competition=competition, **scope)
        for field in fields:
            setattr(obj, field, row[field])
        obj.order = order
        obj.full_clean(exclude=["competition"], validate_unique=False, validate_constraints=False)
        quantize(obj, fields)
        obj.save()


def check_unique(rows, key, message):
    seen = set()
    for row in rows:
        value = row[key].casefold()
        if value in seen:
            raise ValidationError(message % {"value": row[key]}, code="duplicate")
        seen.add(value)


def row_errors(label, exc):
    """Prefix the messages of one row's ValidationError with the row's label, for callers that have no form."""
    return [_("%(row)s: %(error)s") % {"row": label, "error": message} for message in exc.messages]


@transaction.atomic
def save_rows(
    *,
    competition,
    by,
    model,
    rows,
    check,
    fields,
    action,
    audit_key,
    audited=None,
    key=None,
    first_order=0,
    scope=None,
    audit_extra=None,
    part=None,
):
    """Replace one of the round's related sets, the shape every ``save_*`` of a set-up step shares: lock the round,
    check (``check(competition, rows, current)`` returns the normalized rows or raises ValidationError; ``current``
    is the set as stored), snapshot, sync (see ``sync_rows``), and write one audit event ``action`` when something
    changed, the set under ``audit_key`` (the ``audited`` fields, by default the id and ``fields``) before and after,
    with ``audit_extra`` beside it. ``scope`` narrows the set to part of the round's rows (one evaluation's rubric).
    ``part`` names the set in the stage policy, which is asked under the round's lock."""
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    if part is not None:
        policy.ensure(competition, part)
    scope = scope or {}
    stored = model.objects.filter(competition=competition, **scope)
    current = list(stored)
    rows = check(competition, rows, current)
    audited = audited or ["id", *fields]
    before = rows_snapshot(current, audited)
    sync_rows(model, competition, rows, fields=fields, key=key, first_order=first_order, scope=scope)
    after = rows_snapshot(stored.all(), audited)
    if after != before:
        extra = audit_extra or {}
        record(
            actor=by,
            action=action,
            obj=competition,
            before={**extra, audit_key: before},
            after={**extra, audit_key: after},
        )
    return competition


# --- Service categories ---------------------------------------------------------------------------------------------


def _normalize_categories(rows):
    return [{"id": row.get("id"), "name": (row.get("name") or "").strip()} for row in rows]


def check_categories(rows):
    rows = _normalize_categories(rows)
    if any(not row["name"] for row in rows):
        raise ValidationError(_("Every service category needs a name."), code="required")
    check_unique(rows, "name", _("The service category “%(value)s” is listed twice."))
    return rows


def save_categories(*, competition, by, categories):
    """Replace the round's service categories with ``categories`` ([{"id"?, "name"}], in display order)."""

    def check(competition, rows, current):
        rows = check_categories(rows)
        kept = {row["id"] for row in rows if row["id"]}
        in_use = [c for c in current if c.pk not in kept and c.proposals.exists()]
        if in_use:
            raise ValidationError(
                [
                    _("The service category “%(name)s” is used by proposals and cannot be removed; rename it instead.")
                    % {"name": c.name}
                    for c in in_use
                ],
                code="in_use",
            )
        return rows

    return save_rows(
        competition=competition,
        by=by,
        model=Category,
        rows=categories,
        check=check,
        fields=CATEGORY_FIELDS,
        key="name",
        action="competition.categories",
        audit_key="categories",
    )


# --- Budget categories and their caps -------------------------------------------------------------------------------


def _normalize_budget_categories(rows):
    return [
        {
            "id": row.get("id"),
            "name": (row.get("name") or "").strip(),
            "cap_percent": row.get("cap_percent"),
            "cap_amount": row.get("cap_amount"),
            "is_management_fee": bool(row.get("is_management_fee")),
        }
        for row in rows
    ]


def check_budget_category(row):
    """Rules for one budget category; raises ValidationError keyed by field."""
    errors: dict[str, str | list[str]] = {}
    if row.get("cap_percent") is not None and not 0 < row["cap_percent"] <= HUNDRED:
        errors["cap_percent"] = _("A cap is more than 0 and at most 100 per cent; leave it empty for no cap.")
    if row.get("cap_amount") is not None:
        try:
            validate_money(row["cap_amount"])
        except ValidationError as exc:
            errors["cap_amount"] = exc.messages
        else:
            if row["cap_amount"] <= 0:
                errors["cap_amount"] = _("A cap is more than zero; leave it empty for no cap.")
    if errors:
        raise ValidationError(errors)


def check_budget_categories(rows):
    rows = _normalize_budget_categories(rows)
    errors = []
    if any(not row["name"] for row in rows):
        raise ValidationError(_("Every budget category needs a name."), code="required")
    for row in rows:
        try:
            check_budget_category(row)
        except ValidationError as exc:
            errors += row_errors(row["name"], exc)
    if errors:
        raise ValidationError(errors)
    check_unique(rows, "name", _("The budget category “%(value)s” is listed twice."))
    if sum(row["is_management_fee"] for row in rows) > 1:
        raise ValidationError(_("Only one budget category can be the management fee."), code="two_fees")
    return rows


def save_budget_categories(*, competition, by, budget_categories):
    """Replace the round's budget categories ([{"id"?, "name", "cap_percent", "cap_amount", "is_management_fee"}])."""

    def check(competition, rows, current):
        rows = check_budget_categories(rows)
        kept = {row["id"] for row in rows if row["id"]}
        in_use = [c for c in current if c.pk not in kept and c.lines.exists()]
        if in_use:
            raise ValidationError(
                [
                    _(
                        "The budget category “%(name)s” is used in proposal budgets and cannot be removed; rename it "
                        "instead."
                    )
                    % {"name": c.name}
                    for c in in_use
                ],
                code="in_use",
            )
        return rows

    return save_rows(
        competition=competition,
        by=by,
        model=BudgetCategory,
        rows=budget_categories,
        check=check,
        fields=BUDGET_CATEGORY_FIELDS,
        key="name",
        action="competition.budget_categories",
        audit_key="budget_categories",
        part=policy.Part.BUDGET_RULES,
    )


# --- Tranche plan ---------------------------------------------------------------------------------------------------


def check_tranche_plan(rows):
    rows = [{"id": row.get("id"), "percent": row.get("percent"), "condition": row.get("condition")} for row in rows]
    if not rows:
        raise ValidationError(_("The tranche plan needs at least one tranche."), code="empty")
    for row in rows:
        if row["percent"] is None or not 0 < row["percent"] <= HUNDRED:
            raise ValidationError(_("Each tranche is more than 0 and at most 100 per cent."), code="percent")
        if row["condition"] not in TrancheCondition.values:
            raise ValidationError(_("Choose the release condition of each tranche."), code="condition")
    total = sum((row["percent"] for row in rows), Decimal("0"))
    if total != HUNDRED:
        raise ValidationError(
            _("The tranches add up to %(total)s%%; they must add up to exactly 100%%.")
            % {"total": format_number(total)},
            code="total",
        )
    return rows


def save_tranche_plan(*, competition, by, tranches):
    """Replace the round's tranche plan ([{"id"?, "percent", "condition"}], in payment order; shares add up to 100)."""
    return save_rows(
        competition=competition,
        by=by,
        model=TranchePlanItem,
        rows=tranches,
        check=lambda competition, rows, current: check_tranche_plan(rows),
        fields=TRANCHE_FIELDS,
        audited=["order", *TRANCHE_FIELDS],
        first_order=1,
        action="competition.tranche_plan",
        audit_key="tranche_plan",
        part=policy.Part.TRANCHE_PLAN,
    )


def format_number(value):
    """A Decimal as people write it: 25 rather than 25.00, 0.5 rather than 0.50."""
    value = Decimal(value)
    return format(value.quantize(Decimal("1")) if value == value.to_integral_value() else value.normalize(), "f")
