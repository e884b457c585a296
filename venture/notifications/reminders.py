"""The reminders the daily command sends: what is due soon or overdue on a given day.

Each message carries a ``reminder_key`` that names what it is about and the day, so running the command twice the
same day sends nothing new (``services.send`` skips a key already sent).
"""

import datetime

from django.urls import reverse
from django.utils.translation import gettext as _

from judging.models import PanelStage
from judging.queries import progress
from venture.competitions.models import Competition, Stage
from venture.supervision.models import ProgressReport, ProjectStatus, Rectification, RectificationStatus, ReportStatus

from .events import Message, _webhook, members

DUE_SOON_DAYS = 3  # reports and rectifications are reminded from this many days before their date


def _state(on, today):
    return "overdue" if on < today else "due"


def report_reminders(today):
    horizon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    reports = (
        ProgressReport.objects.filter(
            status__in=[ReportStatus.DUE, ReportStatus.CHANGES],
            due_on__lte=horizon,
            project__status=ProjectStatus.ACTIVE,
        )
        .select_related("project__proposal__organization")
        .order_by("due_on", "id")
    )
    for report in reports:
        project = report.project
        values = {"title": project.title, "due": report.due_on.isoformat()}
        state = _state(report.due_on, today)
        title = (
            _("“%(title)s”: progress report overdue since %(due)s")
            if state == "overdue"
            else _("“%(title)s”: progress report due on %(due)s")
        ) % values
        body = _("The progress report for %(start)s to %(end)s is due on %(due)s. File it on the project's page.") % {
            "start": report.period_start.isoformat(),
            "end": report.period_end.isoformat(),
            "due": report.due_on.isoformat(),
        }
        yield Message(
            f"report.{state}",
            title,
            body,
            project.get_absolute_url(),
            users=members(project.proposal.organization),
            reminder_key=f"report:{report.pk}:{today.isoformat()}",
        )


def rectification_reminders(today):
    horizon = today + datetime.timedelta(days=DUE_SOON_DAYS)
    items = (
        Rectification.objects.filter(
            status=RectificationStatus.OPEN, deadline__lte=horizon, project__status=ProjectStatus.ACTIVE
        )
        .select_related("project__proposal__organization")
        .order_by("deadline", "id")
    )
    for item in items:
        project = item.project
        state = _state(item.deadline, today)
        values = {"title": project.title, "deadline": item.deadline.isoformat()}
        title = (
            _("“%(title)s”: a rectification is overdue since %(deadline)s")
            if state == "overdue"
            else _("“%(title)s”: a rectification is due on %(deadline)s")
        ) % values
        body = _("%(what)s\nResponsible: %(owner)s. Deadline: %(deadline)s.") % {
            "what": item.what,
            "owner": item.owner,
            "deadline": item.deadline.isoformat(),
        }
        yield Message(
            f"rectification.{state}",
            title,
            body,
            project.get_absolute_url(),
            users=members(project.proposal.organization),
            reminder_key=f"rectification:{item.pk}:{today.isoformat()}",
        )


def judge_reminders(today):
    stages = {Stage.PRESCORING: PanelStage.PRESCORING, Stage.FINAL: PanelStage.FINAL}
    for competition in Competition.objects.filter(stage__in=list(stages)).order_by("pk"):
        stage = stages[Stage(competition.stage)]
        for row in progress(competition, stage)["judges"]:
            if not row["missing"]:
                continue
            user = row["judge"].user
            yield Message(
                "sheets.unfinished",
                _("“%(round)s”: %(n)s score sheet(s) still to submit")
                % {"round": competition.title, "n": row["missing"]},
                _(
                    "%(n)s score sheet(s) for “%(round)s” are still open. Please declare any conflict and submit your "
                    "scores."
                )
                % {"n": row["missing"], "round": competition.title},
                reverse("home"),
                users=[user],
                reminder_key=f"sheets:{competition.pk}:{stage}:{user.pk}:{today.isoformat()}",
            )


def round_summaries(today):
    """One post per round with overdue reports or rectifications, to the round's group robot."""
    overdue_reports = ProgressReport.objects.filter(
        status__in=[ReportStatus.DUE, ReportStatus.CHANGES], due_on__lt=today, project__status=ProjectStatus.ACTIVE
    )
    overdue_items = Rectification.objects.filter(
        status=RectificationStatus.OPEN, deadline__lt=today, project__status=ProjectStatus.ACTIVE
    )
    counts: dict[int, list[int]] = {}
    for pk in overdue_reports.values_list("project__proposal__competition_id", flat=True):
        counts.setdefault(pk, [0, 0])[0] += 1
    for pk in overdue_items.values_list("project__proposal__competition_id", flat=True):
        counts.setdefault(pk, [0, 0])[1] += 1
    for competition in Competition.objects.filter(pk__in=counts).order_by("pk"):
        reports, items = counts[competition.pk]
        title = _("“%(round)s”: overdue in supervision") % {"round": competition.title}
        line = _("%(reports)s progress report(s) and %(items)s rectification(s) are overdue.") % {
            "reports": reports,
            "items": items,
        }
        link = reverse("supervision:portfolio")
        yield Message(
            "supervision.overdue",
            title,
            line,
            link,
            competition=competition,
            webhook=_webhook(title, [line], link),
            reminder_key=f"round:{competition.pk}:overdue:{today.isoformat()}",
        )


def due(today):
    return [
        *report_reminders(today),
        *rectification_reminders(today),
        *judge_reminders(today),
        *round_summaries(today),
    ]
