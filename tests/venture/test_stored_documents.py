"""Final documents are rendered once per final state in the background, kept in the media storage with their SHA-256,
and served as kept; until the worker has rendered one, a request gets a page that says so and reloads itself
(issue #20)."""

import datetime
import hashlib
import io
import time

import pypdf
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests import factories
from tests.builders import build_round
from venture.awards import services as awards
from venture.awards.models import GrantAgreement
from venture.background.tasks import work_off
from venture.documents import stored
from venture.documents.final import prepare_everything
from venture.documents.models import StoredDocument
from venture.results import services as results
from venture.results.models import ResultSnapshot

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
RENDER = "venture.documents.stored.render_document"


def text(content):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def kept(doc, settings):
    return (settings.MEDIA_ROOT / doc.file.name).read_bytes()


def test_a_final_document_is_prepared_then_served_as_kept(client, settings, db):
    c, staff, _auditor, _props = build_round()
    settings.TASKS = DATABASE_QUEUE
    client.force_login(staff)
    url = f"/results/round/{c.pk}/results/report.pdf"

    waiting = client.get(url)
    assert waiting.status_code == 202
    assert waiting["Refresh"] == "3" and waiting["Cache-Control"] == "no-store"
    html = waiting.content.decode()
    assert '<meta http-equiv="refresh" content="3">' in html and 'id="document-preparing"' in html
    [doc] = StoredDocument.objects.all()
    assert (doc.kind, doc.status, doc.file.name) == ("results_report", "preparing", "")
    # Asking again while it is being prepared enqueues nothing more.
    assert client.get(url).status_code == 202
    assert list(DBTaskResult.objects.values_list("task_path", "status")) == [(RENDER, "READY")]

    assert work_off() == 1
    first = client.get(url)
    second = client.get(url)
    doc.refresh_from_db()
    assert (first.status_code, first["Content-Type"], doc.status) == (200, "application/pdf", "ready")
    assert first.content == second.content == kept(doc, settings)
    assert doc.sha256 == hashlib.sha256(first.content).hexdigest() == first["X-Document-SHA256"]
    assert doc.size == len(first.content)
    assert "评审结果报告" in text(first.content)
    assert StoredDocument.objects.count() == 1 and DBTaskResult.objects.count() == 1  # rendered once


def test_the_round_documents_are_rendered_when_they_become_final(settings, db, django_capture_on_commit_callbacks):
    settings.TASKS = DATABASE_QUEUE
    settings.DOCUMENTS_PREPARE_WHEN_FINAL = True
    with django_capture_on_commit_callbacks(execute=True):
        c, staff, _auditor, props = build_round()
    snapshot = ResultSnapshot.objects.get(competition=c, valid=True)
    queued = sorted(
        (r.args_kwargs["kwargs"]["kind"], r.args_kwargs["kwargs"]["variant"])
        for r in DBTaskResult.objects.filter(task_path=RENDER)
    )
    # After the commit of the freeze and the sign-off: the signed report, the signed-sheet bundle, and the finalists'
    # book (final since the finalists were confirmed); the freeze and the sign-off both asked for the same report
    # state, queued once.
    assert queued == [
        ("finalists_book", "zh-hans:contacts"),
        ("results_report", "zh-hans"),
        ("sheet_bundle", "zh-hans"),
    ]
    assert work_off() == 3
    signed = StoredDocument.objects.get(
        kind="results_report", status="ready", state=stored.state_of(stored.KINDS["results_report"], snapshot)
    )
    bundle = StoredDocument.objects.get(kind="sheet_bundle")
    assert bundle.status == "ready"
    snapshot.refresh_from_db()
    assert bundle.sha256 == snapshot.bundle_sha256 == hashlib.sha256(kept(bundle, settings)).hexdigest()
    assert signed.sha256 == hashlib.sha256(kept(signed, settings)).hexdigest()

    # The notice and, at its close, the agreements.
    with django_capture_on_commit_callbacks(execute=True):
        awards.propose_awards(competition=c, by=staff)
        awards.publish_notice(competition=c, by=staff, starts_on=datetime.date(2025, 9, 29))
    # One more document, the notice (the worker also sends the notifications' mails of the publication).
    assert DBTaskResult.objects.filter(task_path=RENDER).count() == 4
    work_off()
    assert StoredDocument.objects.filter(kind="notice", status="ready").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        awards.close_notice(competition=c, by=staff, today=datetime.date(2025, 10, 12))
    work_off()
    agreements = GrantAgreement.objects.filter(award__competition=c)
    assert agreements.count() == 2
    documents = StoredDocument.objects.filter(status="ready")
    assert sorted(documents.filter(kind="agreement").values_list("object_id", flat=True)) == sorted(
        agreements.values_list("pk", flat=True)
    )
    notices = documents.filter(kind="notice")
    assert notices.count() == 2  # as published, and as closed: each state its own document
    for doc in documents:
        assert doc.sha256 == hashlib.sha256(kept(doc, settings)).hexdigest(), doc

    # The agreement is served as kept, byte for byte.
    client_staff = Client()
    client_staff.force_login(staff)
    agreement = agreements.order_by("pk").first()
    answer = client_staff.get(f"/documents/awards/{agreement.award_id}/agreement.pdf")
    assert answer.content == kept(documents.get(kind="agreement", object_id=agreement.pk), settings)


def test_a_submitted_application_book_is_kept_a_draft_is_rendered_each_time(client, settings, db, staff):
    c = factories.competition()
    org = factories.organization(owner=factories.user("owner_book"))
    draft = factories.proposal(c, org, title="草稿申报书")
    submitted = factories.proposal(c, org, title="已提交申报书", status="submitted", submitted_at=timezone.now())
    client.force_login(staff)

    answer = client.get(f"/documents/proposals/{draft.pk}/application.pdf")
    assert answer.status_code == 200 and "草稿申报书" in text(answer.content)
    assert not StoredDocument.objects.exists()

    first = client.get(f"/documents/proposals/{submitted.pk}/application.pdf")
    second = client.get(f"/documents/proposals/{submitted.pk}/application.pdf")
    [doc] = StoredDocument.objects.all()
    assert (doc.kind, doc.object_id, doc.variant, doc.status) == (
        "application_book",
        submitted.pk,
        "zh-hans:contacts",
        "ready",
    )
    assert first.content == second.content == kept(doc, settings)
    assert "李联系" in text(first.content)  # staff may see the contact details: the copy with them


def test_a_stored_document_answers_fast(client, settings, db):
    c, staff, _auditor, _props = build_round()
    client.force_login(staff)
    url = f"/results/round/{c.pk}/results/report.pdf"
    client.get(url)  # rendered (the tests' queue runs at once) and kept
    timings = []
    for _n in range(5):
        start = time.perf_counter()
        assert client.get(url).status_code == 200
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[2] < 0.5, timings


def test_prepare_documents_queues_every_final_document_once(settings, db):
    c, _staff, _auditor, props = build_round()
    settings.TASKS = DATABASE_QUEUE
    prepare_everything()
    kinds = sorted(StoredDocument.objects.values_list("kind", flat=True))
    assert kinds == ["finalists_book", "results_report", "sheet_bundle"]
    prepare_everything()
    assert StoredDocument.objects.count() == 3 and DBTaskResult.objects.count() == 3
    assert work_off() == 3
    assert set(StoredDocument.objects.values_list("status", flat=True)) == {"ready"}


def test_a_document_of_a_state_that_moved_on_is_not_kept(settings, db):
    c, staff, _auditor, props = build_round()
    settings.TASKS = DATABASE_QUEUE
    prepare_everything()
    snapshot = ResultSnapshot.objects.get(competition=c, valid=True)
    ResultSnapshot.objects.filter(pk=snapshot.pk).update(valid=False)
    assert work_off() == 3
    assert sorted(StoredDocument.objects.values_list("kind", flat=True)) == ["finalists_book"]
    assert results.current_snapshot(c) is None


def test_the_application_book_for_readers_without_the_contacts_leaves_them_out(db):
    c = factories.competition()
    submitted = factories.proposal(
        c, factories.organization(owner=factories.user("owner_plain")), status="submitted", submitted_at=timezone.now()
    )
    kind = stored.KINDS["application_book"]
    assert "李联系" in text(kind.render(submitted, contacts=True))
    assert "李联系" not in text(kind.render(submitted, contacts=False))
