from django.db import models
from django.utils.translation import gettext_lazy as _


class MailDelivery(models.Model):
    """One mail handed to the real mail backend, by the key it was enqueued with: a run of ``deliver_mail`` that
    finds its key here has nothing left to do, so a mail is never sent twice (a retry, a task run again by staff)."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    subject = models.CharField(_("subject"), max_length=255)
    recipients = models.JSONField(_("recipients"), default=list)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("mail delivery")
        verbose_name_plural = _("mail deliveries")

    def __str__(self):
        return self.subject
