"""What each recorded action means, in the UI language: the one table of audit action labels.

Every ``record(action=…)`` anywhere in the code base has its label here (``tests/venture/test_audit_display.py``
collects the actions recorded in the source and fails on one without a label). Actions built from a status
(``proposal.<status>``, ``project.<status>``, …) are listed for each status. The code itself stays what is hashed,
filtered on and exported; the label is only what people read. Only strings live here, so the audit app, below every
stage, imports none of them."""

from django.utils.translation import pgettext_lazy


def _(text):
    return pgettext_lazy("audit action", text)


LABELS = {
    # accounts
    "account.signup": _("Account registered"),
    "account.two_factor_enrolled": _("Two-factor sign-in set up"),
    "account.two_factor_reset": _("Two-factor sign-in reset"),
    "login.locked": _("Sign-in locked after failed attempts"),
    "login.unlocked": _("Sign-in unlocked"),
    # audit
    "audit.export": _("Audit trail exported"),
    "audit.prune": _("Old audit records pruned"),
    # organizations
    "organization.create": _("Organization registered"),
    "organization.update": _("Organization profile changed"),
    "organization.invite": _("Member invited to the organization"),
    "organization.join": _("Member joined the organization"),
    "organization.resubmit": _("Organization resubmitted for verification"),
    "organization.pending": _("Organization awaiting verification"),
    "organization.verified": _("Organization verified"),
    "organization.rejected": _("Organization rejected"),
    # competitions
    "competition.create": _("Round created"),
    "competition.copy": _("Round created from an earlier round"),
    "competition.update": _("Round settings changed"),
    "competition.stage": _("Round moved to another stage"),
    "competition.categories": _("Project categories changed"),
    "competition.budget_categories": _("Budget categories changed"),
    "competition.tranche_plan": _("Tranche plan changed"),
    "competition.rubric": _("Scoring rubric changed"),
    "competition.evaluation_rubric": _("Evaluation rubric changed"),
    "calendar.year": _("Holidays and make-up workdays of a year entered"),
    # proposals
    "proposal.create": _("Proposal started"),
    "proposal.save_draft": _("Proposal draft saved"),
    "proposal.attach": _("Attachment added"),
    "proposal.detach": _("Attachment removed"),
    "proposal.place_lines": _("Copied budget lines placed"),
    "proposal.draft": _("Proposal back to draft"),
    "proposal.submitted": _("Proposal submitted"),
    "proposal.returned": _("Proposal returned for revision"),
    "proposal.withdrawn": _("Proposal withdrawn"),
    "proposal.eligible": _("Passed the preliminary review"),
    "proposal.ineligible": _("Failed the preliminary review"),
    "proposal.finalist": _("Made a finalist"),
    "proposal.not_selected": _("Not among the finalists"),
    "proposal.awarded": _("Proposal awarded"),
    "proposal.not_funded": _("Proposal not funded"),
    # screening
    "screening.checklist": _("Eligibility checklist changed"),
    "screening.checks": _("Eligibility checks recorded"),
    "screening.finalists": _("Finalists confirmed"),
    # judging
    "judge.invite": _("Judge invited"),
    "judging.remind": _("Judges reminded of unfinished score sheets"),
    "panel.set": _("Judging panel set"),
    "panel.assign": _("Proposals assigned to judges"),
    "panel.cancel_open": _("Open score sheets cancelled"),
    "conflict.pending": _("Conflict-of-interest declaration reopened"),
    "conflict.clear": _("No conflict of interest declared"),
    "conflict.recused": _("Judge recused (conflict of interest)"),
    "conflict.override": _("Conflict-of-interest requirement overridden"),
    "sheet.save": _("Score sheet saved"),
    "sheet.submit": _("Score sheet submitted"),
    "sheet.unlock": _("Score sheet unlocked"),
    "roadshow.draw": _("Roadshow order drawn"),
    "roadshow.redraw": _("Roadshow order drawn again"),
    "roadshow.phase": _("Roadshow moved to the next phase"),
    "roadshow.pause": _("Roadshow timer paused"),
    "roadshow.resume": _("Roadshow timer resumed"),
    "roadshow.extend": _("Roadshow timer extended"),
    "roadshow.reset": _("Roadshow timer restarted"),
    # results
    "results.freeze": _("Results frozen"),
    "results.sign_off": _("Results signed off"),
    "results.invalidate": _("Frozen results invalidated"),
    "results.bundle": _("Results bundle issued"),
    # awards and public notice
    "awards.propose": _("Awards proposed"),
    "awards.grades": _("Award grades saved"),
    "award.add": _("Award added"),
    "award.change": _("Award changed"),
    "award.cancel": _("Award cancelled"),
    "award.offer_next": _("Award offered to the next in rank"),
    "notice.publish": _("Public notice published"),
    "notice.republish": _("Public notice published again"),
    "notice.close": _("Public notice closed"),
    "notice.reopen": _("Public notice reopened"),
    "objection.submit": _("Objection lodged"),
    "objection.pending": _("Objection back to pending"),
    "objection.upheld": _("Objection upheld"),
    "objection.dismissed": _("Objection dismissed"),
    # supervision
    "project.open": _("Project opened for supervision"),
    "project.supervisors": _("Project supervisors changed"),
    "project.refund": _("Refund recorded"),
    "project.active": _("Project resumed"),
    "project.suspended": _("Project suspended"),
    "project.closed": _("Project closed out"),
    "project.revise.initial": _("Approved budget recorded"),
    "project.revise.budget": _("Budget adjusted"),
    "project.revise.extension": _("Project extended at no extra cost"),
    "tranche.release": _("Tranche released"),
    "expenditure.record": _("Expenditure recorded"),
    "expenditure.import": _("Ledger imported"),
    "expenditure.receipt": _("Receipt attached to an expenditure"),
    "expenditure.reverse": _("Expenditure reversed"),
    "expenditure.correct": _("Expenditure corrected"),
    "ledger.duplicate_invoice": _("Duplicate invoice refused"),
    "ledger.totals_fixed": _("Ledger totals repaired"),
    "report.submit": _("Progress report submitted"),
    "report.remind": _("Report reminder sent"),
    "report.due": _("Progress report reopened"),
    "report.submitted": _("Progress report submitted"),
    "report.changes": _("Progress report returned for changes"),
    "report.accepted": _("Progress report accepted"),
    "rectification.create": _("Rectification opened"),
    "rectification.answer": _("Rectification answered"),
    "rectification.close": _("Rectification closed"),
    "rectification.reopen": _("Rectification reopened"),
    "visit.record": _("Site visit recorded"),
    "evaluation.midterm": _("Mid-term evaluation recorded"),
    "evaluation.final": _("Final evaluation recorded"),
    # exports, notifications, background tasks
    "export.proposals": _("Proposals exported"),
    "export.scores": _("Scores exported"),
    "export.ledger": _("Ledger exported"),
    "export.portfolio": _("Portfolio exported"),
    "notifications.settings": _("Notification settings changed"),
    "task.retry": _("Failed background task retried"),
}


def label(action):
    """The label of ``action`` in the active language, or ``None`` for an action the table does not know."""
    return LABELS.get(action)


def choices():
    """(code, label) pairs for a filter, by label."""
    return sorted(((code, str(text)) for code, text in LABELS.items()), key=lambda pair: pair[1])
