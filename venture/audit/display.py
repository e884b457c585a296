"""An audit event as people read it: its action's label and its change as "field: before → after" lines.

The stored ``before``/``after`` are what was hashed and stay as they are (the CSV export gives them raw); this module
only reads them. Field names come from the recorded object's model (its verbose names and choices, found through the
app registry by ``object_type``, so the audit app imports no stage), else from a short table of the keys services
write outside a model's fields; money (a model's DecimalField with 2 places, or a key named as an amount) is shown
through ``venture.money``."""

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import get_language, pgettext, pgettext_lazy

from venture.money import format_money

from . import actions

EMPTY = "—"
MISSING = object()


def _k(text):
    return pgettext_lazy("audit field", text)


# Keys that services write beside (or instead of) a model's fields, with their labels.
KEY_LABELS = {
    # The order people read a change in (what was changed and its status first, then the values): changes() and
    # nested values follow it (see LEADING), so an event reads the same on SQLite and on PostgreSQL, whose jsonb
    # sorts keys by length.
    "stage": _k("Stage"),
    "tranche": _k("Tranche"),
    "agreement": _k("Agreement"),
    "award": _k("Award"),
    "line": _k("Budget line"),
    "entry": _k("Entry"),
    "voucher": _k("Voucher number"),
    "invoice": _k("Invoice"),
    "status": _k("Status"),
    "items": _k("Checks"),
    "passed": _k("Passed"),
    "note": _k("Note"),
    "reason": _k("Reason"),
    "amount": _k("Amount"),
    "total": _k("Total"),
    "rank": _k("Rank"),
    "records": _k("Records"),
    "filter": _k("Filter"),
    "digest": _k("Digest"),
    "finalists": _k("Finalists"),
    "source": _k("Source"),
    "quota": _k("Quota"),
    "awards": _k("Awards"),
    "agreements": _k("Agreements"),
    "starts_on": _k("Starts on"),
    "ends_on": _k("Ends on"),
    "identity_changed": _k("Identity changed"),
    "rejected_for": _k("Earlier rejection reason"),
    "rows": _k("Rows"),
    "points": _k("Points"),
    "period": _k("Period"),
    "people": _k("People served"),
    "activities": _k("Activities"),
    "on": _k("Date"),
    "date": _k("Date"),
    "remaining": _k("Remaining"),
    "attempt": _k("Attempt"),
    "rectifications": _k("Rectifications"),
    "rating": _k("Rating"),
    "override": _k("Override reason"),
    "missing": _k("Missing"),
    "what": _k("What to rectify"),
    "version": _k("Version"),
    "rule": _k("Funding rule"),
    "offered": _k("Offered"),
    "deadline": _k("Deadline"),
    "code_version": _k("Scoring code version"),
    "calendar_covered": _k("Calendar covers the period"),
    "affiliation": _k("Affiliation"),
    "budget_lines": _k("Budget lines"),
    "bundle_sha256": _k("Bundle SHA-256"),
    "bytes": _k("Size (bytes)"),
    "copied_from": _k("Copied from"),
    "days": _k("Days"),
    "devices_removed": _k("Devices removed"),
    "due": _k("Due"),
    "early": _k("Early"),
    "error": _k("Error"),
    "extra_seconds": _k("Extra time (seconds)"),
    "failed": _k("Failed"),
    "failures": _k("Failures"),
    "file": _k("File"),
    "filters": _k("Filters"),
    "format": _k("Format"),
    "grade": _k("Grade"),
    "grades": _k("Grades"),
    "grant": _k("Grant"),
    "id": _k("ID"),
    "ip_address": _k("IP address"),
    "judge": _k("Judge"),
    "judges": _k("Judges"),
    "k": _k("Judges per proposal"),
    "minutes": _k("Minutes"),
    "new": _k("New"),
    "objection": _k("Objection"),
    "open": _k("Open"),
    "order": _k("Order"),
    "organization": _k("Organization"),
    "paused": _k("Paused"),
    "period_end": _k("Period ends"),
    "personal_data": _k("Personal data"),
    "placed": _k("Placed"),
    "proposals": _k("Proposals"),
    "reports": _k("Reports"),
    "retry": _k("Retry"),
    "reversal": _k("Reversal"),
    "roadshow_starts_at": _k("Roadshow starts at"),
    "role": _k("Role"),
    "seed": _k("Seed"),
    "sha256": _k("SHA-256"),
    "signed_on": _k("Signed on"),
    "size": _k("Size"),
    "slot": _k("Slot"),
    "supervisors": _k("Supervisors"),
    "task": _k("Task"),
    "to": _k("To"),
    "unplaced_lines": _k("Lines to place"),
    "user": _k("User"),
    "username": _k("Username"),
    "webhook": _k("Webhook"),
    "year": _k("Year"),
}
# The keys read before a model's own fields: which thing changed, and its status.
LEADING = ("stage", "tranche", "agreement", "award", "line", "entry", "voucher", "invoice", "status")
# A key whose values are the choices of a model field of another name.
VALUE_KEYS = {"rule": "funding_rule"}
MONEY_KEYS = {
    "amount",
    "total",
    "cost",
    "refund",
    "fund_pool",
    "requested_amount",
    "awarded_total",
    "unit_price",
    "remaining",
}
# Keys that are money in most events but points in these actions' (an evaluation's total is its score).
NOT_MONEY = {"evaluation.": {"total"}}


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None  # None: the event has no "before" (a creation, a one-off act): only the value is shown
    after: str


def action_label(action):
    """The label of ``action`` in the active language; the code itself for an action the table does not know."""
    return actions.label(action) or action


def _model(object_type):
    try:
        return apps.get_model(object_type) if "." in object_type else None
    except (LookupError, ValueError):
        return None


def _field(model, key):
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        if key.endswith("_id"):
            return _field(model, key[:-3])
        return None


def _is_money(field, key):
    if isinstance(field, models.DecimalField):
        return field.decimal_places == 2
    return key in MONEY_KEYS or key.endswith("_amount")


def _money(value):
    try:
        return format_money(Decimal(str(value)))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


def _separator():
    return "、" if (get_language() or "").startswith("zh") else ", "


def _colon():
    return "：" if (get_language() or "").startswith("zh") else ": "


def format_value(value, *, field=None, key=""):
    """One stored value as text: money through ``format_money``, a choice by its label, yes/no, lists joined,
    nested mappings as "key: value" pairs."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if isinstance(value, bool):
        return pgettext("audit value", "Yes") if value else pgettext("audit value", "No")
    if isinstance(value, dict):
        return ("；" if (get_language() or "").startswith("zh") else "; ").join(
            f"{_key_label(None, str(k))}{_colon()}{format_value(v, key=str(k))}" for k, v in _in_key_order(value)
        )
    if isinstance(value, list):
        return _separator().join(format_value(v, key=key) for v in value)
    if _is_money(field, key) and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return _money(value)
    if field is not None and getattr(field, "choices", None):
        own = dict(field.flatchoices)
        if value in own:
            return str(own[value])
    if isinstance(value, str) and key:  # a value recorded on another object than its field's (or no field)
        label = _choices_by_key(VALUE_KEYS.get(key, key)).get(value)
        if label is not None:
            return str(label)
    return str(value)


@functools.cache
def _choices_by_key(key):
    """{value: label} of the choices of every model field named ``key`` (the first label wins): for a value recorded
    on another object than its own model's (a declaration's status recorded on its assignment, a panel's stage)."""
    labels = {}
    for model in apps.get_models():
        try:
            field = model._meta.get_field(key)
        except FieldDoesNotExist:
            continue
        for value, label in getattr(field, "flatchoices", None) or ():
            labels.setdefault(value, label)
    return labels


def _in_key_order(mapping):
    """A nested mapping's items in the order of KEY_LABELS, then by key: PostgreSQL's jsonb keeps keys sorted by
    length, not as written, and the same event must read the same on either database."""
    order = {key: i for i, key in enumerate(KEY_LABELS)}
    return sorted(mapping.items(), key=lambda item: (order.get(str(item[0]), len(order)), str(item[0])))


def _reading_order(model, keys):
    """The keys in a deliberate order, the same on either database: the recorded model's fields as the model
    declares them after the LEADING keys, then the other keys of KEY_LABELS in its order, then the rest by name."""
    fields = {f.name: i for i, f in enumerate(model._meta.get_fields())} if model is not None else {}
    order = {key: i for i, key in enumerate(KEY_LABELS)}

    def rank(key):
        key = str(key)
        if key in LEADING:
            return (0, order[key], "")
        if key in fields:
            return (1, fields[key], "")
        if key in order:
            return (2, order[key], "")
        return (3, 0, key)

    return sorted(keys, key=rank)


def _key_label(model, key):
    """The table's label first (a model field without its own verbose name is named in English from its name),
    then the model field's verbose name, else the key itself."""
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
    field = _field(model, key)
    if field is not None and hasattr(field, "verbose_name"):
        return str(capfirst(field.verbose_name))
    return key


_NOT_MONEY_KEY = "points"


def _points(action, key):
    return any(action.startswith(prefix) and key in keys for prefix, keys in NOT_MONEY.items())


def changes(event):
    """The event's change as ``Change`` lines, in reading order (``_reading_order``: PostgreSQL's jsonb does not keep
    the order a service wrote the keys in, SQLite does, and the page must read the same on both). A key whose value did not change is left out; an event without ``before`` lists its values."""
    before, after = event.before, event.after
    if before is None and after is None:
        return []
    before = before if isinstance(before, dict) or before is None else {"": before}
    after = after if isinstance(after, dict) or after is None else {"": after}
    model = _model(event.object_type)
    keys = _reading_order(model, list(after or {}) + [k for k in (before or {}) if k not in (after or {})])
    lines = []
    for key in keys:
        old = MISSING if before is None else before.get(key, MISSING)
        new = MISSING if after is None else after.get(key, MISSING)
        if old is not MISSING and new is not MISSING and old == new:
            continue
        field = _field(model, key)
        label = _key_label(model, key) if key else ""
        shown = _NOT_MONEY_KEY if _points(event.action, key) else key
        shown_new = EMPTY if new is MISSING else format_value(new, field=field, key=shown)
        shown_old = None if before is None else (EMPTY if old is MISSING else format_value(old, field=field, key=shown))
        lines.append(Change(field=label, before=shown_old, after=shown_new))
    return lines
