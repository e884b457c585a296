"""Awards and the public notice: grants within the pool (by grade), 公示 with objections, and the grant agreements
that follow. The frozen results they are made from live in ``venture.results``."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from venture.competitions.models import MONEY, Competition
from venture.proposals.models import Proposal
from venture.uploads import upload_path


class AwardGrade(models.Model):
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="grades")
    name = models.CharField(_("grade"), max_length=50)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["competition", "order"]

    def __str__(self):
        return self.name


class AwardStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    FINAL = "final", _("Final")
    CANCELLED = "cancelled", _("Cancelled")


AWARD_TRANSITIONS = {
    AwardStatus.OFFERED: {AwardStatus.FINAL, AwardStatus.CANCELLED},
    AwardStatus.FINAL: set(),
    AwardStatus.CANCELLED: set(),
}


class Award(models.Model):
    competition = models.ForeignKey(Competition, on_delete=models.PROTECT, related_name="awards")
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="awards")
    rank = models.PositiveIntegerField(_("rank"))
    grade = models.ForeignKey(AwardGrade, null=True, blank=True, on_delete=models.SET_NULL, related_name="awards")
    amount = models.DecimalField(_("amount"), **MONEY)
    partial = models.BooleanField(_("partial award"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=AwardStatus.choices, default=AwardStatus.OFFERED)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["competition", "rank"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="award_amount_positive"),
            models.UniqueConstraint(
                fields=["proposal"], condition=~models.Q(status="cancelled"), name="one_live_award_per_proposal"
            ),
        ]

    def __str__(self):
        return f"{self.proposal} · {self.amount}"


class PublicNotice(models.Model):
    competition = models.OneToOneField(Competition, on_delete=models.CASCADE, related_name="notice")
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    starts_on = models.DateField(_("notice starts"))
    ends_on = models.DateField(_("notice ends"))
    calendar_covered = models.BooleanField(default=True)
    text = models.TextField(_("notice text"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The awarded organizations' identity as published ({organization id: venture.organizations.services.identity}):
    # the notice shows these, whatever the organizations change afterwards.
    identities = models.JSONField(default=dict, blank=True)
    # A re-publication (issue #14): the notice is reopened with a reason (the earlier version goes on record as a
    # PublicNoticeVersion), the awards are changed, and it is published again as the next version with a new period.
    version = models.PositiveIntegerField(_("version"), default=1)
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(blank=True)

    def __str__(self):
        return f"{self.competition} · {self.starts_on}–{self.ends_on}"

    def get_absolute_url(self):
        return reverse("awards:notice", args=[self.competition_id])


class PublicNoticeVersion(models.Model):
    """An earlier version of a public notice, as it was published, kept when the notice is reopened for a change."""

    notice = models.ForeignKey(PublicNotice, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    starts_on = models.DateField(_("notice starts"))
    ends_on = models.DateField(_("notice ends"))
    text = models.TextField(_("notice text"), blank=True)
    identities = models.JSONField(default=dict, blank=True)
    # The awards as this version listed them: [{"proposal", "title", "rank", "grade", "amount", "party"}].
    awards = models.JSONField(default=list)
    total = models.DecimalField(_("total awarded"), **MONEY)
    superseded_at = models.DateTimeField()
    superseded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(_("reason for the change"))

    class Meta:
        ordering = ["notice", "-version"]
        constraints = [models.UniqueConstraint(fields=["notice", "version"], name="one_row_per_notice_version")]

    def __str__(self):
        return f"{self.notice} · v{self.version}"


class ObjectionStatus(models.TextChoices):
    PENDING = "pending", _("Being handled")
    UPHELD = "upheld", _("Upheld")
    DISMISSED = "dismissed", _("Dismissed")


class Objection(models.Model):
    notice = models.ForeignKey(PublicNotice, on_delete=models.CASCADE, related_name="objections")
    award = models.ForeignKey(
        Award,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="objections",
        verbose_name=_("project concerned"),
    )
    name = models.CharField(_("name"), max_length=100)
    contact = models.CharField(_("phone or e-mail"), max_length=100)
    text = models.TextField(_("objection"))
    attachment = models.FileField(_("attachment"), upload_to=upload_path, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    client_key = models.CharField(max_length=64, db_index=True)  # salted hash of the IP, for rate limiting
    status = models.CharField(
        _("status"), max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.PENDING
    )
    outcome = models.TextField(_("outcome (published)"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.name} · {self.created_at:%Y-%m-%d}"


class GrantAgreement(models.Model):
    award = models.OneToOneField(Award, on_delete=models.PROTECT, related_name="agreement")
    number = models.CharField(_("agreement number"), max_length=40, unique=True)
    amount = models.DecimalField(_("amount"), **MONEY)
    amount_in_words = models.CharField(_("amount in words"), max_length=100)
    period_start = models.DateField()
    period_end = models.DateField()
    tranches = models.JSONField(default=list)  # [{"order", "percent", "amount", "condition"}]
    # Party B as the agreement was issued (venture.organizations.services.identity); the agreement renders from it.
    party = models.JSONField(default=dict, blank=True)
    # The approved budget as issued ([{"category_id", "category", "item", "amount"}], see
    # venture.awards.services.approved_lines) and the days after close-out within which money is refunded.
    budget = models.JSONField(default=list, blank=True)
    refund_days = models.PositiveIntegerField(_("refund within (days after close-out)"), default=30)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.number


class StatutoryDayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday (day off)")
    WORKDAY = "workday", _("Make-up workday")


class StatutoryDay(models.Model):
    """One day of the State Council's holiday schedule (放假安排), entered by staff for a year the calendar library
    does not know yet: a holiday on a weekday, or a weekend day made a workday (调休上班). Once a year has entries, the
    working-day count of the public notice reads that year from them (``venture.awards.workdays``)."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=StatutoryDayKind.choices)
    name = models.CharField(_("holiday"), max_length=50, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}".strip()
