"""Background tasks (issue #20): enqueue, run by the worker, retry with backoff, failures shown to staff with a retry
button; mail sent by the worker, once."""

import datetime

import pytest
from django.core import mail
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from venture.audit.models import AuditEvent
from venture.background.models import MailDelivery
from venture.background.tasks import background_task, deliver_mail, failed_tasks, work_off

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
RUNS = []  # what the tasks below were called with, in this process
BROKEN = {"flaky": True}


@background_task(attempts=3)
def add(*, a, b):
    RUNS.append(("add", a, b))
    return a + b


@background_task(attempts=3)
def flaky(*, n):
    RUNS.append(("flaky", n))
    if BROKEN["flaky"]:
        raise ValueError(f"the mail server said no to {n}")
    return n


@pytest.fixture
def queue(settings, db):
    settings.TASKS = DATABASE_QUEUE
    settings.TASK_RETRY_BACKOFF = 30
    RUNS.clear()
    BROKEN["flaky"] = True
    return settings


def rows():
    return list(
        DBTaskResult.objects.order_by("enqueued_at").values_list("task_path", "status", "args_kwargs", "return_value")
    )


def test_a_task_is_enqueued_in_the_database_and_run_by_the_worker(queue):
    result = add.enqueue(a=2, b=3)
    assert RUNS == []
    assert rows() == [(f"{__name__}.add", "READY", {"args": [], "kwargs": {"a": 2, "b": 3}}, None)]
    assert work_off() == 1
    assert RUNS == [("add", 2, 3)]
    assert rows() == [(f"{__name__}.add", "SUCCESSFUL", {"args": [], "kwargs": {"a": 2, "b": 3}}, 5)]
    result.refresh()
    assert (result.status, result.return_value) == ("SUCCESSFUL", 5)
    assert work_off() == 0


def test_the_tests_run_tasks_at_once(db):
    result = add.enqueue(a=1, b=1)
    assert (result.status, result.return_value) == ("SUCCESSFUL", 2)
    assert DBTaskResult.objects.count() == 0


def _make_due():
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now() - datetime.timedelta(seconds=1))


def test_a_failing_task_is_retried_with_a_doubling_backoff_then_given_up(queue):
    flaky.enqueue(n=7)
    before = timezone.now()
    assert work_off() == 1  # the first run fails; its retry waits 30 s, so nothing more is due
    first, retry = DBTaskResult.objects.order_by("enqueued_at")
    assert (first.status, first.exception_class_path) == ("FAILED", "builtins.ValueError")
    assert "ValueError: the mail server said no to 7" in first.traceback
    assert (retry.status, retry.args_kwargs) == ("READY", {"args": [], "kwargs": {"n": 7, "_attempt": 2}})
    assert 29 <= (retry.run_after - before).total_seconds() <= 31
    assert failed_tasks() == ([], 1)  # one retry waiting; nothing given up

    _make_due()
    before = timezone.now()
    assert work_off() == 1
    third = DBTaskResult.objects.get(status="READY")
    assert third.args_kwargs == {"args": [], "kwargs": {"n": 7, "_attempt": 3}}
    assert 59 <= (third.run_after - before).total_seconds() <= 61

    _make_due()
    assert work_off() == 1
    assert RUNS == [("flaky", 7)] * 3
    assert list(DBTaskResult.objects.order_by("enqueued_at").values_list("status", flat=True)) == ["FAILED"] * 3
    given_up, retrying = failed_tasks()
    assert retrying == 0
    assert [(f.result.task_path, f.attempt, f.attempts, f.error) for f in given_up] == [
        (f"{__name__}.flaky", 3, 3, "ValueError: the mail server said no to 7")
    ]


def test_staff_see_failed_tasks_with_their_error_and_retry_them(queue, client, staff):
    flaky.enqueue(n=1)
    for _run in range(3):
        work_off()
        _make_due()
    failed = DBTaskResult.objects.filter(args_kwargs__kwargs___attempt=3).get()
    client.force_login(staff)
    page = client.get(reverse("background:failed"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{__name__}.flaky" in html
    assert "ValueError: the mail server said no to 1" in html
    assert "3 / 3" in html
    assert reverse("background:retry", args=[failed.pk]) in html

    BROKEN["flaky"] = False
    answer = client.post(reverse("background:retry", args=[failed.pk]))
    assert answer.status_code == 302 and answer["Location"] == reverse("background:failed")
    assert not DBTaskResult.objects.filter(pk=failed.pk).exists()
    again = DBTaskResult.objects.get(status="READY")
    assert again.args_kwargs == {"args": [], "kwargs": {"n": 1}}
    event = AuditEvent.objects.get(action="task.retry")
    assert (event.actor_id, event.after["failed"], event.after["retry"], event.after["error"]) == (
        staff.pk,
        str(failed.pk),
        str(again.pk),
        "builtins.ValueError",
    )
    assert work_off() == 1
    again.refresh_from_db()
    assert (again.status, again.return_value) == ("SUCCESSFUL", 1)
    assert failed_tasks() == ([], 0)
    client.get(reverse("background:failed"))
    assert "failed-tasks" in (html := client.get(reverse("background:failed")).content.decode())
    assert f"{__name__}.flaky" not in html


def test_only_staff_see_the_failed_tasks(queue, client, auditor, applicant_a):
    flaky.enqueue(n=2)
    work_off()
    failed = DBTaskResult.objects.get(status="FAILED")
    for user in (auditor, applicant_a):
        client.force_login(user)
        assert client.get(reverse("background:failed")).status_code == 403
        assert client.post(reverse("background:retry", args=[failed.pk])).status_code == 404
    assert DBTaskResult.objects.filter(pk=failed.pk, status="FAILED").exists()
    client.logout()
    assert client.get(reverse("background:failed")).status_code == 302  # to the login page


def test_a_mail_is_sent_by_the_worker_not_by_the_code_that_sends_it(queue):
    assert send_mail("Subject 主题", "Body 正文", None, ["someone@example.org"]) == 1
    assert mail.outbox == []
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "venture.background.tasks.deliver_mail"
    assert queued.args_kwargs["kwargs"]["message"]["to"] == ["someone@example.org"]
    assert work_off() == 1
    assert [(m.subject, m.body, m.to) for m in mail.outbox] == [("Subject 主题", "Body 正文", ["someone@example.org"])]
    key = queued.args_kwargs["kwargs"]["key"]
    assert list(MailDelivery.objects.values_list("key", "subject", "recipients")) == [
        (key, "Subject 主题", ["someone@example.org"])
    ]
    # Run again with the same key (a retry after the send, a task run twice): nothing is sent twice.
    deliver_mail.enqueue(**queued.args_kwargs["kwargs"])
    assert work_off() == 1
    assert len(mail.outbox) == 1
