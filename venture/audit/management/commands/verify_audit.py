from django.core.management.base import BaseCommand, CommandError

from venture.audit import chain


class Command(BaseCommand):
    help = "Recompute the audit trail's hash chain; name the first record that was changed, removed or inserted."

    def handle(self, *args, **options):
        state = chain.verify()
        if not state.ok:
            where = (
                (
                    f"audit record id={state.broken.pk} (position {state.broken.seq}, {state.broken.action}, "
                    f"{state.broken.at:%Y-%m-%d %H:%M:%S})"
                )
                if state.broken is not None
                else "the chain's end"
            )
            raise CommandError(
                f"Audit chain broken at {where}: {state.reason}. {state.checked} records before it are intact."
            )
        self.stdout.write(
            f"Audit chain intact: {state.checked} records, last position {state.last_seq}, last hash {state.last_hash}."
        )
