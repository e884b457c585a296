"""Judges, panels, assignments and the rubric. The scoring maths lives in judging/scoring.py (no Django)."""

from django.conf import settings
from django.db import models
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
