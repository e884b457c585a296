"""The applicant's guide of a round (申报指南) and its budget template: what they print, built from the round's own
set-up (the call text, the timetable, the service categories, the budget rules, the tranche plan, the rubric with its
score bands), so that the guide never says something the round does not enforce. The views are in ``views.py``."""

from decimal import Decimal

import pandas as pd
from django.utils import timezone
from django.utils.translation import gettext as _

from judging.rubric import band_text, total_bands
from venture.competitions.services import format_number
from venture.markup import render_markdown
from venture.money import format_money


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def timetable(competition):
    """(what, when) rows: the application window, the project window and length, the notice, the reports."""
    c = competition
    return [
        (_("Applications open"), _("%(at)s (Beijing time)") % {"at": _local(c.opens_at)}),
        (
            _("Applications close"),
            _("%(at)s (Beijing time); nothing is accepted after it") % {"at": _local(c.closes_at)},
        ),
        (
            _("Project period"),
            _("between %(start)s and %(end)s, %(min)s to %(max)s months")
            % {
                "start": c.project_start_earliest.isoformat(),
                "end": c.project_end_latest.isoformat(),
                "min": c.min_project_months,
                "max": c.max_project_months,
            },
        ),
        (_("Public notice of the results"), _("%(n)s working days") % {"n": c.notice_working_days}),
        (_("Progress reports of funded projects"), c.get_report_frequency_display()),
    ]


def budget_rules(competition):
    """The rules a proposal's budget must meet, as sentences, followed by the caps per category."""
    c = competition
    rules = [
        _("The requested amount is between %(min)s and %(max)s and equals the total of the budget lines.")
        % {"min": format_money(c.min_grant), "max": format_money(c.max_grant)},
    ]
    if c.cofunding_share:
        rules.append(
            _("Co-funding of at least %(share)s%% of the requested amount is required.")
            % {"share": format_number(c.cofunding_share)}
        )
    return rules


def cap_text(category):
    caps = []
    if category.cap_percent is not None:
        caps.append(_("at most %(cap)s%% of the total budget") % {"cap": format_number(category.cap_percent)})
    if category.cap_amount is not None:
        caps.append(_("at most %(amount)s") % {"amount": format_money(category.cap_amount)})
    return _("; ").join(caps) if caps else _("no cap")


def guide_context(competition):
    """Everything the guide prints (``templates/pdf/guide.html``); the round comes with its sets prefetched."""
    criteria = list(competition.criteria.all())
    return {
        "competition": competition,
        "description": render_markdown(competition.description),
        "timetable": timetable(competition),
        "categories": list(competition.categories.all()),
        "budget_rules": budget_rules(competition),
        "budget_categories": [(b, cap_text(b)) for b in competition.budget_categories.all()],
        "tranches": list(competition.tranche_plan.all()),
        "criteria": [
            (c, [(band_text(b), b["label"]) for b in sorted(c.bands, key=lambda b: -Decimal(str(b["max"])))])
            for c in criteria
        ],
        "rubric_total": format_number(sum((c.weight for c in criteria), Decimal("0"))),
        "total_bands": [(band_text(b), b["label"]) for b in total_bands(criteria)],
    }


def budget_template_frames(competition):
    """The budget template: a sheet to fill (one example row per budget category, the amount left to compute as
    unit price × quantity) and a sheet with the round's budget rules."""
    headers = [_("Budget category"), _("Item"), _("Unit"), _("Unit price"), _("Quantity"), _("Amount"), _("Note")]
    categories = list(competition.budget_categories.all())
    budget = pd.DataFrame(
        [[b.name, None, None, None, None, None, None] for b in categories],
        columns=headers,
    )
    rules = pd.DataFrame(
        [[b.name, cap_text(b), _("yes") if b.is_management_fee else None] for b in categories],
        columns=[_("Budget category"), _("Cap"), _("Management fee")],
    )
    notes = pd.DataFrame([[rule] for rule in budget_rules(competition)], columns=[_("Rule")])
    return {_("Budget"): budget, _("Caps"): rules, _("Rules"): notes}
