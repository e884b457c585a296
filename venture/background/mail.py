"""The site's ``EMAIL_BACKEND``: it sends nothing itself but enqueues each message as a task (``deliver_mail``), which
the worker hands to the real backend (``MAIL_DELIVERY_BACKEND``: SMTP, or the console in the embedded profile). So no
request waits for a mail server, and every mail the app sends goes through one path with retries."""

from django.core.mail.backends.base import BaseEmailBackend

from .tasks import enqueue_mail


class QueuedEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            enqueue_mail(message)
        return len(email_messages)
