"""Background tasks of supervision: a large ledger file is imported by the worker, not in the request.

A thin wrapper: the file is read and checked by the same ``ledger_files.read_ledger`` and imported by the same
``services.import_ledger`` (all or nothing) as a small file in the request; the task only fetches the stored upload
and reports the outcome as JSON, which the import's status page shows."""

import datetime

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import translation

from venture.accounts.models import User
from venture.background.tasks import background_task

from . import ledger_files, services
from .models import FundedProject, LedgerImport


def _outcome(entries, report):
    return {"imported": len(entries), "rows": report.rows, "problems": report.problems, "failed": report.failed}


@background_task(attempts=3)
def import_ledger_file(*, project_id, path, name, by_id, queued_at, language):
    """Import the stored ledger file at ``path`` into the project. Idempotent: when a run already imported this
    file (after the upload was queued) its import is reported, not refused as a repeat."""
    with translation.override(language):  # the problems are reported in the uploader's language
        return _import(project_id, path, name, by_id, queued_at)


def _import(project_id, path, name, by_id, queued_at):
    project = FundedProject.objects.get(pk=project_id)
    by = User.objects.get(pk=by_id)
    with default_storage.open(path, "rb") as handle:
        ledger_file = ledger_files.read_ledger(File(handle, name=name))
    done = LedgerImport.objects.filter(
        project=project, sha256=ledger_file.sha256, created_at__gte=datetime.datetime.fromisoformat(queued_at)
    ).first()
    if done is not None:
        outcome = {"imported": done.rows, "rows": done.rows, "problems": 0, "failed": []}
    else:
        try:
            outcome = _outcome(*services.import_ledger(project=project, ledger_file=ledger_file, by=by))
        except ValidationError as exc:
            outcome = {
                "imported": 0,
                "rows": len(ledger_file.rows),
                "problems": 0,
                "failed": [],
                "errors": exc.messages,
            }
    default_storage.delete(path)
    return outcome
