from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentStatus(models.TextChoices):
    PREPARING = "preparing", _("Being prepared")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class StoredDocument(models.Model):
    """A final document rendered once for one final state of its object and kept in the media storage, with the
    SHA-256 of its bytes (printed copies can be checked against it). ``state`` is the SHA-256 of what the document
    shows that can still change (``venture.documents.final``): a new state is a new row and a new file; the row of
    an earlier state stays as it was issued."""

    kind = models.CharField(_("kind"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("object"))
    state = models.CharField(_("state"), max_length=64)
    variant = models.CharField(_("variant"), max_length=40, blank=True)  # language, and who may read what
    status = models.CharField(
        _("status"), max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.PREPARING
    )
    file = models.FileField(_("file"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("bytes"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "state", "variant"], name="one_document_per_state")
        ]
        verbose_name = _("stored document")
        verbose_name_plural = _("stored documents")

    def __str__(self):
        return f"{self.kind} #{self.object_id} ({self.status})"
