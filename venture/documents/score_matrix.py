"""The score matrix of a stage (评分明细), written in the background and downloaded when ready (issue #20).

A national pre-scoring stage has 100,000 scores (5,000 proposals x 5 judges x 4 criteria): too many to write inside
a web request and too many to hold as model instances or a DataFrame in a worker. A request (``prepare``) asks for
the export of one round, stage, format and language; the file is written by the task ``write_score_matrix`` and kept
in the media storage (``default_storage``) as a ``StoredDocument`` with its SHA-256, like the final documents
(``stored``); until then the request answers with the page that says it is being prepared and reloads itself.

The same request with the stage's sealed sheets unchanged finds the export queued or written and reuses it; once a
sheet changes the export has a new ``state`` and a new file (the file of the earlier state is removed when the new
one is written: an export is a working copy, not an issued document). The state is the stage's ``fingerprint``: one
aggregate query over the scores the matrix shows. Each save of a sheet writes its score rows anew (new ids) and
bumps its version, so a sheet saved, unlocked, changed, resubmitted or recused, or a new sheet, changes the number,
the sum or the largest of the score ids, or the sum of the versions.

Writing streams: the rows come from ``values_list(...).iterator()`` queries of ids and numbers (no model instances),
the names from small lookups (proposals, judges, criteria), and ``venture.exports.write_xlsx``/``write_csv`` write
them a batch at a time into a temporary file, so the worker's memory does not grow with the round.
"""

import hashlib
import itertools
import tempfile

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, FloatField, Max, Sum
from django.db.models.functions import Cast
from django.http import FileResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from judging.models import ConflictStatus, Judge, Score, ScoreSheet, SheetStatus
from venture.background.tasks import background_task
from venture.competitions.models import Competition
from venture.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, Sheet, write_csv, write_xlsx
from venture.proposals.models import Proposal

from .models import DocumentStatus, StoredDocument

KIND = "score_matrix"
CONTENT_TYPES = {"xlsx": XLSX_CONTENT_TYPE, "csv": CSV_CONTENT_TYPE}
CHUNK = 2000  # rows fetched from the database at a time
HASH_BLOCK = 1024 * 1024


def _sealed(competition, stage, prefix=""):
    """The filter of the sheets the matrix shows, from the sheet (``prefix`` "") or from one of its rows ("sheet__")."""
    return {
        f"{prefix}assignment__panel__competition": competition,
        f"{prefix}assignment__panel__stage": stage,
        f"{prefix}status": SheetStatus.SUBMITTED,
        f"{prefix}assignment__conflict__status": ConflictStatus.CLEAR,
    }


def sealed_sheets(competition, stage):
    """The sheets the matrix shows: submitted, at ``stage``, with no conflict of interest declared."""
    return ScoreSheet.objects.filter(**_sealed(competition, stage))


def sealed_scores(competition, stage):
    """The scores of those sheets."""
    return Score.objects.filter(**_sealed(competition, stage, "sheet__"))


def fingerprint(competition, stage):
    """What can change of the scores the matrix shows, in one aggregate query: {"rows", "ids", "last",
    "versions"} (see the module's description)."""
    found = sealed_scores(competition, stage).aggregate(
        rows=Count("pk"), ids=Sum("pk"), last=Max("pk"), versions=Sum("sheet__version")
    )
    return {key: found[key] or 0 for key in ("rows", "ids", "last", "versions")}


def state_of(stage, fmt, found):
    return hashlib.sha256(repr((stage, fmt, sorted(found.items()))).encode()).hexdigest()


def prepare(competition, *, stage, fmt, language=None):
    """(the StoredDocument of the export of ``competition``'s ``stage`` in ``fmt`` as the sheets are now, the number
    of its rows): the one queued or written already for this state, else a new one whose writing is enqueued (the
    immediate backend of the tests has written it on return)."""
    language = language or translation.get_language() or "zh-hans"
    stage = str(stage)  # the value of a PanelStage member: the state is the same for both
    found = fingerprint(competition, stage)
    key = {
        "kind": KIND,
        "object_id": competition.pk,
        "state": state_of(stage, fmt, found),
        "variant": f"{language}:{stage}:{fmt}",
    }
    doc = StoredDocument.objects.filter(**key).first()
    if doc is None:
        try:
            with transaction.atomic():
                doc = StoredDocument.objects.create(**key)
        except IntegrityError:  # another request made it just now
            return StoredDocument.objects.get(**key), found["rows"]
        write_score_matrix.enqueue(**key)
        # the immediate backend (tests) has written it by now; gone: the sheets changed meanwhile (asked for again
        # on the page's next reload)
        doc = StoredDocument.objects.filter(pk=doc.pk).first() or doc
    return doc, found["rows"]


def judge_names(competition, stage):
    """{judge id: display name (User.display_name)} of the judges of the sealed sheets, in the order of the totals'
    columns (username, then id)."""
    judges = (
        Judge.objects.filter(pk__in=sealed_sheets(competition, stage).values("assignment__judge_id"))
        .order_by("user__username", "pk")
        .values_list("pk", "user__username", "user__full_name", "user__first_name", "user__last_name")
    )
    return {pk: full_name or f"{first} {last}".strip() or username for pk, username, full_name, first, last in judges}


def matrix_rows(competition, stage, projects, judges):
    """(project, organization, judge, criterion, points) per score, by project, judge and criterion."""
    criteria = dict(competition.criteria.values_list("pk", "name"))
    rows = (
        sealed_scores(competition, stage)
        .annotate(points_float=Cast("points", FloatField()))  # scores may be floats; 100,000 Decimals cost time
        .order_by(
            "sheet__assignment__proposal__title",
            "sheet__assignment__proposal_id",
            "sheet__assignment__judge__user__username",
            "sheet__assignment__judge_id",
            "criterion__order",
            "criterion_id",
        )
        .values_list("sheet__assignment__proposal_id", "sheet__assignment__judge_id", "criterion_id", "points_float")
    )
    for proposal, judge, criterion, points in rows.iterator(chunk_size=CHUNK):
        title, organization = projects[proposal]
        yield title, organization, judges[judge], criteria[criterion], points


def totals_rows(competition, stage, projects, judges):
    """(project, organization, each judge's total or None where they have no sealed sheet) per project."""
    sheets = (
        sealed_sheets(competition, stage)
        .annotate(total_float=Cast("total", FloatField()))
        .order_by("assignment__proposal__title", "assignment__proposal_id")
        .values_list("assignment__proposal_id", "assignment__judge_id", "total_float")
    )
    for proposal, group in itertools.groupby(sheets.iterator(chunk_size=CHUNK), key=lambda row: row[0]):
        totals = {judge: total for _p, judge, total in group}
        yield (*projects[proposal], *(totals.get(judge) for judge in judges))


def write(competition, stage, fmt, handle):
    """Write the matrix (xlsx: and the judges' totals) to the binary file ``handle`` in the active language;
    returns the number of score rows. Constant memory but for the round's names (proposals, judges, criteria)."""
    judges = judge_names(competition, stage)
    projects = {
        pk: (title, organization)
        for pk, title, organization in Proposal.objects.filter(competition=competition).values_list(
            "pk", "title", "organization__name"
        )
    }
    project, organization = _("Project"), _("Organization")
    labels = [project, organization, _("Judge"), _("Criterion"), _("Points")]
    matrix = matrix_rows(competition, stage, projects, judges)
    if fmt == "csv":
        return write_csv(handle, labels, matrix)
    counts = write_xlsx(
        handle,
        [
            Sheet(_("Scores"), labels, matrix),
            Sheet(
                _("Judges' totals"),
                [project, organization, *judges.values()],
                totals_rows(competition, stage, projects, judges),
            ),
        ],
    )
    return counts[0]


@background_task(attempts=3)
def write_score_matrix(*, kind, object_id, state, variant):
    """Write one export and keep it: the file in the media storage, its SHA-256 on the row; the file of an earlier
    state of the same export is removed. Nothing to do when this state is written already; the row is dropped when
    the sheets have changed since it was asked for (the next request asks for the new state)."""
    doc, _created = StoredDocument.objects.get_or_create(kind=kind, object_id=object_id, state=state, variant=variant)
    if doc.status == DocumentStatus.READY and doc.file and default_storage.exists(doc.file.name):
        return {"document": doc.pk, "sha256": doc.sha256, "written": False}
    competition = Competition.objects.get(pk=object_id)
    language, stage, fmt = variant.split(":")
    if state_of(stage, fmt, fingerprint(competition, stage)) != state:
        doc.delete()
        return {"document": None, "superseded": True}
    try:
        with tempfile.TemporaryFile() as handle, translation.override(language):
            rows = write(competition, stage, fmt, handle)
            size = handle.tell()
            handle.seek(0)
            digest = hashlib.sha256()
            while block := handle.read(HASH_BLOCK):
                digest.update(block)
            handle.seek(0)
            sha256 = digest.hexdigest()
            name = default_storage.save(
                f"exports/{kind}/{object_id}/{stage}-{state[:16]}-{language}-{sha256[:8]}.{fmt}", File(handle)
            )
    except Exception as exc:
        StoredDocument.objects.filter(pk=doc.pk).update(error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    doc.file.name, doc.sha256, doc.size = name, sha256, size
    doc.status, doc.error, doc.rendered_at = DocumentStatus.READY, "", timezone.now()
    doc.save(update_fields=["file", "sha256", "size", "status", "error", "rendered_at"])
    for earlier in StoredDocument.objects.filter(kind=kind, object_id=object_id, variant=variant).exclude(pk=doc.pk):
        if earlier.status == DocumentStatus.READY:
            if earlier.file:
                default_storage.delete(earlier.file.name)
            earlier.delete()
    return {"document": doc.pk, "sha256": sha256, "rows": rows, "written": True}


def download(doc, filename):
    """The kept file, streamed from the storage, with its SHA-256 in a header."""
    fmt = doc.variant.rsplit(":", 1)[-1]
    response = FileResponse(
        default_storage.open(doc.file.name, "rb"),
        as_attachment=True,
        filename=filename,
        content_type=CONTENT_TYPES[fmt],
    )
    response["X-Document-SHA256"] = doc.sha256
    response["X-Content-Type-Options"] = "nosniff"
    return response
