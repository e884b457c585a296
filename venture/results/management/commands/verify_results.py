"""manage.py verify_results <competition_id>: recompute the frozen results of a round and compare.

Prints each check and both digests; exits with an error (CommandError, status 1) when verification fails or the
round has no valid frozen results. An auditor can run it on a copy of the database, away from the web server."""

from django.core.management.base import BaseCommand, CommandError

from venture.competitions.models import Competition
from venture.results import services

CHECKS = [
    ("sheets_unchanged", "sealed inputs (sheets, rubric, money settings, requests) unchanged since the freeze"),
    ("stored_inputs_intact", "stored inputs match the digest"),
    ("ranking_reproduced", "ranking reproduced from the stored inputs"),
    ("outputs_reproduced", "every published output reproduced from the stored inputs"),
    ("code_version_same", "scoring code version same as at the freeze (informational)"),
]
LEGACY_NOTE = (
    "legacy snapshot: frozen before the money settings were sealed; verified as before (sheets, rubric, "
    "ranking), its top-k reads the round's settings now"
)


class Command(BaseCommand):
    help = "Verify the frozen results of a round: sealed sheets unchanged, stored inputs intact, ranking reproduced."

    def add_arguments(self, parser):
        parser.add_argument("competition_id", type=int)

    def handle(self, *args, competition_id, **options):
        competition = Competition.objects.filter(pk=competition_id).first()
        if competition is None:
            raise CommandError(f"No round with id {competition_id}.")
        snapshot = services.current_snapshot(competition)
        if snapshot is None:
            raise CommandError(f"Round {competition_id} ({competition.title}) has no valid frozen results.")
        checks = services.verify(snapshot)
        self.stdout.write(f"Round {competition.pk}: {competition.title}")
        self.stdout.write(f"frozen at     {snapshot.created_at.isoformat()}")
        self.stdout.write(f"code version  {snapshot.code_version} (now {services.code_version()})")
        self.stdout.write(f"digest        {checks['digest']}")
        self.stdout.write(f"digest now    {checks['digest_now']}")
        if checks["legacy"]:
            self.stdout.write(LEGACY_NOTE)
        for key, label in CHECKS:
            if checks["legacy"] and key == "outputs_reproduced":
                continue
            mark = "✓" if checks[key] else "✗"
            line = f"{mark} {label}"
            self.stdout.write(self.style.SUCCESS(line) if checks[key] else self.style.ERROR(line))
        if not checks["ok"]:
            raise CommandError("Verification FAILED: the frozen results do not match the database.")
        self.stdout.write(self.style.SUCCESS("Verification passed."))
