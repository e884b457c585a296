"""manage.py send_reminders [--date YYYY-MM-DD]: the daily notification run (cron or a systemd timer, once a day).

Reminds organizations of progress reports and rectifications due within three days or overdue, judges of score
sheets still open, and posts each round's overdue count to its WeCom group robot; then tries again the e-mails and
robot posts that failed earlier. Each reminder is sent once a day: running it again the same day sends nothing new."""

import datetime

from django.core.management.base import BaseCommand

from venture.notifications import services


class Command(BaseCommand):
    help = "Send today's reminders (reports, rectifications, judges' open sheets) and retry failed deliveries."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=datetime.date.fromisoformat, default=None, help="the day to remind for (default: today)"
        )

    def handle(self, *args, date, **options):
        sent, retried, failing = services.send_reminders(today=date)
        self.stdout.write(
            f"Sent {sent} reminder(s); retried {retried + failing} delivery(ies): {retried} sent, {failing} still failing."
        )
