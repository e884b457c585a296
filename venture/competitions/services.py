"""Writes to a round (competition): its settings, the related sets (service categories, budget rules, tranche plan,
rubric, mid-term and final evaluation rubrics) and its stage. Every function runs in one transaction and writes one
audit event (none when nothing changed).

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
from django.utils.translation import gettext_lazy

from judging.models import Criterion
from venture.audit.services import record, snapshot
from venture.supervision.models import Evaluation, EvaluationCriterion, EvaluationKind, FundedProject
from venture.validators import validate_money

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
    "title", "year", "organizer", "description",
    "fund_pool", "min_grant", "max_grant",
    "opens_at", "closes_at", "finalist_quota",
    "project_start_earliest", "project_end_latest", "min_project_months", "max_project_months",
    "cofunding_share", "notice_working_days",
    "score_step", "comment_below", "comment_above", "presentation_minutes", "qa_minutes",
    "method", "trim", "tiebreak_criterion", "funding_rule",
    "report_frequency", "receipt_threshold", "overspend_tolerance", "spend_rate_tolerance", "evaluation_pass_mark",
]
MONEY_FIELDS = ["fund_pool", "min_grant", "max_grant", "receipt_threshold"]
SCORE_STEPS = (Decimal("1"), Decimal("0.5"))
HUNDRED = Decimal("100")

CATEGORY_FIELDS = ["name"]
BUDGET_CATEGORY_FIELDS = ["name", "cap_percent", "cap_amount", "is_management_fee"]
TRANCHE_FIELDS = ["percent", "condition"]
CRITERION_FIELDS = ["code", "name", "description", "max_points", "weight", "bands"]
EVALUATION_CRITERION_FIELDS = ["name", "max_points"]


# --- Stage --------------------------------------------------------------------------------------------------------


@transaction.atomic
def advance_stage(*, competition, to, by, note="", manual=False):
    """Move the round to stage ``to`` by the transition table. ``manual`` (the stage buttons) may not enter the
    stages that have their own action (results, notice, supervision)."""
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    current = Stage(competition.stage)
    if manual and to not in MANUAL_STAGES:
        raise ValidationError(_("“%(to)s” is entered from its own page, not with the stage buttons.") % {
            "to": Stage(to).label})
    if to not in STAGE_TRANSITIONS[current]:
        raise ValidationError(
            _("A round cannot go from “%(from)s” to “%(to)s”.") % {"from": current.label, "to": Stage(to).label}
        )
    if to == Stage.OPEN:
        problems = opening_problems(competition)
        if problems:
            raise ValidationError(problems)
    competition.stage = to
    competition.save(update_fields=["stage", "updated_at"])
    record(actor=by, action="competition.stage", obj=competition, before={"stage": current.value},
           after={"stage": to}, note=note)
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
        problems.append(_("The tranche plan adds up to %(total)s%%; it must add up to 100%%.") % {
            "total": f"{tranches.normalize():f}"})
    weights = sum((c.weight for c in Criterion.objects.filter(competition=competition)), Decimal("0"))
    if weights != HUNDRED:
        problems.append(_("The rubric's weights add up to %(total)s; they must add up to 100.") % {
            "total": f"{weights.normalize():f}"})
    with_rubric = set(EvaluationCriterion.objects.filter(competition=competition).values_list("kind", flat=True))
    for kind in EvaluationKind:
        if kind not in with_rubric:
            problems.append(_("Set up the rubric of the “%(evaluation)s”.") % {"evaluation": kind.label})
    return problems


# --- Settings -----------------------------------------------------------------------------------------------------


def check_settings(values):
    """Cross-field rules of a round's settings. ``values`` maps field names to cleaned values; a rule whose values are
    missing (because the field itself was invalid) is skipped. Raises ValidationError keyed by field."""
    errors = {}

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
        add("project_end_latest", _("The latest project end must come after the earliest project start."),
            "end_before_start")
    if given("min_project_months", "max_project_months") and v("min_project_months") > v("max_project_months"):
        add("max_project_months", _("The longest project cannot be shorter than the shortest project."),
            "months_order")
    if given("min_project_months") and v("min_project_months") < 1:
        add("min_project_months", _("A project lasts at least one month."), "months_zero")
    if given("score_step") and Decimal(v("score_step")) not in SCORE_STEPS:
        add("score_step", _("The score step is 1 or 0.5."), "score_step")
    for field in ("comment_below", "comment_above"):
        if given(field) and not 0 <= v(field) <= HUNDRED:
            add(field, _("Enter a total between 0 and 100."), "comment_range")
    if given("comment_below", "comment_above") and v("comment_below") > v("comment_above"):
        add("comment_above", _("This bound cannot be lower than the “comment required below” bound."),
            "comment_order")
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


def _quantize(obj, fields):
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
    """Create a round in the "being set up" stage from the settings in ``data`` (field -> cleaned value), with the
    default mid-term and final evaluation rubrics, so that a round is never without them (staff change them later)."""
    data = _settings_data(data)
    check_settings(data)
    competition = Competition(**data, stage=Stage.DRAFT)
    _check_tiebreak(competition, competition.tiebreak_criterion)
    competition.full_clean()
    _quantize(competition, SETTINGS_FIELDS)
    competition.save()
    rows = [{field: row[field] for field in EVALUATION_CRITERION_FIELDS} for row in default_evaluation_rubric()]
    EvaluationCriterion.objects.bulk_create([
        EvaluationCriterion(competition=competition, kind=kind, order=order, **row)
        for kind in EvaluationKind for order, row in enumerate(rows)
    ])
    record(actor=by, action="competition.create", obj=competition, after={
        **_settings_snapshot(competition), "evaluation_rubric": {kind.value: rows for kind in EvaluationKind},
    })
    return competition


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
    check_settings({field: getattr(competition, field) for field in SETTINGS_FIELDS})
    if competition.tiebreak_criterion != old["tiebreak_criterion"]:
        _check_tiebreak(competition, competition.tiebreak_criterion)
    competition.full_clean()
    _quantize(competition, SETTINGS_FIELDS)
    changed = [field for field in SETTINGS_FIELDS if getattr(competition, field) != old[field]]
    if not changed:
        return competition
    competition.save()
    after = _settings_snapshot(competition, changed)
    record(actor=by, action="competition.update", obj=competition,
           before={field: before[field] for field in changed}, after=after)
    return competition


# --- Related sets: shared machinery ---------------------------------------------------------------------------------


def _rows_snapshot(objects, fields):
    return [snapshot(obj, fields) for obj in objects]


def _sync(model, competition, rows, *, fields, key=None, first_order=0, scope=None):
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
        _quantize(obj, fields)
        obj.save()


def _unique(rows, key, message):
    seen = set()
    for row in rows:
        value = row[key].casefold()
        if value in seen:
            raise ValidationError(message % {"value": row[key]}, code="duplicate")
        seen.add(value)


def _row_errors(label, exc):
    """Prefix the messages of one row's ValidationError with the row's label, for callers that have no form."""
    return [_("%(row)s: %(error)s") % {"row": label, "error": message} for message in exc.messages]


# --- Service categories ---------------------------------------------------------------------------------------------


def _normalize_categories(rows):
    return [{"id": row.get("id"), "name": (row.get("name") or "").strip()} for row in rows]


def check_categories(rows):
    rows = _normalize_categories(rows)
    if any(not row["name"] for row in rows):
        raise ValidationError(_("Every service category needs a name."), code="required")
    _unique(rows, "name", _("The service category “%(value)s” is listed twice."))
    return rows


@transaction.atomic
def save_categories(*, competition, by, categories):
    """Replace the round's service categories with ``categories`` ([{"id"?, "name"}], in display order)."""
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    rows = check_categories(categories)
    current = list(competition.categories.all())
    kept = {row["id"] for row in rows if row["id"]}
    in_use = [c for c in current if c.pk not in kept and c.proposals.exists()]
    if in_use:
        raise ValidationError([
            _("The service category “%(name)s” is used by proposals and cannot be removed; rename it instead.")
            % {"name": c.name} for c in in_use
        ], code="in_use")
    before = _rows_snapshot(current, ["id", *CATEGORY_FIELDS])
    _sync(Category, competition, rows, fields=CATEGORY_FIELDS, key="name")
    after = _rows_snapshot(competition.categories.all(), ["id", *CATEGORY_FIELDS])
    if after != before:
        record(actor=by, action="competition.categories", obj=competition, before={"categories": before},
               after={"categories": after})
    return competition


# --- Budget categories and their caps -------------------------------------------------------------------------------


def _normalize_budget_categories(rows):
    return [{
        "id": row.get("id"),
        "name": (row.get("name") or "").strip(),
        "cap_percent": row.get("cap_percent"),
        "cap_amount": row.get("cap_amount"),
        "is_management_fee": bool(row.get("is_management_fee")),
    } for row in rows]


def check_budget_category(row):
    """Rules for one budget category; raises ValidationError keyed by field."""
    errors = {}
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
            errors += _row_errors(row["name"], exc)
    if errors:
        raise ValidationError(errors)
    _unique(rows, "name", _("The budget category “%(value)s” is listed twice."))
    if sum(row["is_management_fee"] for row in rows) > 1:
        raise ValidationError(_("Only one budget category can be the management fee."), code="two_fees")
    return rows


@transaction.atomic
def save_budget_categories(*, competition, by, budget_categories):
    """Replace the round's budget categories ([{"id"?, "name", "cap_percent", "cap_amount", "is_management_fee"}])."""
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    rows = check_budget_categories(budget_categories)
    current = list(competition.budget_categories.all())
    kept = {row["id"] for row in rows if row["id"]}
    in_use = [c for c in current if c.pk not in kept and c.lines.exists()]
    if in_use:
        raise ValidationError([
            _("The budget category “%(name)s” is used in proposal budgets and cannot be removed; rename it instead.")
            % {"name": c.name} for c in in_use
        ], code="in_use")
    fields = ["id", *BUDGET_CATEGORY_FIELDS]
    before = _rows_snapshot(current, fields)
    _sync(BudgetCategory, competition, rows, fields=BUDGET_CATEGORY_FIELDS, key="name")
    after = _rows_snapshot(competition.budget_categories.all(), fields)
    if after != before:
        record(actor=by, action="competition.budget_categories", obj=competition,
               before={"budget_categories": before}, after={"budget_categories": after})
    return competition


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
            _("The tranches add up to %(total)s%%; they must add up to exactly 100%%.") % {"total": format_number(total)},
            code="total",
        )
    return rows


@transaction.atomic
def save_tranche_plan(*, competition, by, tranches):
    """Replace the round's tranche plan ([{"id"?, "percent", "condition"}], in payment order; shares add up to 100)."""
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    rows = check_tranche_plan(tranches)
    fields = ["order", *TRANCHE_FIELDS]
    before = _rows_snapshot(competition.tranche_plan.all(), fields)
    _sync(TranchePlanItem, competition, rows, fields=TRANCHE_FIELDS, first_order=1)
    after = _rows_snapshot(competition.tranche_plan.all(), fields)
    if after != before:
        record(actor=by, action="competition.tranche_plan", obj=competition, before={"tranche_plan": before},
               after={"tranche_plan": after})
    return competition


# --- Rubric ---------------------------------------------------------------------------------------------------------


def format_number(value):
    """A Decimal as people write it: 25 rather than 25.00, 0.5 rather than 0.50."""
    value = Decimal(value)
    return format(value.quantize(Decimal("1")) if value == value.to_integral_value() else value.normalize(), "f")


def _json_number(value):
    value = Decimal(str(value))
    return int(value) if value == value.to_integral_value() else float(value)


def band_text(band):
    return f"{format_number(band['min'])}-{format_number(band['max'])}"


def rubric_locked_message(competition):
    return _("The rubric is locked because judging has started (stage: %(stage)s); it can no longer be changed.") % {
        "stage": competition.get_stage_display()
    }


def ensure_rubric_editable(competition):
    if competition.rubric_locked:
        raise ValidationError(rubric_locked_message(competition), code="locked")


def check_criterion(row):
    """Rules for one rubric line; raises ValidationError keyed by field. Bands are [{"min", "max", "label"}]."""
    errors = {}
    max_points, weight, bands = row.get("max_points"), row.get("weight"), row.get("bands") or []
    if max_points is not None and max_points <= 0:
        errors["max_points"] = [_("The maximum points must be more than zero.")]
    if weight is not None and not 0 < weight <= HUNDRED:
        errors["weight"] = [_("A weight is more than 0 and at most 100.")]
    band_errors = []
    for band in bands:
        if not str(band.get("label") or "").strip():
            band_errors.append(_("The band %(band)s needs a label.") % {"band": band_text(band)})
        if Decimal(str(band["min"])) > Decimal(str(band["max"])):
            band_errors.append(_("In the band %(band)s the lower bound is above the upper bound.")
                               % {"band": band_text(band)})
        elif max_points is not None and (band["min"] < 0 or band["max"] > max_points):
            band_errors.append(_("The band %(band)s lies outside 0 to %(max)s points.")
                               % {"band": band_text(band), "max": format_number(max_points)})
    ordered = sorted(bands, key=lambda b: (Decimal(str(b["min"])), Decimal(str(b["max"]))))
    for lower, upper in zip(ordered, ordered[1:], strict=False):
        if Decimal(str(upper["min"])) <= Decimal(str(lower["max"])):
            band_errors.append(_("The bands %(a)s and %(b)s overlap.") % {"a": band_text(lower), "b": band_text(upper)})
    if band_errors:
        errors["bands"] = band_errors
    if errors:
        raise ValidationError(errors)


def _normalize_criteria(rows):
    return [{
        "id": row.get("id"),
        "code": (row.get("code") or "").strip(),
        "name": (row.get("name") or "").strip(),
        "description": (row.get("description") or "").strip(),
        "max_points": Decimal(str(row["max_points"])) if row.get("max_points") is not None else None,
        "weight": Decimal(str(row["weight"])) if row.get("weight") is not None else None,
        "bands": [
            {"min": _json_number(b["min"]), "max": _json_number(b["max"]), "label": str(b.get("label") or "").strip()}
            for b in (row.get("bands") or [])
        ],
    } for row in rows]


def check_rubric_totals(rows, *, tiebreak=""):
    """Rules for the rubric as a whole: codes unique, weights add up to exactly 100, the tie-break criterion kept."""
    _unique(rows, "code", _("The criterion code “%(value)s” is used twice."))
    total = sum((row["weight"] for row in rows), Decimal("0"))
    if total != HUNDRED:
        raise ValidationError(
            _("The weights add up to %(total)s; they must add up to exactly 100.") % {"total": format_number(total)},
            code="weights",
        )
    if tiebreak and tiebreak not in {row["code"] for row in rows}:
        raise ValidationError(
            _("The tie-break uses the criterion “%(code)s”. Keep it in the rubric, or change the tie-break in the "
              "round settings first.") % {"code": tiebreak},
            code="tiebreak",
        )


def check_rubric(rows, *, tiebreak=""):
    rows = _normalize_criteria(rows)
    errors = []
    for row in rows:
        if not row["code"] or not row["name"] or row["max_points"] is None or row["weight"] is None:
            raise ValidationError(_("Every criterion needs a code, a name, maximum points and a weight."),
                                  code="required")
        try:
            check_criterion(row)
        except ValidationError as exc:
            errors += _row_errors(row["code"], exc)
    if errors:
        raise ValidationError(errors)
    check_rubric_totals(rows, tiebreak=tiebreak)
    return rows


@transaction.atomic
def save_rubric(*, competition, by, criteria):
    """Replace the round's rubric ([{"id"?, "code", "name", "description", "max_points", "weight", "bands"}]).
    Refused once judging has started (``competition.rubric_locked``)."""
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    ensure_rubric_editable(competition)
    rows = check_rubric(criteria, tiebreak=competition.tiebreak_criterion)
    fields = ["id", *CRITERION_FIELDS]
    before = _rows_snapshot(competition.criteria.all(), fields)
    _sync(Criterion, competition, rows, fields=CRITERION_FIELDS, key="code")
    after = _rows_snapshot(competition.criteria.all(), fields)
    if after != before:
        record(actor=by, action="competition.rubric", obj=competition, before={"criteria": before},
               after={"criteria": after})
    return competition


# --- Mid-term and final evaluation rubrics ---------------------------------------------------------------------------

# What a round starts with (and what the page proposes for a round that has none); staff change it as they see fit.
DEFAULT_EVALUATION_RUBRIC = [
    (gettext_lazy("Goals achieved"), 30),
    (gettext_lazy("Quality of service"), 30),
    (gettext_lazy("Use of funds"), 20),
    (gettext_lazy("Project management"), 20),
]


def default_evaluation_rubric():
    """The default rubric as rows for ``save_evaluation_rubric``, named in the active language."""
    return [{"id": None, "name": str(name), "max_points": Decimal(points)} for name, points in DEFAULT_EVALUATION_RUBRIC]


def evaluation_rubric_locked(competition, kind):
    """A rubric is fixed once a project of the round has been evaluated on it: an evaluation's points are kept per
    criterion, and the pass mark is compared with totals scaled by the rubric."""
    return Evaluation.objects.filter(project__competition=competition, kind=kind).exists()


def locked_evaluation_kinds(competition):
    return set(Evaluation.objects.filter(project__competition=competition).values_list("kind", flat=True).distinct())


def evaluation_rubric_locked_message(kind):
    return _("The rubric of the “%(evaluation)s” is locked because a project of this round has been evaluated; it "
             "can no longer be changed.") % {"evaluation": EvaluationKind(kind).label}


def check_evaluation_criterion(row):
    """Rules for one evaluation criterion; raises ValidationError keyed by field."""
    if row.get("max_points") is not None and row["max_points"] <= 0:
        raise ValidationError({"max_points": [_("The maximum points must be more than zero.")]})


def check_evaluation_rubric(rows):
    """Rules for an evaluation rubric as a whole: at least one criterion, each with a name and maximum points more
    than zero, names unique, maximum points adding up to exactly 100."""
    rows = [{
        "id": row.get("id"),
        "name": (row.get("name") or "").strip(),
        "max_points": Decimal(str(row["max_points"])) if row.get("max_points") is not None else None,
    } for row in rows]
    if not rows:
        raise ValidationError(_("The rubric needs at least one criterion."), code="empty")
    errors = []
    for row in rows:
        if not row["name"] or row["max_points"] is None:
            raise ValidationError(_("Every criterion needs a name and maximum points."), code="required")
        try:
            check_evaluation_criterion(row)
        except ValidationError as exc:
            errors += _row_errors(row["name"], exc)
    if errors:
        raise ValidationError(errors)
    _unique(rows, "name", _("The criterion “%(value)s” is listed twice."))
    total = sum((row["max_points"] for row in rows), Decimal("0"))
    if total != HUNDRED:
        raise ValidationError(
            _("The maximum points add up to %(total)s; they must add up to exactly 100.") % {
                "total": format_number(total)},
            code="total",
        )
    return rows


@transaction.atomic
def save_evaluation_rubric(*, competition, kind, by, criteria):
    """Replace the round's rubric for the ``kind`` evaluation ([{"id"?, "name", "max_points"}], in display order;
    maximum points add up to 100). Refused once a project of the round has been evaluated on it."""
    kind = EvaluationKind(kind)
    competition = Competition.objects.select_for_update().get(pk=competition.pk)
    # ``evaluate`` locks the project before it reads the rubric: holding the round's projects here means an
    # evaluation either comes first (and is seen below) or waits until the new rubric is in place.
    list(FundedProject.objects.select_for_update().filter(competition=competition).values_list("pk", flat=True))
    if evaluation_rubric_locked(competition, kind):
        raise ValidationError(evaluation_rubric_locked_message(kind), code="locked")
    rows = check_evaluation_rubric(criteria)
    fields = ["id", "order", *EVALUATION_CRITERION_FIELDS]
    current = EvaluationCriterion.objects.filter(competition=competition, kind=kind)
    before = _rows_snapshot(current, fields)
    _sync(EvaluationCriterion, competition, rows, fields=EVALUATION_CRITERION_FIELDS, scope={"kind": kind})
    after = _rows_snapshot(current.all(), fields)
    if after != before:
        record(actor=by, action="competition.evaluation_rubric", obj=competition,
               before={"kind": kind.value, "criteria": before}, after={"kind": kind.value, "criteria": after})
    return competition
