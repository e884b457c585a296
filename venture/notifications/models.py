from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from venture.competitions.models import Competition


class Notification(models.Model):
    """One message in a user's in-app inbox (the bell in the navigation bar)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(_("event"), max_length=60)  # the audit action (or reminder kind) that caused it
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)  # a path on this site
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return self.title


class Channel(models.TextChoices):
    MAIL = "mail", _("E-mail")
    WEBHOOK = "webhook", _("WeCom group robot")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("To send")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One message to send through a channel other than the inbox: an e-mail, or a post to a round's group robot.
    ``services.deliver`` sends it; a failure stays pending and the daily command tries it again."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    event = models.CharField(max_length=60)
    competition = models.ForeignKey(Competition, null=True, blank=True, on_delete=models.CASCADE)  # webhook's round
    recipients = models.JSONField(default=list, blank=True)  # e-mail addresses
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    payload = models.JSONField(null=True, blank=True)  # the robot's JSON message
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "attempts"])]

    def __str__(self):
        return f"{self.channel} {self.event} ({self.status})"


class RoundNotifications(models.Model):
    """A round's notification settings: its WeCom group robot (the webhook URL holds the robot's key, so it is kept
    on the server and never shown back in full) and the roadshow's start, which dates each finalist's slot."""

    competition = models.OneToOneField(Competition, on_delete=models.CASCADE, related_name="notification_settings")
    webhook_url = models.URLField(_("WeCom group robot webhook URL"), max_length=500, blank=True)
    roadshow_starts_at = models.DateTimeField(_("roadshow starts at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"notifications of {self.competition_id}"


class SentReminder(models.Model):
    """A reminder already sent, keyed by what it is about and the day: the daily command sends each one once a day."""

    key = models.CharField(max_length=120, unique=True)
    sent_on = models.DateField()

    def __str__(self):
        return self.key
