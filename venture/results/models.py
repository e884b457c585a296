"""Results: the frozen snapshot of a round's final review with its digest, and the auditor's sign-off."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from venture.competitions.models import Competition


class ResultSnapshot(models.Model):
    """The sealed score sheets, the method and its parameters, the code version and the outputs, with a SHA-256
    digest over a canonical serialization of inputs and method. Only one snapshot per round is valid at a time."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="snapshots")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=20)
    params = models.JSONField(default=dict)  # trim, tie-break chain, top_k, bootstrap settings
    code_version = models.CharField(max_length=80)
    inputs = models.JSONField()  # {"criteria": [...], "scores": [[proposal, judge, criterion, points], ...]}
    outputs = models.JSONField()  # ranking rows, diagnostics, bootstrap
    digest = models.CharField(max_length=64)
    valid = models.BooleanField(default=True)
    invalidated_at = models.DateTimeField(null=True, blank=True)
    invalidated_reason = models.TextField(blank=True)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    sign_off_note = models.TextField(blank=True)
    # The SHA-256 of the signed-sheet bundle (SheetBundle), recorded when it is made, so a printed bundle can be
    # checked against the system later.
    bundle_sha256 = models.CharField(_("SHA-256 of the signed-sheet bundle"), max_length=64, blank=True)

    class Meta:
        # The table it was created with in the awards app: the model moved, the data did not (results 0001,
        # awards 0002).
        db_table = "awards_resultsnapshot"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["competition"], condition=models.Q(valid=True), name="one_valid_snapshot_per_round"
            )
        ]

    def __str__(self):
        return f"{self.competition} · {self.digest[:12]}"


class SheetBundle(models.Model):
    """The signed-sheet bundle of a signed-off snapshot: every judge's filled final-stage sheet in roadshow order with
    a cover (round, digest, sign-off), as one PDF. Made once and kept byte for byte (kept apart from the snapshot so
    reading a snapshot never loads it); every download serves these bytes, whose SHA-256 is the snapshot's
    ``bundle_sha256``."""

    snapshot = models.OneToOneField(ResultSnapshot, on_delete=models.CASCADE, related_name="bundle")
    pdf = models.BinaryField(editable=False)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("signed-sheet bundle")

    def __str__(self):
        return f"{self.snapshot} · bundle {self.sha256[:12]}"
