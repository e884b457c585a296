import contextlib
import datetime
import decimal
import functools
import threading
import uuid

from django.db import models, transaction
from django.utils import timezone

from . import chain
from .models import AuditEvent, ChainHead


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


# action -> functions called with the AuditEvent once the transaction that recorded it has committed (never after a
# rollback). Higher apps register them in their AppConfig.ready() (venture.documents renders a document that has
# just become final; venture.notifications tells people), so audit sits below every stage and imports none of them,
# and a service never needs to know who follows its decisions; a follower that fails is logged, never the service's
# error.
_FOLLOWERS: dict[str, list] = {}


def follow(actions, fn):
    """Call ``fn(event)`` after the commit of every audit event whose action is one of ``actions``; following the same
    action with the same function twice calls it once."""
    for action in actions:
        followers = _FOLLOWERS.setdefault(action, [])
        if fn not in followers:
            followers.append(fn)
    return fn


def snapshot(obj, fields):
    """The named fields of ``obj`` as a JSON-ready dict, for ``before``/``after``."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


_quiet = threading.local()


@contextlib.contextmanager
def unfollowed():
    """Events recorded inside are written and chained as always, but no follower is called:
    for bulk generators of benchmark data (generate_round), whose thousands of invented accounts must not be sent
    notifications and whose documents are not rendered on the way."""
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = False


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
    event = AuditEvent(
        at=timezone.now(),
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
    with transaction.atomic():
        head = _lock_head()
        event.seq, event.prev_hash = head.seq + 1, head.hash
        event.hash = chain.digest(event)
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    if getattr(_quiet, "on", False):
        return event
    for fn in _FOLLOWERS.get(action, ()):
        transaction.on_commit(functools.partial(fn, event), robust=True)
    return event


def ensure_chain_head():
    """Create the chain head if the database lost it (see ``_lock_head``)."""
    with transaction.atomic():
        _lock_head()


def _lock_head():
    """The chain head, locked until the caller's transaction ends, so concurrent writers take their places in turn."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # an emptied database (a flushed test database): start the chain where the records end
        last = AuditEvent.objects.order_by("-seq").first()
        head, _created = ChainHead.objects.get_or_create(
            pk=1,
            defaults={
                "seq": last.seq if last else 0,
                "hash": last.hash if last else chain.GENESIS,
                "anchor_hash": chain.GENESIS,
            },
        )
        head = ChainHead.objects.select_for_update().get(pk=1)
    return head
