"""A ledger file of more than 1,000 rows is imported by the worker (issue #20): the request stores the file and
enqueues the import; the status page waits, then shows what the same import in the request would have shown."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tests.builders import build_funded, day
from venture.background.tasks import work_off
from venture.supervision.models import Expenditure

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def f(db):
    return build_funded()


def _csv(n, bad=None):
    header = "日期,预算科目,明细项目,金额,收款方,摘要,凭证号\n"
    rows = [
        f"{day(10).isoformat()},活动经费,活动经费项目,{'abc' if i == bad else '1.00'},示范市文具店,活动物资,PZ-{i}"
        for i in range(1, n + 1)
    ]
    return SimpleUploadedFile("台账.csv", (header + "\n".join(rows) + "\n").encode("utf-8"), "text/csv")


def test_a_large_file_is_imported_by_the_worker(client, f, settings):
    settings.TASKS = DATABASE_QUEUE
    client.force_login(f.owner)
    url = reverse("supervision:ledger_import", args=[f.project.pk])
    answer = client.post(url, {"file": _csv(1001)})
    [queued] = DBTaskResult.objects.all()
    status_url = reverse("supervision:ledger_import_status", args=[f.project.pk, queued.pk])
    assert (answer.status_code, answer["Location"]) == (302, status_url)
    assert queued.task_path == "venture.supervision.tasks.import_ledger_file"
    assert Expenditure.objects.count() == 0
    path = queued.args_kwargs["kwargs"]["path"]
    assert (settings.MEDIA_ROOT / path).exists()

    waiting = client.get(status_url)
    assert (waiting.status_code, waiting["Refresh"]) == (202, "3")
    assert 'id="ledger-importing"' in waiting.content.decode()
    # Another organization's writer, and another project's page, see nothing of it.
    client.force_login(f.other)
    assert client.get(status_url).status_code == 404
    client.force_login(f.owner)
    assert (
        client.get(reverse("supervision:ledger_import_status", args=[f.other_project.pk, queued.pk])).status_code == 404
    )

    assert work_off() == 1
    queued.refresh_from_db()
    assert queued.return_value == {"imported": 1001, "rows": 1001, "problems": 0, "failed": []}
    assert Expenditure.objects.filter(project=f.project).count() == 1001
    assert not (settings.MEDIA_ROOT / path).exists()
    done = client.get(status_url, follow=True)
    assert done.redirect_chain == [(reverse("supervision:ledger", args=[f.project.pk]), 302)]
    assert "1001" in done.content.decode()


def test_a_large_file_with_a_bad_row_reports_it_and_imports_nothing(client, f, settings):
    settings.TASKS = DATABASE_QUEUE
    settings.LEDGER_IMPORT_BACKGROUND_ROWS = 2
    client.force_login(f.owner)
    client.post(reverse("supervision:ledger_import", args=[f.project.pk]), {"file": _csv(3, bad=2)})
    [queued] = DBTaskResult.objects.all()
    work_off()
    answer = client.get(reverse("supervision:ledger_import_status", args=[f.project.pk, queued.pk]))
    assert answer.status_code == 400
    report = answer.context["import_report"]
    assert (report.rows, report.problems, report.failed) == (
        3,
        1,
        [[3, ["金额：“abc” 不是以元为单位的金额（例如 12800.50）。"]]],  # in the uploader's language (zh-hans)
    )
    assert Expenditure.objects.count() == 0


def test_with_the_tests_queue_the_outcome_comes_at_once(client, f, settings):
    settings.LEDGER_IMPORT_BACKGROUND_ROWS = 2
    client.force_login(f.owner)
    answer = client.post(reverse("supervision:ledger_import", args=[f.project.pk]), {"file": _csv(3)})
    assert (answer.status_code, answer["Location"]) == (302, reverse("supervision:ledger", args=[f.project.pk]))
    assert Expenditure.objects.filter(project=f.project).count() == 3
