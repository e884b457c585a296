"""Permission rules of judging, and the judges' share of ``proposal.view``."""

from venture.permissions import any_of, extend, is_judge, is_staff, register, staff_or_auditor, union_side

from .models import Assignment, ConflictStatus


def own_assignment(user, assignment):
    return is_judge(user) and assignment is not None and assignment.judge.user_id == user.pk


def clear_assignment(user, assignment):
    conflict = getattr(assignment, "conflict", None) if assignment is not None else None
    return own_assignment(user, assignment) and conflict is not None and conflict.status == ConflictStatus.CLEAR


def judge_cleared_for(user, proposal):
    """A judge sees a proposal's content only when assigned to it and cleared of conflicts."""
    if not is_judge(user) or proposal is None:
        return False
    return Assignment.objects.filter(judge__user=user, proposal=proposal,
                                     conflict__status=ConflictStatus.CLEAR).exists()


register("judging.manage", is_staff)
register("judging.monitor", staff_or_auditor)
register("judge.list", staff_or_auditor)
register("assignment.declare", own_assignment)
register("assignment.score", clear_assignment)
register("conflict.override", is_staff)
register("sheet.unlock", is_staff)
# Documents and exports of judging (venture.documents serves them)
register("scores.export", staff_or_auditor)
register("rubric.print", any_of(union_side, is_judge))
register("sheet.print", any_of(staff_or_auditor, own_assignment))
extend("proposal.view", judge_cleared_for)
