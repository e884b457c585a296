"""全程督导: the funded project's workspace — approved budget (with revisions), tranches, progress reports,
expenditure ledger, site visits and rectifications, evaluations, beneficiary feedback, close-out."""

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from venture.awards.models import GrantAgreement
from venture.competitions.models import MONEY, BudgetCategory, Competition, TrancheCondition
from venture.organizations.models import Organization
from venture.proposals.models import Proposal
from venture.uploads import upload_path
from venture.validators import MAX_MONEY

MAX_TOTAL = MAX_MONEY  # the largest value a MONEY field holds (12 digits, 2 decimals)


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", _("In progress")
    SUSPENDED = "suspended", _("Suspended (failed evaluation)")
    CLOSED = "closed", _("Closed")


PROJECT_TRANSITIONS = {
    ProjectStatus.ACTIVE: {ProjectStatus.SUSPENDED, ProjectStatus.CLOSED},
    ProjectStatus.SUSPENDED: {ProjectStatus.ACTIVE},
    ProjectStatus.CLOSED: set(),
}


MONEY_ZERO = Decimal("0")


def _token():
    return secrets.token_urlsafe(12)


class FundedProject(models.Model):
    agreement = models.OneToOneField(GrantAgreement, on_delete=models.PROTECT, related_name="project")
    competition = models.ForeignKey(Competition, on_delete=models.PROTECT, related_name="projects")
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="project")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="projects")
    title = models.CharField(_("project"), max_length=200)
    grant = models.DecimalField(_("grant"), **MONEY)
    released_total = models.DecimalField(_("released"), **MONEY, default=0)
    signed_on = models.DateField(_("agreement signed on"))
    period_start = models.DateField(_("project start"))
    period_end = models.DateField(_("project end"))
    people_target = models.PositiveIntegerField(_("people to serve"), default=0)
    status = models.CharField(_("status"), max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE)
    flag_reason = models.TextField(_("flag"), blank=True)
    supervisors = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="supervised_projects")
    feedback_token = models.CharField(max_length=32, unique=True, default=_token)
    closeout_report = models.TextField(_("close-out report"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Running totals of the ledger, kept by venture.supervision.ledger in the transaction that changes it.
    spent_total = models.DecimalField(_("spent"), **MONEY, default=0)
    first_spent_on = models.DateField(null=True, blank=True)
    last_spent_on = models.DateField(null=True, blank=True)
    # Close-out: the unspent balance (结余) is released − spent; what comes back (退回) is recorded when it arrives.
    refund_amount = models.DecimalField(_("refund received"), **MONEY, null=True, blank=True)
    refund_on = models.DateField(_("refund received on"), null=True, blank=True)
    refund_voucher = models.CharField(_("refund voucher number"), max_length=60, blank=True)

    class Meta:
        ordering = ["competition", "title"]
        constraints = [
            # Released money never exceeds the grant: checked by the database on every release.
            models.CheckConstraint(
                condition=models.Q(released_total__lte=models.F("grant")), name="released_never_exceeds_grant"
            ),
            models.CheckConstraint(condition=models.Q(released_total__gte=0), name="released_nonnegative"),
            # The running total of the ledger always fits its field (12 digits), whatever path wrote the entries.
            models.CheckConstraint(
                condition=models.Q(spent_total__gte=-MAX_TOTAL, spent_total__lte=MAX_TOTAL), name="spent_total_fits"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("supervision:project", args=[self.pk])

    @property
    def balance(self):
        """结余: released − spent (negative when more was spent than released)."""
        return self.released_total - self.spent_total

    @property
    def refund_due(self):
        """应退回: the unspent released money, to be returned at close-out."""
        return max(self.balance, MONEY_ZERO)


class ApprovedLine(models.Model):
    """The current approved budget line. Revisions change amounts; earlier versions live in BudgetRevision."""

    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="lines")
    category = models.ForeignKey(BudgetCategory, on_delete=models.PROTECT, related_name="+")
    item = models.CharField(_("item"), max_length=200)
    amount = models.DecimalField(_("approved amount"), **MONEY)
    spent = models.DecimalField(_("spent"), **MONEY, default=0)  # running total, see venture.supervision.ledger

    class Meta:
        ordering = ["category__order", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="approved_line_nonnegative"),
            models.CheckConstraint(
                condition=models.Q(spent__gte=-MAX_TOTAL, spent__lte=MAX_TOTAL), name="line_spent_fits"
            ),
        ]

    def __str__(self):
        return f"{self.category.name} · {self.item}"


class RevisionKind(models.TextChoices):
    INITIAL = "initial", _("Approved budget")
    BUDGET = "budget", _("Budget revision")
    EXTENSION = "extension", _("No-cost extension")


class BudgetRevision(models.Model):
    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=RevisionKind.choices)
    reason = models.TextField(_("reason"), blank=True)
    lines = models.JSONField()  # [{"line", "category", "item", "amount"}] as approved in this version
    period_end = models.DateField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "number"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="one_revision_number")]

    def __str__(self):
        return f"{self.project} v{self.number}"


class ProjectIndicator(models.Model):
    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("indicator"), max_length=200)
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=30)
    achieved = models.DecimalField(_("achieved"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name


class ProjectMilestone(models.Model):
    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="milestones")
    date = models.DateField(_("date"))
    title = models.CharField(_("milestone"), max_length=200)
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        ordering = ["date", "id"]

    def __str__(self):
        return self.title


class Tranche(models.Model):
    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="tranches")
    order = models.PositiveIntegerField()
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    amount = models.DecimalField(_("amount"), **MONEY)
    condition = models.CharField(_("release condition"), max_length=20, choices=TrancheCondition.choices)
    released_on = models.DateField(_("released on"), null=True, blank=True)
    released_amount = models.DecimalField(_("released amount"), **MONEY, null=True, blank=True)
    voucher_no = models.CharField(_("voucher number"), max_length=60, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["project", "order"]
        constraints = [
            models.UniqueConstraint(fields=["project", "order"], name="one_tranche_per_order"),
            models.CheckConstraint(
                condition=models.Q(released_amount__isnull=True) | models.Q(released_amount__lte=models.F("amount")),
                name="tranche_release_within_amount",
            ),
        ]

    def __str__(self):
        return f"{self.project} · {self.order}"

    @property
    def remaining(self):
        """What is still payable of the tranche; it is paid (``released_on`` set) when this reaches zero."""
        return self.amount - (self.released_amount or MONEY_ZERO)


class TrancheRelease(models.Model):
    """One payment of a tranche; a tranche may be paid in several, never more than its amount in all."""

    tranche = models.ForeignKey(Tranche, on_delete=models.PROTECT, related_name="releases")
    amount = models.DecimalField(_("amount"), **MONEY)
    released_on = models.DateField(_("paid on"))
    voucher_no = models.CharField(_("payment voucher number"), max_length=60)
    override_reason = models.TextField(_("override reason"), blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tranche", "released_on", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="tranche_release_positive")]

    def __str__(self):
        return f"{self.tranche} · {self.amount}"


class ReportStatus(models.TextChoices):
    DUE = "due", _("To be written")
    SUBMITTED = "submitted", _("Submitted")
    CHANGES = "changes", _("Changes requested")
    ACCEPTED = "accepted", _("Accepted")


REPORT_TRANSITIONS: dict[str, set[ReportStatus]] = {
    ReportStatus.DUE: {ReportStatus.SUBMITTED},
    ReportStatus.SUBMITTED: {ReportStatus.ACCEPTED, ReportStatus.CHANGES},
    ReportStatus.CHANGES: {ReportStatus.SUBMITTED},
    ReportStatus.ACCEPTED: set(),
}


class ProgressReport(models.Model):
    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="reports")
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=12, choices=ReportStatus.choices, default=ReportStatus.DUE)
    narrative = models.TextField(_("what was done"), blank=True)
    people_served = models.PositiveIntegerField(_("people served in the period"), default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    review_note = models.TextField(_("review note"), blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "period_start"]

    def __str__(self):
        return f"{self.project} · {self.period_start}–{self.period_end}"

    @property
    def open_to_write(self):
        """The organization can write (or rewrite) it now: it may still go to submitted."""
        return ReportStatus.SUBMITTED in REPORT_TRANSITIONS.get(self.status, ())

    @property
    def open_to_review(self):
        """The supervisor can review it now: it may still be accepted."""
        return ReportStatus.ACCEPTED in REPORT_TRANSITIONS.get(self.status, ())


class ReportActivity(models.Model):
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="activities")
    date = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200)
    participants = models.PositiveIntegerField(_("participants"))
    description = models.CharField(_("activity"), max_length=300)

    class Meta:
        ordering = ["date", "id"]

    def __str__(self):
        return f"{self.date} {self.description}"


class IndicatorProgress(models.Model):
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="progress")
    indicator = models.ForeignKey(ProjectIndicator, on_delete=models.CASCADE, related_name="progress")
    value = models.DecimalField(_("achieved in the period"), max_digits=12, decimal_places=2)

    def __str__(self):
        return f"{self.indicator}: {self.value}"


class ReportPhoto(models.Model):
    report = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=upload_path)
    caption = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return self.caption or self.file.name


class InvoiceKind(models.TextChoices):
    NONE = "", _("No invoice")
    DIGITAL = "digital", _("Fully digital e-invoice (20-digit number)")
    VAT = "vat", _("VAT invoice (invoice code and 8-digit number)")


class LedgerImport(models.Model):
    """One imported ledger file: its SHA-256 lets the same file be refused when it comes again."""

    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="ledger_imports")
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=255)
    rows = models.PositiveIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "created_at"]
        constraints = [models.UniqueConstraint(fields=["project", "sha256"], name="one_import_per_file")]

    def __str__(self):
        return f"{self.project_id} · {self.filename}"


class Expenditure(models.Model):
    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="expenditures")
    date = models.DateField(_("date"))
    category = models.ForeignKey(
        BudgetCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("budget category")
    )
    line = models.ForeignKey(
        ApprovedLine,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="expenditures",
        verbose_name=_("budget line"),
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    payee = models.CharField(_("payee"), max_length=200)
    description = models.CharField(_("description"), max_length=300)
    voucher_no = models.CharField(_("voucher number"), max_length=60)
    receipt = models.FileField(_("receipt"), upload_to=upload_path, blank=True)
    # 发票: a fully digital e-invoice (数电票) has a 20-digit number and no code; the older VAT invoice a 10- or
    # 12-digit code and an 8-digit number. Checked by venture.supervision.expenditure_rules.
    invoice_kind = models.CharField(
        _("invoice"), max_length=10, choices=InvoiceKind.choices, blank=True, default="", db_default=""
    )
    invoice_code = models.CharField(_("invoice code"), max_length=12, blank=True, default="", db_default="")
    invoice_number = models.CharField(_("invoice number"), max_length=20, blank=True, default="", db_default="")
    payee_uscc = models.CharField(
        _("payee's unified social credit code"), max_length=18, blank=True, default="", db_default=""
    )
    ledger_import = models.ForeignKey(
        LedgerImport, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    receipt_attached_at = models.DateTimeField(null=True, blank=True)  # set when attached after the entry
    # 红冲: a reversal is a negative entry pointing at the original (same date, line, category, invoice and voucher, so
    # every running total nets to zero), with the reason. An entry is never edited or deleted.
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal", verbose_name=_("reverses")
    )
    # The corrected entry that replaces a reversed one points at the original too.
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("corrects")
    )
    correction_reason = models.TextField(
        _("reason for the correction"), blank=True, default="", db_default=""
    )  # a database default too, so raw inserts (generate_round) keep working
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "date", "id"]
        indexes = [
            models.Index(fields=["project", "date"]),
            models.Index(fields=["project", "voucher_no"]),
            models.Index(fields=["invoice_number", "invoice_code"]),
            # The portfolio's "receipt overdue" alert (supervision.queries.money_alert_annotations) per project:
            # only the entries still without a receipt, by when they were recorded, so 2,000 projects of 1,000
            # entries each are counted without reading their whole ledgers (issue #20).
            models.Index(
                fields=["project", "created_at"],
                name="expenditure_no_receipt",
                condition=models.Q(receipt="", reverses__isnull=True),
            ),
        ]
        constraints = [
            # Positive, except a reversal, which is negative and points at the entry it reverses.
            models.CheckConstraint(
                condition=models.Q(amount__gt=0, reverses__isnull=True)
                | models.Q(amount__lt=0, reverses__isnull=False),
                name="expenditure_positive",
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.description} {self.amount}"


class CategorySpend(models.Model):
    """Running total of a project's ledger per budget category (also categories the budget lacks)."""

    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="category_spend")
    category = models.ForeignKey(BudgetCategory, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "category"], name="one_spend_per_category"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=-MAX_TOTAL, amount__lte=MAX_TOTAL), name="category_spend_fits"
            ),
        ]

    def __str__(self):
        return f"{self.project_id} · {self.category_id}: {self.amount}"


class MonthlySpend(models.Model):
    """Running total of a project's ledger per calendar month (``month`` is the first day)."""

    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="monthly_spend")
    month = models.DateField()
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "month"], name="one_spend_per_month"),
            models.CheckConstraint(
                condition=models.Q(amount__gte=-MAX_TOTAL, amount__lte=MAX_TOTAL), name="month_spend_fits"
            ),
        ]

    def __str__(self):
        return f"{self.project_id} · {self.month:%Y-%m}: {self.amount}"


class SiteVisit(models.Model):
    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="visits")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    date = models.DateField(_("date"))
    people_met = models.CharField(_("people met"), max_length=300)
    observations = models.TextField(_("observations"))
    rating = models.PositiveSmallIntegerField(_("rating (1–5)"))
    findings = models.TextField(_("findings"), blank=True)

    class Meta:
        ordering = ["-date"]

    def __str__(self):
        return f"{self.project} · {self.date}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(SiteVisit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to=upload_path)
    caption = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return self.caption or self.file.name


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("To be rectified")
    ANSWERED = "answered", _("Answered, to be checked")
    CLOSED = "closed", _("Closed")


RECTIFICATION_TRANSITIONS = {
    RectificationStatus.OPEN: {RectificationStatus.ANSWERED},
    RectificationStatus.ANSWERED: {RectificationStatus.CLOSED, RectificationStatus.OPEN},  # close, or reopen
    RectificationStatus.CLOSED: set(),
}


class Rectification(models.Model):
    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="rectifications")
    visit = models.ForeignKey(
        SiteVisit, null=True, blank=True, on_delete=models.SET_NULL, related_name="rectifications"
    )
    what = models.TextField(_("what must be rectified"))
    deadline = models.DateField(_("deadline"))
    owner = models.CharField(_("responsible person"), max_length=100)
    status = models.CharField(
        _("status"), max_length=10, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    answer = models.TextField(_("answer"), blank=True)
    evidence = models.FileField(_("evidence"), upload_to=upload_path, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deadline", "id"]

    def __str__(self):
        return self.what[:60]


class RectificationEventKind(models.TextChoices):
    ANSWER = "answer", _("Answer")
    REOPEN = "reopen", _("Reopened")
    CLOSE = "close", _("Closed")


class RectificationEvent(models.Model):
    """One step of a rectification's history (append-only): each answer with its evidence, each reopening with its
    note, the closing."""

    rectification = models.ForeignKey(Rectification, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=RectificationEventKind.choices)
    text = models.TextField(blank=True)
    evidence = models.FileField(upload_to=upload_path, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["rectification", "at", "id"]

    def __str__(self):
        return f"{self.rectification_id} · {self.kind}"


class EvaluationKind(models.TextChoices):
    MIDTERM = "midterm", _("Mid-term evaluation")
    FINAL = "final", _("Final evaluation")


class EvaluationCriterion(models.Model):
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="evaluation_criteria")
    kind = models.CharField(max_length=10, choices=EvaluationKind.choices)
    name = models.CharField(_("criterion"), max_length=100)
    max_points = models.DecimalField(_("maximum points"), max_digits=5, decimal_places=1)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["competition", "kind", "order", "id"]

    def __str__(self):
        return self.name


class Evaluation(models.Model):
    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="evaluations")
    kind = models.CharField(_("evaluation"), max_length=10, choices=EvaluationKind.choices)
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    points = models.JSONField(default=dict)  # {criterion id: points}
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=2)
    passed = models.BooleanField(_("passed"))
    # 1 for the evaluation, 2, 3 … for a re-evaluation (复评) after a failed one and the project's reinstatement.
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=1)
    comment = models.TextField(_("comment"), blank=True)
    # Held although a precondition was missing (period not ended, reports not accepted, rectification open): why.
    override_reason = models.TextField(_("override reason"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "kind", "attempt"], name="one_evaluation_per_attempt"),
            # A pass is final: at most one passed evaluation of each kind.
            models.UniqueConstraint(
                fields=["project", "kind"], condition=models.Q(passed=True), name="one_passed_evaluation_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.project} · {self.get_kind_display()} {self.total}"


class Feedback(models.Model):
    """A worker who was served rates the project (1–5). Anonymous: no name, no contact, no IP stored."""

    project = models.ForeignKey(FundedProject, on_delete=models.CASCADE, related_name="feedback")
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    client_key = models.CharField(max_length=64, db_index=True)  # salted hash of the device, for rate limiting only
    network_key = models.CharField(max_length=64, db_index=True, blank=True)  # salted hash of the network, likewise

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_5")
        ]

    def __str__(self):
        return f"{self.project} · {self.rating}"
