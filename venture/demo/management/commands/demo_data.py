from django.core.management.base import BaseCommand, CommandError

from venture.demo import builder


class Command(BaseCommand):
    help = "Load the demo round (fictional city union) when it is not there yet. Refuses production settings."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-if-present", action="store_true", help="Print nothing when the demo exists.")

    def handle(self, *args, **options):
        try:
            created = builder.build()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if created:
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        elif not options["quiet_if_present"]:
            self.stdout.write("Demo data already present; nothing changed.")
        self.stdout.write(
            f"Demo logins (password {builder.DEMO_PASSWORD}): staff, auditor, supervisor, judge1..judge9, "
            "applicant1..applicant54"
        )
