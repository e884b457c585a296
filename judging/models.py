"""Judges, panels, assignments and the rubric. The scoring maths lives in judging/scoring/ (no Django)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from venture.competitions.models import Competition
from venture.proposals.models import Proposal


class Expertise(models.TextChoices):
    PROFESSOR = "professor", _("University professor")
    SOCIAL_WORK = "social_work", _("Social-work expert")
    UNION = "union", _("Union staff")
    OTHER = "other", _("Other")


class Judge(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="judge")
    title = models.CharField(_("professional title"), max_length=100, blank=True)
    affiliation = models.CharField(_("affiliation"), max_length=200)
    expertise = models.CharField(_("expertise"), max_length=20, choices=Expertise.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    other_affiliations = models.TextField(
        _("other affiliations"),
        blank=True,
        help_text=_(
            "Organizations the judge works for, advises or sits on the board of, one per line. Never assigned "
            "to their proposals."
        ),
    )

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("judge")
        verbose_name_plural = _("judges")

    def __str__(self):
        return str(self.user)


class Criterion(models.Model):
    """One line of a round's rubric (评分细则). ``bands`` holds descriptors such as 21-25 excellent."""

    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="criteria")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    max_points = models.DecimalField(_("maximum points"), max_digits=5, decimal_places=1)
    weight = models.DecimalField(_("weight"), max_digits=5, decimal_places=2)
    bands = models.JSONField(_("band descriptors"), default=list, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["competition", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["competition", "code"], name="criterion_code_unique_per_round")]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")

    def __str__(self):
        return self.name


class PanelStage(models.TextChoices):
    PRESCORING = "prescoring", _("Expert pre-scoring")
    FINAL = "final", _("Final review (roadshow)")


class Panel(models.Model):
    competition = models.ForeignKey(Competition, on_delete=models.CASCADE, related_name="panels")
    stage = models.CharField(_("stage"), max_length=20, choices=PanelStage.choices)
    judges = models.ManyToManyField(Judge, related_name="panels", blank=True)
    # The change token of the panel's live board and of the hall's big screen: judging.services adds one, in the
    # same transaction and after the write, whenever the judges, the assignments, a declaration or a sheet of the
    # panel change (``_board_changed``), so a poll learns "nothing changed" from this one field (judging.roadshow_views).
    board_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["competition", "stage"], name="one_panel_per_round_stage")]
        verbose_name = _("panel")

    def __str__(self):
        return f"{self.competition} · {self.get_stage_display()}"


class Assignment(models.Model):
    """A judge is to score a proposal at one stage."""

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="assignments")
    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, related_name="assignments")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="assignments")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["panel", "judge", "proposal"], name="one_assignment_per_judge_proposal")
        ]
        verbose_name = _("assignment")

    def __str__(self):
        return f"{self.judge} → {self.proposal}"


class ConflictStatus(models.TextChoices):
    PENDING = "pending", _("Not declared yet")
    CLEAR = "clear", _("No conflict")
    RECUSED = "recused", _("Recused (conflict of interest)")


# Allowed conflict-status transitions; judging.services performs them, each as a new ConflictEntry.
CONFLICT_TRANSITIONS = {
    ConflictStatus.PENDING: {ConflictStatus.CLEAR, ConflictStatus.RECUSED},  # the judge declares
    ConflictStatus.CLEAR: {ConflictStatus.RECUSED},  # a judge who finds a conflict later
    ConflictStatus.RECUSED: {ConflictStatus.CLEAR},  # staff only, with a written reason: never the judge
}


class ConflictDeclaration(models.Model):
    """回避: before seeing a proposal the judge declares no conflict, or a conflict with a reason.

    ``status`` is the latest entry's status, kept by judging.services (the only writer); the history of who declared,
    overrode or reversed what, when and why is in ``entries`` (ConflictEntry), which is never edited."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="conflict")
    status = models.CharField(
        _("status"), max_length=10, choices=ConflictStatus.choices, default=ConflictStatus.PENDING
    )

    class Meta:
        verbose_name = _("conflict declaration")

    def __str__(self):
        return f"{self.assignment}: {self.get_status_display()}"


class ConflictEntryKind(models.TextChoices):
    DECLARED_CLEAR = "declared_clear", _("Declared no conflict")
    DECLARED_CONFLICT = "declared_conflict", _("Declared a conflict of interest")
    OVERRIDE = "override", _("Recusal reversed by staff")


class ConflictEntry(models.Model):
    """One row of the conflict register, appended and never edited: who did what to a judge's declaration on a
    proposal at a stage, when and why. Judge, proposal and panel are kept on the row itself so the history outlives a
    regenerated pre-scoring assignment (the declaration link is then cleared)."""

    declaration = models.ForeignKey(
        ConflictDeclaration, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="+")
    judge = models.ForeignKey(Judge, on_delete=models.CASCADE, related_name="conflict_entries")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("entry"), max_length=20, choices=ConflictEntryKind.choices)
    status = models.CharField(_("status after"), max_length=10, choices=ConflictStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("conflict register entry")
        verbose_name_plural = _("conflict register entries")

    def __str__(self):
        return f"{self.judge} · {self.proposal_id}: {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Conflict register entries are never edited; append a new entry instead.")
        super().save(*args, **kwargs)


class SheetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


class ScoreSheet(models.Model):
    """One judge's scores for one proposal at one stage. Submitted sheets are locked; staff unlock with a reason."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="sheet")
    status = models.CharField(_("status"), max_length=10, choices=SheetStatus.choices, default=SheetStatus.DRAFT)
    comment = models.TextField(_("comment"), blank=True)
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=2, null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("score sheet")

    def __str__(self):
        return f"{self.assignment} ({self.get_status_display()})"


class Score(models.Model):
    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    points = models.DecimalField(_("points"), max_digits=5, decimal_places=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sheet", "criterion"], name="one_score_per_sheet_criterion"),
            models.CheckConstraint(condition=models.Q(points__gte=0), name="score_points_nonnegative"),
        ]

    def __str__(self):
        return f"{self.criterion_id}: {self.points}"


class RoadshowPhase(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    PRESENTATION = "presentation", _("Presentation")
    QA = "qa", _("Q&A")
    DONE = "done", _("Finished")


class Roadshow(models.Model):
    """The final-review session: presentation order drawn by lot (seed recorded), now presenting, timers."""

    competition = models.OneToOneField(Competition, on_delete=models.CASCADE, related_name="roadshow")
    seed = models.CharField(_("draw seed"), max_length=64, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    draws = models.PositiveIntegerField(_("number of draws"), default=0)
    current = models.ForeignKey("RoadshowSlot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    phase = models.CharField(_("phase"), max_length=20, choices=RoadshowPhase.choices, default=RoadshowPhase.WAITING)
    phase_started_at = models.DateTimeField(null=True, blank=True)
    # The phase timer: paused since ``paused_at`` (None while it runs); ``extra_seconds`` added by "+1 minute".
    # judging.services.control_timer is the only writer besides set_presenting (which starts a phase afresh).
    paused_at = models.DateTimeField(null=True, blank=True)
    extra_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("roadshow")

    def __str__(self):
        return f"{self.competition} · roadshow"


class RoadshowSlot(models.Model):
    roadshow = models.ForeignKey(Roadshow, on_delete=models.CASCADE, related_name="slots")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["roadshow", "position"], name="one_slot_per_position")]

    def __str__(self):
        return f"{self.position}. {self.proposal}"
