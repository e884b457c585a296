from decimal import Decimal
from typing import TypedDict

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MoneyDigits(TypedDict):
    """The keyword arguments every money DecimalField takes (``models.DecimalField(_("amount"), **MONEY)``); typed so
    that unpacking them type-checks against DecimalField's signature."""

    max_digits: int
    decimal_places: int


MONEY: MoneyDigits = {"max_digits": 12, "decimal_places": 2}


class Stage(models.TextChoices):
    DRAFT = "draft", _("Being set up")
    OPEN = "open", _("Open for applications")
    SCREENING = "screening", _("Preliminary review")
    PRESCORING = "prescoring", _("Expert pre-scoring")
    FINAL = "final", _("Final review (roadshow)")
    RESULTS = "results", _("Results")
    NOTICE = "notice", _("Public notice")
    SUPERVISION = "supervision", _("Supervision")
    CLOSED = "closed", _("Closed")


# The round's allowed stage transitions; venture.competitions.services.advance_stage performs them.
STAGE_TRANSITIONS = {
    Stage.DRAFT: {Stage.OPEN},
    Stage.OPEN: {Stage.SCREENING, Stage.DRAFT},
    Stage.SCREENING: {Stage.PRESCORING, Stage.FINAL, Stage.OPEN},
    Stage.PRESCORING: {Stage.FINAL, Stage.SCREENING},
    Stage.FINAL: {Stage.RESULTS},
    Stage.RESULTS: {Stage.NOTICE, Stage.FINAL},
    # Back to results only through venture.awards.services.reopen_notice (an audited re-publication).
    Stage.NOTICE: {Stage.SUPERVISION, Stage.RESULTS},
    Stage.SUPERVISION: {Stage.CLOSED},
    Stage.CLOSED: set(),
}
# Stages that staff may enter with the stage buttons. Results, the public notice and supervision are entered only
# through their own actions (freezing the results, publishing the notice, closing it), which do the checks.
MANUAL_STAGES = {Stage.DRAFT, Stage.OPEN, Stage.SCREENING, Stage.PRESCORING, Stage.FINAL, Stage.CLOSED}


class AggregationMethod(models.TextChoices):
    TRIMMED_MEAN = "trimmed_mean", _("Trimmed mean (drop highest and lowest)")
    MEAN = "mean", _("Mean")
    MEDIAN = "median", _("Median")


class FundingRule(models.TextChoices):
    STOP = "stop", _("Stop at the first project that does not fit")
    SKIP = "skip", _("Skip projects that do not fit and continue")
    PARTIAL = "partial", _("Offer the remainder to the first that does not fit")


class Competition(models.Model):
    """One yearly round (创投活动 / 届) with every setting that varies by city and year."""

    title = models.CharField(_("title"), max_length=200)
    year = models.PositiveIntegerField(_("year"))
    organizer = models.CharField(_("organizer"), max_length=200)
    description = models.TextField(_("description (Markdown)"), blank=True)
    fund_pool = models.DecimalField(_("fund pool"), **MONEY)
    min_grant = models.DecimalField(_("minimum grant"), **MONEY, default=Decimal("0"))
    max_grant = models.DecimalField(_("maximum grant"), **MONEY)
    opens_at = models.DateTimeField(_("applications open"))
    closes_at = models.DateTimeField(_("applications close"))
    finalist_quota = models.PositiveIntegerField(_("finalist quota"), default=12)
    project_start_earliest = models.DateField(_("projects start no earlier than"))
    project_end_latest = models.DateField(_("projects end no later than"))
    min_project_months = models.PositiveIntegerField(_("shortest project (months)"), default=3)
    max_project_months = models.PositiveIntegerField(_("longest project (months)"), default=12)
    cofunding_share = models.DecimalField(
        _("required co-funding share (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    notice_working_days = models.PositiveIntegerField(_("public notice (working days)"), default=5)
    score_step = models.DecimalField(_("score step"), max_digits=3, decimal_places=1, default=Decimal("1"))
    comment_below = models.DecimalField(_("comment required below"), max_digits=5, decimal_places=2, default=60)
    comment_above = models.DecimalField(_("comment required above"), max_digits=5, decimal_places=2, default=90)
    presentation_minutes = models.PositiveIntegerField(_("presentation (minutes)"), default=8)
    qa_minutes = models.PositiveIntegerField(_("Q&A (minutes)"), default=7)
    method = models.CharField(
        _("ranking method"), max_length=20, choices=AggregationMethod.choices, default=AggregationMethod.TRIMMED_MEAN
    )
    trim = models.PositiveIntegerField(_("scores trimmed at each end"), default=1)
    tiebreak_criterion = models.CharField(_("tie-break criterion code"), max_length=40, blank=True)
    funding_rule = models.CharField(
        _("funding rule"), max_length=10, choices=FundingRule.choices, default=FundingRule.STOP
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, default=Stage.DRAFT)
    # The sum of the round's live awards, kept by the award services under the round's row lock; the database refuses
    # a pool below it (constraint ``awards_within_pool``), whoever writes.
    awarded_total = models.DecimalField(_("awarded"), **MONEY, default=Decimal("0"), editable=False)
    # Supervision rules (全程督导), per round.
    report_frequency = models.CharField(
        _("progress reports"),
        max_length=10,
        default="quarterly",
        choices=[("monthly", _("Monthly")), ("quarterly", _("Quarterly"))],
    )
    receipt_threshold = models.DecimalField(_("receipt required from (yuan)"), **MONEY, default=Decimal("500.00"))
    overspend_tolerance = models.DecimalField(
        _("overspend tolerance per line (%)"), max_digits=5, decimal_places=2, default=Decimal("10")
    )
    spend_rate_tolerance = models.DecimalField(
        _("alert when spending differs from time elapsed by more than (percentage points)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("25"),
    )
    evaluation_pass_mark = models.DecimalField(
        _("evaluation pass mark (of 100)"), max_digits=5, decimal_places=2, default=Decimal("60")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-year", "-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(awarded_total__lte=models.F("fund_pool")), name="awards_within_pool"
            ),
            models.CheckConstraint(condition=models.Q(awarded_total__gte=0), name="awarded_total_not_negative"),
        ]
        verbose_name = _("competition")
        verbose_name_plural = _("competitions")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("competitions:round", args=[self.pk])

    def is_accepting(self, at=None):
        at = at or timezone.now()
        return self.stage == Stage.OPEN and self.opens_at <= at < self.closes_at

    def opens_later(self, at=None):
        """The call is public (opened ahead of its opening time) but accepts applications only from ``opens_at``."""
        at = at or timezone.now()
        return self.stage == Stage.OPEN and at < self.opens_at

    @property
    def public_status(self):
        """The status the public pages show: "opens on …" before the opening time, else the stage."""
        if self.opens_later():
            return _("Opens on %(day)s") % {"day": timezone.localtime(self.opens_at).strftime("%Y-%m-%d %H:%M")}
        return self.get_stage_display()

    @property
    def rubric_locked(self):
        """For templates: whether the stage policy (``policy``) refuses a rubric change now."""
        from .policy import Part, refusal  # noqa: PLC0415 -- policy imports this module (the Stage choices)

        return bool(refusal(self, Part.RUBRIC))


class Category(models.Model):
    """A service category (服务领域) of one round."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["competition", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["competition", "name"], name="category_unique_per_round")]
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")

    def __str__(self):
        return self.name


class BudgetCategory(models.Model):
    """A budget category with its optional cap: a share of the total and/or an amount."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="budget_categories")
    name = models.CharField(_("name"), max_length=100)
    cap_percent = models.DecimalField(
        _("cap (percent of total)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    cap_amount = models.DecimalField(_("cap (amount)"), **MONEY, null=True, blank=True)
    is_management_fee = models.BooleanField(_("management fee"), default=False)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["competition", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["competition", "name"], name="budget_category_unique_per_round")]
        verbose_name = _("budget category")
        verbose_name_plural = _("budget categories")

    def __str__(self):
        return self.name


class TrancheCondition(models.TextChoices):
    SIGNING = "signing", _("On signing the grant agreement")
    MIDTERM = "midterm", _("After a passed mid-term evaluation")
    FINAL = "final", _("After a passed final evaluation")


class TranchePlanItem(models.Model):
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="tranche_plan")
    order = models.PositiveIntegerField(default=1)
    percent = models.DecimalField(
        _("share (%)"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    condition = models.CharField(_("release condition"), max_length=20, choices=TrancheCondition.choices)

    class Meta:
        ordering = ["competition", "order"]
        verbose_name = _("tranche")
        verbose_name_plural = _("tranche plan")

    def __str__(self):
        return f"{self.percent.normalize():f}% · {self.get_condition_display()}"
