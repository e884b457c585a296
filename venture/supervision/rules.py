"""Permission rules of supervision (obj is the FundedProject), and the supervisors' share of what lower apps own:
the organization, proposal and agreement behind their own projects (and the organization's contacts)."""

from venture.permissions import (
    any_of,
    extend,
    is_applicant,
    is_staff,
    is_supervisor,
    member_org_ids,
    register,
    staff_or_auditor,
    union_side,
)


def supervised_project_ids(user):
    """Ids of the funded projects the user supervises, cached on the user object for the request."""
    if not is_supervisor(user):
        return frozenset()
    cached = getattr(user, "_supervised_project_ids", None)
    if cached is None:
        cached = frozenset(user.supervised_projects.values_list("pk", flat=True))
        user._supervised_project_ids = cached
    return cached


def project_supervisor(user, project):
    """A supervisor acts only on the funded projects they are assigned to."""
    return is_supervisor(user) and project is not None and project.pk in supervised_project_ids(user)


def project_member(user, project):
    """The funded organization's members work on their own project."""
    return is_applicant(user) and project is not None and project.organization_id in member_org_ids(user)


def supervises_org(user, org):
    """A supervisor assigned to one of the organization's funded projects (ids cached on the user per request)."""
    if not is_supervisor(user) or org is None:
        return False
    cached = getattr(user, "_supervised_org_ids", None)
    if cached is None:
        cached = frozenset(user.supervised_projects.values_list("organization_id", flat=True))
        user._supervised_org_ids = cached
    return org.pk in cached


def supervised_proposal_ids(user):
    cached = getattr(user, "_supervised_proposal_ids", None)
    if cached is None:
        cached = frozenset(user.supervised_projects.values_list("proposal_id", flat=True))
        user._supervised_proposal_ids = cached
    return cached


def supervises_proposal(user, proposal):
    """A supervisor sees the proposal behind a funded project they are assigned to, and no other."""
    return is_supervisor(user) and proposal is not None and proposal.pk in supervised_proposal_ids(user)


def supervises_agreement(user, agreement):
    return agreement is not None and supervises_proposal(user, agreement.award.proposal)


register("agreement.sign", is_staff)
register("portfolio.view", union_side)  # supervisors see only their own projects in it
register("project.view", any_of(staff_or_auditor, project_supervisor, project_member))
register("project.manage", is_staff)  # supervisors, budget revisions, tranches, reinstatement, close-out
register("project.supervise", any_of(is_staff, project_supervisor))  # visits, evaluations, report/rectification review
register("project.write", any_of(is_staff, project_member))  # progress reports, ledger, rectification answers
extend("organization.contacts", supervises_org)
# Least privilege: a supervisor sees the organization, proposal and agreement behind their own projects only.
extend("organization.view", supervises_org)
extend("proposal.view", supervises_proposal)
extend("agreement.view", supervises_agreement)
