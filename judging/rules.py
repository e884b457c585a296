"""Permission rules of judging, and the judges' share of ``proposal.view``."""

from venture.permissions import any_of, extend, is_judge, is_staff, register, staff_or_auditor, union_side

from .models import Assignment, ConflictStatus, Panel, PanelStage


def own_assignment(user, assignment):
    return is_judge(user) and assignment is not None and assignment.judge.user_id == user.pk


def _judge_statuses(user, proposal_id):
    """The conflict statuses of the user's assignments on one proposal, at every stage (one query)."""
    return set(
        Assignment.objects.filter(judge__user=user, proposal_id=proposal_id).values_list("conflict__status", flat=True)
    )


def clear_assignment(user, assignment):
    """The judge's own assignment, declared clear, on a proposal they are not recused from at any stage."""
    conflict = getattr(assignment, "conflict", None) if assignment is not None else None
    return (
        own_assignment(user, assignment)
        and conflict is not None
        and conflict.status == ConflictStatus.CLEAR
        and ConflictStatus.RECUSED not in _judge_statuses(user, assignment.proposal_id)
    )


def judge_cleared_for(user, proposal):
    """A judge sees a proposal's content (and its attachments and PDFs) only when assigned to it, cleared of
    conflicts, and recused from it at no stage."""
    if not is_judge(user) or proposal is None:
        return False
    statuses = _judge_statuses(user, proposal.pk)
    return ConflictStatus.CLEAR in statuses and ConflictStatus.RECUSED not in statuses


def final_panel_judge(user, competition):
    """A judge sitting on the round's final panel (the roadshow's judges)."""
    return (
        is_judge(user)
        and competition is not None
        and Panel.objects.filter(competition=competition, stage=PanelStage.FINAL, judges__user=user).exists()
    )


register("judging.manage", is_staff)
register("roadshow.follow", any_of(staff_or_auditor, final_panel_judge))
register("judging.monitor", staff_or_auditor)
register("judge.list", staff_or_auditor)
register("assignment.declare", own_assignment)
register("assignment.score", clear_assignment)
register("conflict.override", is_staff)
register("sheet.unlock", is_staff)
# Documents and exports of judging (venture.documents serves them)
register("scores.export", staff_or_auditor)
register("rubric.print", any_of(union_side, is_judge))
register("sheet.print", any_of(staff_or_auditor, clear_assignment))
extend("proposal.view", judge_cleared_for)
