from django.core.management.base import BaseCommand

from venture.documents.final import prepare_everything
from venture.documents.models import DocumentStatus, StoredDocument


class Command(BaseCommand):
    help = (
        "Enqueue the rendering of every final document not rendered yet (results reports, signed-sheet bundles, "
        "notices, agreements, finalists' books, submitted application books); the worker renders them."
    )

    def handle(self, *args, **options):
        before = StoredDocument.objects.count()
        prepare_everything()
        queued = StoredDocument.objects.count() - before
        ready = StoredDocument.objects.filter(status=DocumentStatus.READY).count()
        if options["verbosity"]:
            self.stdout.write(f"{queued} document(s) queued for rendering; {ready} ready.")
