import datetime
import hashlib
import json

from django.db import migrations

GENESIS = "0" * 64


def _canonical_json(value):
    return json.loads(json.dumps(value)) if value is not None else None


def _digest(event):
    # A copy of venture.audit.chain.content/digest as they were when this migration was written (self-contained).
    payload = {
        "seq": event.seq,
        "at": event.at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "before": _canonical_json(event.before),
        "after": _canonical_json(event.after),
        "note": event.note,
        "prev_hash": event.prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def build_chain(apps, schema_editor):
    """Chain the existing records in the order they were written (by id)."""
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ChainHead = apps.get_model("audit", "ChainHead")
    previous, seq, batch = GENESIS, 0, []
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        seq += 1
        event.seq, event.prev_hash = seq, previous
        event.hash = previous = _digest(event)
        batch.append(event)
        if len(batch) >= 2000:
            AuditEvent.objects.bulk_update(batch, ["seq", "prev_hash", "hash"])
            batch = []
    if batch:
        AuditEvent.objects.bulk_update(batch, ["seq", "prev_hash", "hash"])
    ChainHead.objects.create(pk=1, seq=seq, hash=previous, anchor_seq=0, anchor_hash=GENESIS)


class Migration(migrations.Migration):
    """Existing records get their place in the chain (a migration of its own, so that PostgreSQL runs the updates and
    the schema changes around them in separate transactions)."""

    dependencies = [
        ("audit", "0002_hash_chain"),
    ]

    operations = [
        migrations.RunPython(build_chain, migrations.RunPython.noop),
    ]
