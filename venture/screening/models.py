"""初审: a per-round eligibility checklist, staff's item-by-item record, and the recorded finalist decision."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from venture.competitions.models import Competition
from venture.proposals.models import Proposal


class ChecklistItem(models.Model):
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(_("check"), max_length=300)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["competition", "order", "id"]
        verbose_name = _("eligibility check")

    def __str__(self):
        return self.text


class CheckResult(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="check_results")
    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="results")
    passed = models.BooleanField(_("passed"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "item"], name="one_result_per_proposal_check")]

    def __str__(self):
        return f"{self.item}: {'✓' if self.passed else '✗'}"


class FinalistDecision(models.Model):
    """Staff confirm the finalists: who, when, and from which ranking (stored as shown to them)."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="finalist_decisions")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(_("based on"), max_length=200)
    ranking = models.JSONField(_("ranking shown"), default=list)
    finalists = models.ManyToManyField(Proposal, related_name="+")
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self):
        return f"{self.competition} · {self.decided_at:%Y-%m-%d %H:%M}"
