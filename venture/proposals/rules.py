"""Permission rules of proposals. Judging adds the judges cleared for a proposal to ``proposal.view``."""

from venture.permissions import any_of, is_applicant, is_staff, member_org_ids, register, staff_or_auditor


def proposal_member(user, proposal):
    return is_applicant(user) and proposal is not None and proposal.organization_id in member_org_ids(user)


def proposal_editable(user, proposal):
    return proposal_member(user, proposal) and proposal.editable_by_applicant


register("proposal.create", is_applicant)
register("proposal.view", any_of(staff_or_auditor, proposal_member))  # judges, supervisors: extended by their apps
register("proposal.edit", proposal_editable)
register("proposal.submit", proposal_editable)
register("proposal.withdraw", proposal_member)
register("proposal.return", is_staff)
register("proposal.list", staff_or_auditor)
register("proposal.screen", is_staff)
register("proposal.export", staff_or_auditor)  # the list with contact details: personal data, audited
register("proposal.reuse", proposal_member)  # "start from my proposal of …": one's own organization's only
