"""manage.py backup [--output DIR]: one timestamped .tar.gz with a consistent database dump, the media folder and a
manifest of checksums. Prints the archive's path on the last line (for scripts). See docs/deploy.md."""

from django.core.management.base import BaseCommand, CommandError

from venture.ops.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Back up the database (consistent while the site runs) and the uploaded files into one .tar.gz."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", metavar="DIR", default=None, help="folder for the archive (default: $VENTURE_DATA_DIR/backups)"
        )

    def handle(self, *args, output=None, **options):
        try:
            path, manifest = create_backup(output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = path.stat().st_size
        self.stdout.write(
            f"{manifest['database_engine']} database and {manifest['media_files']} media file(s), "
            f"{size / 1024 / 1024:.1f} MB, app {manifest['app_version']}"
        )
        self.stdout.write(str(path))
