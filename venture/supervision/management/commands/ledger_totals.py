"""manage.py ledger_totals [--fix] [--project ID ...]: compare the ledger's running totals (spent per line, per
category, per month and per project) with a fresh computation from the expenditure rows, and list every difference;
exits with status 1 when one is found. --fix rewrites the totals from the ledger (audited). Run it after a restore
from a backup taken by an older version, or after any change made to the database outside the application."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from venture.audit.services import record
from venture.supervision import ledger


class Command(BaseCommand):
    help = "Check (or --fix) the running totals of the expenditure ledger against the ledger itself."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="rewrite the totals from the ledger")
        parser.add_argument(
            "--project",
            type=int,
            action="append",
            dest="projects",
            metavar="ID",
            help="only this funded project (repeatable); default: every project",
        )

    def handle(self, *args, fix, projects, **options):
        with transaction.atomic():
            if fix:
                ledger.lock_projects(projects)  # no entry recorded between the comparison and the rewrite
            found = ledger.differences(projects)
            for what, key, stored, computed in found:
                self.stdout.write(f"{what} {key}: stored {stored}, ledger says {computed}")
            if found and fix:
                ledger.refresh_totals(projects)
                record(actor="manage.py ledger_totals", action="ledger.totals_fixed", after={"differences": len(found)})
                self.stdout.write(f"Fixed {len(found)} difference(s).")
                return
        if found:
            raise CommandError(
                f"{len(found)} difference(s) between the running totals and the ledger; run with --fix to rewrite them."
            )
        self.stdout.write("The running totals agree with the ledger.")
