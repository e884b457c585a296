import datetime
import decimal
import uuid

from django.db import models

from .models import AuditEvent


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def snapshot(obj, fields):
    """The named fields of ``obj`` as a JSON-ready dict, for ``before``/``after``."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def record(*, actor, action, obj=None, before=None, after=None, note="", object_type=None):
    """Write one audit event. Call it inside the service's transaction so the event and the change land together."""
    label = ""
    if actor is not None and getattr(actor, "is_authenticated", False):
        label = str(getattr(actor, "username", actor))
    elif actor is not None and not hasattr(actor, "is_authenticated"):
        label, actor = str(actor), None
    else:
        actor = None
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id, object_repr = str(obj.pk), str(obj)[:255]
    else:
        object_id, object_repr = "", ""
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=label or "system",
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        object_repr=object_repr,
        before=_jsonable(before) if before is not None else None,
        after=_jsonable(after) if after is not None else None,
        note=note,
    )
