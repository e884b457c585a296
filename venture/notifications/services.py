"""The notification service: one way to tell people what changed, through three channels.

- the in-app inbox (``Notification`` rows, the bell in the navigation bar);
- e-mail;
- the round's WeCom group robot (企业微信群机器人): a JSON POST to the webhook URL staff set for the round.

``dispatch`` follows the audit trail (``NotificationsConfig.ready``): for every action in ``events.RULES``, once the
service's transaction has committed, it builds the messages and ``send``
stores the inbox rows and queues a ``Delivery`` per e-mail and robot post. ``send_deliveries`` is the one function
that sends them (a background worker can take it over); a failure is logged and left pending, and the daily
``send_reminders`` command tries it again. Nothing here ever fails the request that made the change.
"""

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from venture.audit.services import record

from . import reminders
from .events import RULES, Message
from .models import Channel, Delivery, DeliveryStatus, Notification, RoundNotifications, SentReminder

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5  # a delivery that failed this often stays failed (the log says why)
WEBHOOK_TIMEOUT = 5  # seconds; the robot answers in well under one


def dispatch(event, rule=None):
    """Build and send what ``event`` tells; an error is logged, never raised into the request that made the change."""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            messages = (rule or RULES[event.action])(event)
        return send(messages)
    except Exception:
        logger.exception("notifications for audit event %s (%s) failed", event.pk, event.action)
        return []


def _webhook_payload(message):
    return {"msgtype": "markdown", "markdown": {"content": message.webhook}}


def send(messages: list[Message], today=None):
    """Store each message in its users' inboxes and queue its e-mail and robot post, then send those. A message with
    a ``reminder_key`` already sent is skipped. Returns the deliveries (sent or pending)."""
    today = today or timezone.localdate()
    rows, deliveries = [], []
    with transaction.atomic():
        for m in messages:
            if m.reminder_key:
                _row, created = SentReminder.objects.get_or_create(key=m.reminder_key, defaults={"sent_on": today})
                if not created:
                    continue
            seen = set()
            for user in m.users:
                if user.pk not in seen:
                    seen.add(user.pk)
                    rows.append(Notification(user=user, event=m.event, title=m.title, body=m.body, link=m.link))
            recipients = m.recipients()
            if m.mail and recipients:
                deliveries.append(
                    Delivery(
                        channel=Channel.MAIL, event=m.event, recipients=recipients, subject=m.title, body=m.mail_text()
                    )
                )
            if m.webhook and m.competition is not None and webhook_url(m.competition):
                deliveries.append(
                    Delivery(
                        channel=Channel.WEBHOOK,
                        event=m.event,
                        competition=m.competition,
                        subject=m.title,
                        payload=_webhook_payload(m),
                    )
                )
        Notification.objects.bulk_create(rows)
        deliveries = Delivery.objects.bulk_create(deliveries)
    send_deliveries(deliveries)
    return deliveries


def send_deliveries(deliveries):
    """Send e-mails and robot posts. The one place that does; issue #20 may move it onto a background task."""
    for delivery in deliveries:
        deliver(delivery)


class WebhookError(Exception):
    pass


def webhook_url(competition):
    return (
        RoundNotifications.objects.filter(competition=competition).values_list("webhook_url", flat=True).first() or ""
    )


def post_webhook(url, payload, timeout=WEBHOOK_TIMEOUT):
    """POST the JSON message; WeCom answers ``{"errcode": 0, "errmsg": "ok"}`` when it took it."""
    request = urllib.request.Request(  # noqa: S310 (the URL is an https URL staff entered, validated on save)
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (see above)
            answer = json.loads(response.read().decode() or "{}")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise WebhookError(str(exc)) from exc
    if answer.get("errcode") != 0:
        raise WebhookError(f"errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")


def deliver(delivery):
    """Send one delivery now; on failure log it and leave it pending (failed after MAX_ATTEMPTS). Never raises."""
    try:
        if delivery.channel == Channel.MAIL:
            send_mail(delivery.subject, delivery.body, None, delivery.recipients)
        else:
            url = webhook_url(delivery.competition_id)
            if not url:
                raise WebhookError("the round has no webhook URL any more")
            post_webhook(url, delivery.payload)
    except Exception as exc:
        delivery.attempts += 1
        delivery.last_error = str(exc)[:1000]
        delivery.status = DeliveryStatus.FAILED if delivery.attempts >= MAX_ATTEMPTS else DeliveryStatus.PENDING
        logger.warning("notification delivery %s (%s) failed: %s", delivery.pk, delivery.channel, exc)
    else:
        delivery.attempts += 1
        delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, timezone.now(), ""
    delivery.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    return delivery.status == DeliveryStatus.SENT


def retry_pending():
    """Try again every delivery that failed before (pending with at least one attempt). Returns (sent, still failing)."""
    pending = list(Delivery.objects.filter(status=DeliveryStatus.PENDING, attempts__gt=0))
    send_deliveries(pending)
    sent = sum(1 for d in pending if d.status == DeliveryStatus.SENT)
    return sent, len(pending) - sent


def send_reminders(*, today=None):
    """The daily run: reports and rectifications due or overdue, judges' unfinished sheets; each reminder once a day.
    Then retries deliveries that failed. Returns (messages sent, retried deliveries sent, still failing)."""
    today = today or timezone.localdate()
    with translation.override(settings.LANGUAGE_CODE):
        messages = reminders.due(today)
    fresh = [m for m in messages if not SentReminder.objects.filter(key=m.reminder_key).exists()]
    send(fresh, today=today)
    return (len(fresh), *retry_pending())


# --- The inbox --------------------------------------------------------------------------------------------------------


def unread_count(user):
    return Notification.objects.filter(user=user, read_at=None).count()


def mark_read(*, notification, by):
    if notification.user_id != by.pk:
        raise ValidationError(_("This is not your notification."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=notification.read_at)
    return notification


def mark_all_read(*, user):
    return Notification.objects.filter(user=user, read_at=None).update(read_at=timezone.now())


# --- A round's settings -----------------------------------------------------------------------------------------------

https_url = URLValidator(schemes=["https"], message=_("Enter the robot's https:// webhook address."))


@transaction.atomic
def save_round_settings(*, competition, by, webhook_url="", remove_webhook=False, roadshow_starts_at=None):
    """Set the round's group robot and the roadshow's start. The webhook URL carries the robot's key: it stays on
    the server (the audit trail records only whether it was set, changed or removed)."""
    row, _created = RoundNotifications.objects.select_for_update().get_or_create(competition=competition)
    webhook_url = (webhook_url or "").strip()
    if webhook_url:
        https_url(webhook_url)
    before = {"webhook": bool(row.webhook_url), "roadshow_starts_at": row.roadshow_starts_at}
    change = "unchanged"
    if remove_webhook:
        change = "removed" if row.webhook_url else change
        row.webhook_url = ""
    elif webhook_url and webhook_url != row.webhook_url:
        change = "changed" if row.webhook_url else "set"
        row.webhook_url = webhook_url
    row.roadshow_starts_at = roadshow_starts_at
    row.save()
    if change != "unchanged" or before["roadshow_starts_at"] != roadshow_starts_at:
        record(
            actor=by,
            action="notifications.settings",
            obj=competition,
            before=before,
            after={"webhook": change, "roadshow_starts_at": roadshow_starts_at},
        )
    return row


def send_test_message(*, competition, by):
    """Post a test message to the round's robot now; returns None when it arrived, else the reason it did not."""
    url = webhook_url(competition)
    if not url:
        return _("Set the webhook URL first.")
    with translation.override(settings.LANGUAGE_CODE):
        text = _("Test message from the venture platform for “%(round)s”, sent by %(who)s.") % {
            "round": competition.title,
            "who": by.display_name,
        }
    try:
        post_webhook(url, {"msgtype": "text", "text": {"content": text}})
    except WebhookError as exc:
        return str(exc)
    return None


def masked(url):
    """The webhook URL as shown back to staff: the host and the key's last four characters."""
    if not url:
        return ""
    return f"{url.split('?')[0]}?key=…{url[-4:]}"
