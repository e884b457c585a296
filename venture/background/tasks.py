"""Tasks with retries, and the one task that delivers mail.

``@background_task(attempts=5)`` declares a task of Django's task API whose failed runs are enqueued again: the
n-th retry waits ``TASK_RETRY_BACKOFF × 2ⁿ⁻¹`` seconds (on a backend that can defer; the immediate backend of the
tests retries at once). Every run but the last re-raises its error, so each failure is kept with its traceback; the
page of failed tasks shows those whose attempts are spent (``failed_tasks``), and ``retry_failed`` runs one again
from its first attempt. Tasks take plain JSON arguments (ids, not model instances) and are idempotent: running one
twice leaves the same result as running it once, so a retry after a half-done run is safe.
"""

import base64
import dataclasses
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus, task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from venture.audit.services import record

from .models import MailDelivery

log = logging.getLogger(__name__)
ATTEMPT = "_attempt"  # the keyword argument that carries the number of the run (1 for the first)


def backoff(attempt):
    """Seconds to wait before run ``attempt`` (2, 3, …): the base, then doubling."""
    return timedelta(seconds=settings.TASK_RETRY_BACKOFF * 2 ** (attempt - 2))


def background_task(*, attempts=5, priority=0):
    """Declare ``fn`` a task (``fn.enqueue(...)``) whose failures are retried with backoff, ``attempts`` runs in all."""

    def decorate(fn):
        def run(context, *args, **kwargs):
            attempt = kwargs.pop(ATTEMPT, 1)
            try:
                return fn(*args, **kwargs)
            except Exception:
                if attempt < attempts:
                    log.warning("Task %s failed (run %s of %s); retrying", fn.__qualname__, attempt, attempts)
                    _enqueue_again(registered, args, kwargs, attempt + 1)
                raise

        run.__module__, run.__name__, run.__qualname__, run.__doc__ = (
            fn.__module__,
            fn.__name__,
            fn.__qualname__,
            fn.__doc__,
        )
        run.attempts = attempts  # type: ignore[attr-defined]
        run.undecorated = fn  # type: ignore[attr-defined]
        registered = task(takes_context=True, priority=priority)(run)
        return registered

    return decorate


def _enqueue_again(registered, args, kwargs, attempt):
    later = registered
    if registered.get_backend().supports_defer:
        later = registered.using(run_after=timezone.now() + backoff(attempt))
    return later.enqueue(*args, **{**kwargs, ATTEMPT: attempt})


def attempts_of(task_path):
    """How many runs the task at ``task_path`` gets (1 for a task no longer in the code)."""
    try:
        return getattr(import_string(task_path).func, "attempts", 1)
    except ImportError:
        return 1


@dataclasses.dataclass
class FailedTask:
    result: DBTaskResult
    attempt: int
    attempts: int

    @property
    def exhausted(self):
        return self.attempt >= self.attempts

    @property
    def error(self):
        """The exception's last line of the traceback: ``ValueError: the reason``."""
        lines = [line for line in self.result.traceback.strip().splitlines() if line.strip()]
        return lines[-1] if lines else self.result.exception_class_path


def failed_tasks(limit=200):
    """(failed tasks whose attempts are spent, newest first, at most ``limit``; the number of retries waiting to
    run). Two queries."""
    given_up = []
    for result in DBTaskResult.objects.failed().order_by("-finished_at").iterator():
        entry = FailedTask(result, result.args_kwargs["kwargs"].get(ATTEMPT, 1), attempts_of(result.task_path))
        if entry.exhausted:  # an earlier run's failure was followed by a retry: that one is the news
            given_up.append(entry)
            if len(given_up) == limit:
                break
    retrying = DBTaskResult.objects.filter(status=TaskResultStatus.READY, args_kwargs__kwargs__has_key=ATTEMPT)
    return given_up, retrying.count()


@transaction.atomic
def retry_failed(*, result, by):
    """Run a failed task again from its first attempt (same arguments, now); the failed run is removed and the
    retry audited with its error."""
    registered = dataclasses.replace(result.task, run_after=None)
    kwargs = {k: v for k, v in result.args_kwargs["kwargs"].items() if k != ATTEMPT}
    again = registered.enqueue(*result.args_kwargs["args"], **kwargs)
    record(
        actor=by,
        action="task.retry",
        object_type="django_tasks_database.dbtaskresult",
        after={
            "task": result.task_path,
            "failed": str(result.pk),
            "error": result.exception_class_path,
            "retry": str(again.id),
        },
    )
    result.delete()
    return again


# --- Mail ------------------------------------------------------------------------------------------------------


def message_data(message):
    """An EmailMessage as JSON: what ``deliver_mail`` needs to build it again in the worker."""
    return {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": {str(k): str(v) for k, v in (message.extra_headers or {}).items()},
        "alternatives": [[str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])],
        "attachments": [
            [name, base64.b64encode(content if isinstance(content, bytes) else content.encode()).decode(), mimetype]
            for name, content, mimetype in (a for a in message.attachments if isinstance(a, tuple))
        ],
    }


def enqueue_mail(message):
    """Queue one message for ``deliver_mail``; the key makes its delivery happen once."""
    return deliver_mail.enqueue(message=message_data(message), key=uuid.uuid4().hex)


@background_task(attempts=5)
def deliver_mail(*, message, key):
    """Hand one queued message to the real mail backend (``MAIL_DELIVERY_BACKEND``), once per key."""
    if MailDelivery.objects.filter(key=key).exists():
        return {"sent": False, "key": key}
    mail = EmailMultiAlternatives(
        subject=message["subject"],
        body=message["body"],
        from_email=message["from_email"],
        to=message["to"],
        cc=message["cc"],
        bcc=message["bcc"],
        reply_to=message["reply_to"],
        headers=message["headers"],
        alternatives=[tuple(a) for a in message["alternatives"]],
        connection=get_connection(settings.MAIL_DELIVERY_BACKEND),
    )
    for name, content, mimetype in message["attachments"]:
        mail.attach(name, base64.b64decode(content), mimetype)
    mail.send()
    MailDelivery.objects.create(
        key=key, subject=message["subject"][:255], recipients=message["to"] + message["cc"] + message["bcc"]
    )
    return {"sent": True, "key": key}


def work_off(*, backend="default", worker_id="work_off"):
    """Run every task that is due on the database queue, in this process, one after the other, and return how many
    ran: the loop of ``manage.py db_worker --batch`` (same claim, same run) without its signal handlers and its
    reconnects, for tests and benchmarks."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=backend,
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    ran = 0
    while True:
        due = DBTaskResult.objects.ready().filter(backend_name=backend)
        with exclusive_transaction(due.db):
            result = due.get_locked()
            if result is not None:
                result.claim(worker_id)
        if result is None:
            return ran
        worker.run_task(result)
        ran += 1
