"""Permission rules of awards, the public notice and the grant agreement."""

from venture.permissions import any_of, is_staff, register, staff_or_auditor
from venture.proposals.rules import proposal_member


def agreement_party(user, agreement):
    """The funded organization's members see their own grant agreement."""
    return agreement is not None and proposal_member(user, agreement.award.proposal)


register("awards.manage", is_staff)
register("objection.handle", is_staff)
register("result.view_own", proposal_member)
register("agreement.view", any_of(staff_or_auditor, agreement_party))  # supervisors: extended by supervision
register("calendar.manage", is_staff)  # the statutory holidays of a year the calendar library does not know
