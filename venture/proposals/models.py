from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from venture.competitions.models import MONEY, BudgetCategory, Category, Competition
from venture.organizations.models import Organization
from venture.uploads import upload_path


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for revision")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ELIGIBLE = "eligible", _("Passed preliminary review")
    INELIGIBLE = "ineligible", _("Did not pass preliminary review")
    FINALIST = "finalist", _("Finalist")
    NOT_SELECTED = "not_selected", _("Not selected for the final")
    AWARDED = "awarded", _("Awarded")
    NOT_FUNDED = "not_funded", _("Not funded")


S = ProposalStatus
# Allowed transitions, in one table; venture.proposals.services.transition performs them.
PROPOSAL_TRANSITIONS: dict[str, set[ProposalStatus]] = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.RETURNED, S.WITHDRAWN, S.ELIGIBLE, S.INELIGIBLE},
    S.RETURNED: {S.SUBMITTED, S.WITHDRAWN},
    S.WITHDRAWN: set(),
    S.ELIGIBLE: {S.FINALIST, S.NOT_SELECTED, S.INELIGIBLE},
    S.INELIGIBLE: {S.ELIGIBLE},
    S.FINALIST: {S.AWARDED, S.NOT_FUNDED, S.ELIGIBLE},
    S.NOT_SELECTED: {S.FINALIST, S.ELIGIBLE},
    S.AWARDED: {S.NOT_FUNDED},
    S.NOT_FUNDED: {S.AWARDED},
}
EDITABLE_BY_APPLICANT = {S.DRAFT, S.RETURNED}
WITHDRAWABLE = {s for s, targets in PROPOSAL_TRANSITIONS.items() if S.WITHDRAWN in targets}  # before screening
WITH_RESULT = {S.FINALIST, S.AWARDED, S.NOT_FUNDED}  # reached the final: the published result concerns them


class Proposal(models.Model):
    competition = models.ForeignKey(Competition, on_delete=models.PROTECT, related_name="proposals")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="proposals")
    category = models.ForeignKey(
        Category,
        verbose_name=_("service category"),
        on_delete=models.PROTECT,
        related_name="proposals",
        null=True,
        blank=True,
    )
    title = models.CharField(_("project title"), max_length=200)
    target_group = models.CharField(_("target group"), max_length=200, blank=True)
    people_to_serve = models.PositiveIntegerField(_("people to serve"), null=True, blank=True)
    service_area = models.CharField(_("service area"), max_length=200, blank=True)
    needs = models.TextField(_("needs analysis"), blank=True)
    objectives = models.TextField(_("objectives"), blank=True)
    activities = models.TextField(_("activities"), blank=True)
    team = models.TextField(_("project team"), blank=True)
    period_start = models.DateField(_("project start"), null=True, blank=True)
    period_end = models.DateField(_("project end"), null=True, blank=True)
    requested_amount = models.DecimalField(_("requested amount"), **MONEY, null=True, blank=True)
    cofunding_amount = models.DecimalField(_("co-funding"), **MONEY, default=0)
    status = models.CharField(
        _("status"), max_length=20, choices=ProposalStatus.choices, default=S.DRAFT, db_index=True
    )
    status_reason = models.TextField(_("reason"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["competition", "status"])]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("proposals:detail", args=[self.pk])

    @property
    def editable_by_applicant(self):
        return self.status in EDITABLE_BY_APPLICANT

    @property
    def withdrawable(self):
        """The applicant may still withdraw it (screening has not started)."""
        return self.status in WITHDRAWABLE

    @property
    def returnable(self):
        """Staff may return it to the applicant for revision."""
        return S.RETURNED in PROPOSAL_TRANSITIONS.get(self.status, ())

    @property
    def has_result(self):
        """It reached the final, so the round's published result has a page for it."""
        return self.status in WITH_RESULT


class StatusChange(models.Model):
    """The proposal's timeline as the applicant sees it."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=20, choices=ProposalStatus.choices)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.proposal} · {self.status}"


class Milestone(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="milestones")
    date = models.DateField(_("date"))
    title = models.CharField(_("milestone"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["date", "id"]
        verbose_name = _("milestone")

    def __str__(self):
        return f"{self.date} {self.title}"


class Indicator(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("indicator"), max_length=200)
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=30)

    class Meta:
        ordering = ["id"]
        verbose_name = _("indicator")

    def __str__(self):
        return f"{self.name}: {self.target} {self.unit}"


class BudgetLine(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="budget_lines")
    category = models.ForeignKey(BudgetCategory, on_delete=models.PROTECT, related_name="lines")
    item = models.CharField(_("item"), max_length=200)
    unit = models.CharField(_("unit"), max_length=30)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount"), **MONEY)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["category__order", "id"]
        verbose_name = _("budget line")
        constraints = [models.CheckConstraint(condition=models.Q(amount__gte=0), name="budget_line_amount_nonnegative")]

    def __str__(self):
        return f"{self.item} {self.amount}"


class Attachment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=upload_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(default=0)
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name = _("attachment")

    def __str__(self):
        return self.original_name


class UnplacedBudgetLine(models.Model):
    """A budget line of an earlier proposal copied into this one ("start from my proposal of …") whose budget category
    does not exist in this round: kept here, with the old category's name, until the applicant places it in one of
    this round's categories or leaves it out. A proposal with such lines cannot be submitted."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="unplaced_lines")
    old_category = models.CharField(_("category in the earlier proposal"), max_length=100)
    item = models.CharField(_("item"), max_length=200)
    unit = models.CharField(_("unit"), max_length=30)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2)
    amount = models.DecimalField(_("amount"), **MONEY)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("budget line to place")

    def __str__(self):
        return f"{self.old_category} · {self.item} {self.amount}"
