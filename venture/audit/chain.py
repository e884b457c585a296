"""The audit trail's hash chain: each record carries the SHA-256 of its content together with the previous record's
hash, so changing, removing or inserting a record anywhere breaks every hash after it.

What is hashed (``content``): the position, the time (UTC, microseconds), who (the username as recorded; not the
user id, which a deleted account turns to NULL), the action, the object, before/after, the note and the previous
hash, as canonical JSON (sorted keys, UTF-8). ``verify()`` recomputes the chain from its anchor (the genesis, or the
last record removed by ``prune_audit``) and names the first record that does not match.
"""

import datetime
import hashlib
import json
from dataclasses import dataclass

from .models import AuditEvent, ChainHead

GENESIS = "0" * 64


def _canonical_json(value):
    return json.loads(json.dumps(value)) if value is not None else None


def content(*, seq, at, actor_label, action, object_type, object_id, object_repr, before, after, note, prev_hash):
    payload = {
        "seq": seq,
        "at": at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor": actor_label,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "before": _canonical_json(before),
        "after": _canonical_json(after),
        "note": note,
        "prev_hash": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def digest(event):
    return hashlib.sha256(
        content(
            seq=event.seq,
            at=event.at,
            actor_label=event.actor_label,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            object_repr=event.object_repr,
            before=event.before,
            after=event.after,
            note=event.note,
            prev_hash=event.prev_hash,
        )
    ).hexdigest()


@dataclass
class ChainState:
    ok: bool
    checked: int
    last_seq: int
    last_hash: str
    broken: object = None  # the first AuditEvent that does not match
    reason: str = ""


def verify():
    """Walk the chain in order; stop at the first record whose position, link or hash is wrong."""

    head = ChainHead.objects.filter(pk=1).first()
    expected_seq = (head.anchor_seq if head else 0) + 1
    previous = head.anchor_hash if head else GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainState(
                False,
                checked,
                expected_seq - 1,
                previous,
                event,
                f"expected position {expected_seq}, found {event.seq} (a record is missing)",
            )
        if event.prev_hash != previous:
            return ChainState(
                False, checked, expected_seq - 1, previous, event, "the link to the previous record does not match"
            )
        if digest(event) != event.hash:
            return ChainState(
                False,
                checked,
                expected_seq - 1,
                previous,
                event,
                "its content does not match its hash (the record was changed)",
            )
        previous, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    if head is not None and (head.seq != expected_seq - 1 or head.hash != previous):
        return ChainState(
            False,
            checked,
            expected_seq - 1,
            previous,
            None,
            f"the chain ends at position {expected_seq - 1} but its head says {head.seq} "
            "(records at the end were removed)",
        )
    return ChainState(True, checked, expected_seq - 1, previous)
