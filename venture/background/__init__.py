"""Background work: Django's task API (the ``django-tasks`` backport of Django 6's ``django.tasks``) with the database
backend (``django-tasks-db``), so the queue lives in the database the app already has and any number of
``manage.py db_worker`` processes, on any number of machines, share it (PostgreSQL hands each task to one worker with
``SELECT … FOR UPDATE SKIP LOCKED``; SQLite serialises them with an exclusive transaction).

- ``tasks.background_task`` declares a task with retries: a failed run is enqueued again after a backoff that doubles
  (``TASK_RETRY_BACKOFF`` seconds, then twice that, …) until ``attempts`` runs have failed; then it shows on the
  staff page of failed tasks (``views.failed``) with its error and a retry button.
- ``mail.QueuedEmailBackend`` is the site's ``EMAIL_BACKEND``: every mail the app sends (``send_mail`` anywhere) is
  enqueued as ``tasks.deliver_mail``, which hands it to the real backend (``MAIL_DELIVERY_BACKEND``) in the worker.

This package sits with the shared modules at the bottom of the dependency order (it imports only the permission core
and the audit trail), so every app may enqueue work; the tasks themselves live in the app whose work they do.
"""
