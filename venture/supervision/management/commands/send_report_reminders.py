"""manage.py send_report_reminders [--dry-run] [--days N] [--every N]: e-mail the members of every organization with
an overdue progress report or one due within N days (default 7); sets each report's reminded_at. For cron, e.g.
daily at 08:00 with --every 7 so that an organization hears about the same report at most once a week."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from venture.supervision import services


class Command(BaseCommand):
    help = "E-mail organizations about overdue progress reports and those due soon."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be sent; send nothing")
        parser.add_argument(
            "--days",
            type=int,
            default=services.REMINDER_HORIZON_DAYS,
            help="also remind reports due within this many days (default 7)",
        )
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            help="skip reports reminded less than this many days ago (default 0: remind every run)",
        )

    def handle(self, *args, dry_run, days, every, **options):
        with translation.override(settings.LANGUAGE_CODE):
            sent = services.send_report_reminders(dry_run=dry_run, horizon=days, every=every or None)
        for organization, recipients, reports in sent:
            self.stdout.write(f"{organization.name}: {len(reports)} report(s) -> {', '.join(recipients)}")
        n_reports = sum(len(reports) for _org, _to, reports in sent)
        verb = "Would send" if dry_run else "Sent"
        self.stdout.write(f"{verb} {len(sent)} reminder e-mail(s) covering {n_reports} report(s).")
