"""manage.py restore FILE [--yes]: verify a backup archive against its manifest, then restore the database and the
media folder from it. Stop the app servers first. See docs/deploy.md ("Restore drill")."""

from django.core.management.base import BaseCommand, CommandError

from venture.ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore the database and the uploaded files from an archive made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="FILE")
        parser.add_argument("--yes", action="store_true", help="replace the data of a database that is not empty")

    def handle(self, *args, archive, yes=False, **options):
        try:
            result = restore_backup(archive, yes=yes)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result["manifest"]
        self.stdout.write(
            f"Restored the {manifest['database_engine']} database and {manifest['media_files']} media "
            f"file(s) from a backup made {manifest['created_at']} (app {manifest['app_version']})."
        )
        if result["previous_media"]:
            self.stdout.write(
                f"The previous media folder was kept at {result['previous_media']}; delete it once "
                "you have checked the restored site."
            )
        self.stdout.write("Next: manage.py migrate (when the code is newer than the backup), then start the site.")
