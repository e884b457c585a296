"""The score matrix is written in the background and downloaded when ready (issue #20): the request enqueues it and
answers "being prepared" until the worker has written it; the file is kept in the storage with its SHA-256; the same
sheets reuse the same file, a changed sheet makes a new one; the export streams its rows (venture.exports.write_xlsx,
write_csv)."""

import csv
import hashlib
import io
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from judging.models import Assignment, ScoreSheet
from judging.services import save_sheet, unlock_sheet
from tests import factories
from venture.audit.models import AuditEvent
from venture.background.tasks import work_off
from venture.documents import score_matrix
from venture.documents.models import StoredDocument
from venture.exports import Sheet, write_csv, write_xlsx

pytestmark = pytest.mark.django_db
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
TASK = "venture.documents.score_matrix.write_score_matrix"
CRITERIA = ["项目定位精准性", "内容可行性", "社会效益", "资金预算"]  # 25, 25, 30, 20 points (factories.competition)


def english(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def downloaded(response):
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def cells(content):
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def submit(assignment, minus, version=0):
    """Submit the sheet with every criterion's maximum less ``minus``; the total is their sum (weight = maximum)."""
    points = {c.pk: c.max_points - minus for c in assignment.panel.competition.criteria.all()}
    return save_sheet(
        assignment=assignment,
        by=assignment.judge.user,
        points=points,
        comment="评分说明",
        expected_version=version,
        submit=True,
    )


@pytest.fixture
def scored(db, staff):
    """A final review of two finalists by two judges, every sheet submitted through the service: 评委甲 gives each
    criterion its maximum less 1, 评委乙 less 2 (totals 96 and 92)."""
    c = factories.competition(stage="final")
    second = factories.judge("sm_b", full_name="评委乙")
    first = factories.judge("sm_a", full_name="评委甲")
    proposals = factories.finalists(c, 2)
    assignments = factories.final_panel(c, [second, first], proposals)
    for (judge_pk, _proposal_pk), assignment in assignments.items():
        submit(
            Assignment.objects.select_related("panel__competition", "judge__user").get(pk=assignment.pk),
            1 if judge_pk == first.pk else 2,
        )
    return c, proposals, {"甲": first, "乙": second}


def expected_scores(proposals, points_of):
    rows = [["Project", "Organization", "Judge", "Criterion", "Points"]]
    for p in proposals:
        for judge in ("评委甲", "评委乙"):
            rows += [[p.title, p.organization.name, judge, name, points_of(p, judge, name)] for name in CRITERIA]
    return rows


MAXIMUM = dict(zip(CRITERIA, [25, 25, 30, 20], strict=True))


def test_the_export_is_prepared_in_the_background_then_downloaded_as_kept(client, settings, staff, scored):
    c, proposals, _judges = scored
    settings.TASKS = DATABASE_QUEUE
    client.force_login(staff)
    english(client)
    url = f"/documents/round/{c.pk}/scores/export/"

    waiting = client.get(url)
    assert waiting.status_code == 202
    assert (waiting["Refresh"], waiting["Cache-Control"]) == ("3", "no-store")
    html = waiting.content.decode()
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "This export is being prepared" in html
    assert "“评分明细-测试创投大赛.xlsx” is being written in the background" in html
    [doc] = StoredDocument.objects.all()
    assert (doc.kind, doc.object_id, doc.variant, doc.status, doc.file.name) == (
        "score_matrix",
        c.pk,
        "en:final:xlsx",
        "preparing",
        "",
    )
    assert client.get(url).status_code == 202  # asked again while queued: nothing more is enqueued
    assert list(DBTaskResult.objects.values_list("task_path", "status")) == [(TASK, "READY")]
    assert not AuditEvent.objects.filter(action="export.scores").exists()  # audited when downloaded

    assert work_off() == 1
    response = client.get(url)
    content = downloaded(response)
    doc.refresh_from_db()
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "%E8%AF%84%E5%88%86%E6%98%8E%E7%BB%86" in response["Content-Disposition"]  # 评分明细
    assert doc.status == "ready" and doc.size == len(content)
    assert doc.sha256 == hashlib.sha256(content).hexdigest() == response["X-Document-SHA256"]
    with default_storage.open(doc.file.name, "rb") as kept:
        assert kept.read() == content
    sheets = cells(content)
    assert list(sheets) == ["Scores", "Judges' totals"]
    assert sheets["Scores"] == expected_scores(
        proposals, lambda p, judge, name: MAXIMUM[name] - (1 if judge == "评委甲" else 2)
    )
    assert sheets["Judges' totals"] == [
        ["Project", "Organization", "评委甲", "评委乙"],
        [proposals[0].title, proposals[0].organization.name, 96, 92],
        [proposals[1].title, proposals[1].organization.name, 96, 92],
    ]
    event = AuditEvent.objects.get(action="export.scores")
    assert (event.actor, event.after) == (staff, {"stage": "final", "format": "xlsx", "rows": 16})
    assert DBTaskResult.objects.count() == 1  # written once


def test_the_same_request_twice_reuses_one_file(client, staff, scored):
    c, proposals, _judges = scored
    client.force_login(staff)
    english(client)
    url = f"/documents/round/{c.pk}/scores/export/?format=csv"
    first = downloaded(client.get(url))
    [doc] = StoredDocument.objects.all()
    second = downloaded(client.get(url))
    assert first == second
    assert StoredDocument.objects.get() == doc
    assert StoredDocument.objects.get().rendered_at == doc.rendered_at  # not written again
    table = list(csv.reader(io.StringIO(first.decode("utf-8-sig"))))
    assert table == [
        [str(v) for v in row]
        for row in expected_scores(
            proposals, lambda p, judge, name: float(MAXIMUM[name] - (1 if judge == "评委甲" else 2))
        )
    ]
    assert doc.variant == "en:final:csv" and doc.sha256 == hashlib.sha256(first).hexdigest()
    assert AuditEvent.objects.filter(action="export.scores").count() == 2  # each download audited


def test_a_changed_sheet_makes_a_new_file(client, staff, scored):
    c, proposals, judges = scored
    client.force_login(staff)
    english(client)
    url = f"/documents/round/{c.pk}/scores/export/"
    before = downloaded(client.get(url))
    [old] = StoredDocument.objects.all()

    sheet = ScoreSheet.objects.get(assignment__judge=judges["乙"], assignment__proposal=proposals[1])
    unlock_sheet(sheet=sheet, reason="复核", by=staff)
    assignment = Assignment.objects.select_related("panel__competition", "judge__user").get(pk=sheet.assignment_id)
    submit(assignment, 3, version=ScoreSheet.objects.get(pk=sheet.pk).version)

    after = downloaded(client.get(url))
    [new] = StoredDocument.objects.all()  # the earlier state's row and file are gone
    assert new.state != old.state and after != before
    assert not default_storage.exists(old.file.name)
    assert new.sha256 == hashlib.sha256(after).hexdigest()
    sheets = cells(after)
    assert sheets["Scores"] == expected_scores(
        proposals,
        lambda p, judge, name: MAXIMUM[name] - (1 if judge == "评委甲" else 3 if p == proposals[1] else 2),
    )
    assert sheets["Judges' totals"][2] == [proposals[1].title, proposals[1].organization.name, 96, 88]


def test_only_staff_and_the_auditor_export_others_get_404(client, scored, auditor, applicant_a):
    c, _proposals, judges = scored
    url = f"/documents/round/{c.pk}/scores/export/"
    assert client.get(url).status_code == 302  # to the login
    for user in (judges["甲"].user, applicant_a):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.get(url + "?format=csv").status_code == 404
    assert not StoredDocument.objects.exists()
    client.force_login(auditor)
    assert len(downloaded(client.get(url))) > 0
    assert client.get(url + "?stage=nonsense").status_code == 404
    assert client.get(f"/documents/round/{c.pk + 1000}/scores/export/").status_code == 404


def test_a_failed_export_is_listed_with_the_failed_tasks(client, settings, staff):
    settings.TASKS = DATABASE_QUEUE
    settings.TASK_RETRY_BACKOFF = 0
    score_matrix.write_score_matrix.enqueue(
        kind="score_matrix", object_id=987654, state="0" * 64, variant="en:final:xlsx"
    )
    assert work_off() == 3  # three attempts
    client.force_login(staff)
    english(client)
    page = client.get(reverse("background:failed")).content.decode()
    assert TASK in page and "DoesNotExist: Competition matching query does not exist." in page
    assert "3 / 3" in page


def test_the_streaming_writers_keep_the_cells_of_the_frame_writer(tmp_path):
    rows = [("=1+2", None, 1.5, 3, Decimal("1234.50")), ("甲", "x", None, 0, None)]
    labels = ["Text", "Blank", "Float", "Int", "Money"]
    path = tmp_path / "streamed.xlsx"
    with path.open("wb") as handle:
        assert write_xlsx(handle, [Sheet("数据", labels, iter(rows), money=frozenset({"Money"}))]) == [2]
    sheet = openpyxl.load_workbook(path)["数据"]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        labels,
        ["=1+2", None, 1.5, 3, 1234.5],
        ["甲", "x", None, 0, None],
    ]
    assert sheet["A2"].data_type == "s" and sheet["A2"].quotePrefix  # text, never a formula
    assert sheet["E2"].number_format == "#,##0.00"
    assert sheet.freeze_panes == "A2"
    buffer = io.BytesIO()
    assert write_csv(buffer, labels, iter(rows), money=frozenset({"Money"})) == 2
    assert buffer.getvalue().decode("utf-8-sig").split("\r\n") == [
        "Text,Blank,Float,Int,Money",
        "'=1+2,,1.5,3,1234.50",
        "甲,x,,0,",
        "",
    ]
