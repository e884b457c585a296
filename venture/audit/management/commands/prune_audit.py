import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from venture.audit.models import AuditEvent, ChainHead
from venture.audit.services import record

MINIMUM_DAYS = 183  # GB/T 22239-2019 level 3 keeps audit records at least six months


class Command(BaseCommand):
    help = (
        "Remove audit records older than the retention period (AUDIT_RETENTION_DAYS, never under 183 days). The "
        "chain stays verifiable: its new starting point is kept and the pruning is itself recorded. Export the "
        "records first (the audit page's CSV) if they must be archived."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--before",
            type=datetime.date.fromisoformat,
            help="remove records before this date (YYYY-MM-DD); default: the retention period",
        )
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, before=None, dry_run=False, **options):
        days = max(settings.AUDIT_RETENTION_DAYS, MINIMUM_DAYS)
        limit = timezone.now() - datetime.timedelta(days=days)
        cutoff = (
            limit
            if before is None
            else datetime.datetime.combine(before, datetime.time.min, tzinfo=timezone.get_current_timezone())
        )
        if cutoff > limit:
            raise CommandError(
                f"Refusing to prune records newer than {days} days (before "
                f"{timezone.localtime(limit):%Y-%m-%d}); AUDIT_RETENTION_DAYS keeps them."
            )
        with transaction.atomic():
            head = ChainHead.objects.select_for_update().get(pk=1)
            first_kept = AuditEvent.objects.filter(at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
            through = (first_kept - 1) if first_kept is not None else head.seq
            doomed = AuditEvent.objects.filter(seq__lte=through, seq__gt=head.anchor_seq)
            count = doomed.count()
            if dry_run or count == 0:
                self.stdout.write(
                    f"{count} audit records before {timezone.localtime(cutoff):%Y-%m-%d} would be removed."
                )
                return
            anchor = AuditEvent.objects.get(seq=through)
            head.anchor_seq, head.anchor_hash = anchor.seq, anchor.hash
            head.save(update_fields=["anchor_seq", "anchor_hash"])
            doomed.delete()
            record(
                actor="prune_audit",
                action="audit.prune",
                object_type="audit.auditevent",
                after={
                    "removed": count,
                    "through_seq": anchor.seq,
                    "anchor_hash": anchor.hash,
                    "before": cutoff.isoformat(),
                },
            )
        self.stdout.write(
            f"Removed {count} audit records (positions up to {anchor.seq}); the chain starts after {anchor.hash}."
        )
