"""The stage policy (issue #14): the one place that answers "may this part of a round still change at this stage,
and if not, why?".

Every service that writes a decided part of a round asks ``ensure(competition, part)`` before it writes and refuses
with the reason; views and templates ask ``refusal(competition, part)`` and show the reason instead of the form.
No other module keeps a copy of these rules.

What each part is:

- ``SETTINGS``: the round's call texts, dates and supervision settings (always editable by staff; the dates have
  their own guardrails in ``services.advance_stage``).
- ``MONEY``: what the outputs and the awards read: fund pool, minimum and maximum grant, funding rule, finalist quota
  and the ranking method with its trim and tie-break. Read-only from the freeze on; the audited unfreeze
  (``venture.results.services.unlock_after_freeze``) that invalidates the snapshot is the only way back.
- ``BUDGET_RULES`` (the budget categories and their caps) and ``TRANCHE_PLAN``: read-only from the freeze on.
- ``RUBRIC``: read-only once judging starts (pre-scoring or final review).
- ``AWARDS`` and ``GRADES``: made after the results are frozen; read-only while the public notice runs (a change goes
  through the audited re-publication, ``venture.awards.services.reopen_notice``) and final after it.
- ``NOTICE_TEXT``: written when the notice is published; afterwards only by a re-publication.
- ``SHEETS``: a score sheet of a panel stage is written only while the round is in that scoring stage.
- ``IDENTITY``: an organization's identity is not a round's; ``venture.organizations.services`` sends an edited,
  verified organization back to review (issue #14, Found 4) and every issued document keeps its own snapshot.

Higher apps that know more (the results know whether the sealed rows still match their digest) add their refusals
with ``register(part, check)``; ``check(competition)`` returns a reason or "". This module imports only the round's
models, so every app may import it.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Stage


class Part(models.TextChoices):
    SETTINGS = "settings", gettext_lazy("round settings")
    MONEY = "money", gettext_lazy("money and ranking settings")
    BUDGET_RULES = "budget_rules", gettext_lazy("budget rules")
    TRANCHE_PLAN = "tranche_plan", gettext_lazy("tranche plan")
    RUBRIC = "rubric", gettext_lazy("rubric")
    AWARDS = "awards", gettext_lazy("awards")
    GRADES = "grades", gettext_lazy("award grades")
    NOTICE_TEXT = "notice_text", gettext_lazy("public notice")
    SHEETS = "sheets", gettext_lazy("score sheets")


# The round settings (``Competition`` fields) that belong to MONEY: everything the frozen outputs and the awards read.
MONEY_SETTINGS = (
    "fund_pool",
    "min_grant",
    "max_grant",
    "funding_rule",
    "finalist_quota",
    "method",
    "trim",
    "tiebreak_criterion",
)

FROZEN_FROM = (Stage.RESULTS, Stage.NOTICE, Stage.SUPERVISION, Stage.CLOSED)
JUDGING_FROM = (Stage.PRESCORING, Stage.FINAL, *FROZEN_FROM)
NOTICE_FROM = (Stage.NOTICE, Stage.SUPERVISION, Stage.CLOSED)
FINAL_FROM = (Stage.SUPERVISION, Stage.CLOSED)

_checks: dict = {}


def register(part, check):
    """A higher app adds a refusal for ``part``: ``check(competition)`` returns the reason, or "" when it allows."""
    checks = _checks.setdefault(Part(part), [])
    if check not in checks:
        checks.append(check)


def _stage_refusal(competition, part, panel_stage):
    stage = competition.stage
    label = competition.get_stage_display()
    if part in (Part.MONEY, Part.BUDGET_RULES, Part.TRANCHE_PLAN) and stage in FROZEN_FROM:
        return _(
            "The results of this round are frozen (stage: %(stage)s), so its %(part)s can no longer change. "
            "Only an audited unlock that invalidates the frozen results reopens them."
        ) % {"stage": label, "part": Part(part).label}
    if part == Part.RUBRIC and stage in JUDGING_FROM:
        return _(
            "The rubric is locked because judging has started (stage: %(stage)s); it can no longer be changed."
        ) % {"stage": label}
    if part in (Part.AWARDS, Part.GRADES, Part.NOTICE_TEXT):
        if stage in FINAL_FROM:
            return _(
                "The public notice is closed and the awards are final (stage: %(stage)s); the %(part)s can no "
                "longer change."
            ) % {"stage": label, "part": Part(part).label}
        if stage == Stage.NOTICE:
            return _(
                "The public notice has been published; the %(part)s can no longer change. Reopen the notice "
                "with a reason to change them: it is published again as a new version and its period "
                "restarts."
            ) % {"part": Part(part).label}
        if part == Part.AWARDS and stage != Stage.RESULTS:
            return _("Awards are made only once the results are frozen (stage: %(stage)s).") % {"stage": label}
    if part == Part.SHEETS and panel_stage is not None and stage != panel_stage:
        return _("Scoring for this stage is closed.")
    return ""


def refusal(competition, part, *, panel_stage=None):
    """Why ``part`` of ``competition`` may not change now, or "" when it may. ``panel_stage`` (for ``SHEETS``) is the
    round stage a sheet's panel scores in."""
    part = Part(part)
    reason = _stage_refusal(competition, part, panel_stage)
    if reason:
        return reason
    for check in _checks.get(part, ()):
        reason = check(competition)
        if reason:
            return reason
    return ""


def may_change(competition, part, **context):
    return not refusal(competition, part, **context)


def ensure(competition, part, **context):
    """Raise ValidationError with the reason when ``part`` may not change now (code ``locked``)."""
    reason = refusal(competition, part, **context)
    if reason:
        raise ValidationError(reason, code="locked")


def refusals(competition, parts=tuple(Part)):
    """{part value: reason} for the parts that may not change now: what a page shows instead of a form."""
    return {p.value: reason for p in map(Part, parts) if (reason := refusal(competition, p))}
