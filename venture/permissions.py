"""Who may do what: one table of action -> predicate(user, obj), used by every view and template.

Views call ``require(user, action, obj)`` or fetch and check at once with ``get_for(user, action, queryset, pk=...)``.
For an object the user may not see, both answer 404 (Http404), the same as a missing object, so ids leak nothing.
For a page without an object (a staff dashboard) ``require`` answers 403. Templates ask the same table with
``{% if user|can:"audit.browse" %}`` or ``{% can user "proposal.edit" proposal as ok %}``.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from venture.accounts.models import Role


def _auth(user):
    return user is not None and user.is_authenticated and user.is_active


def has_role(*roles):
    def predicate(user, obj=None):
        return _auth(user) and (user.role in roles or (user.is_superuser and Role.STAFF in roles))

    predicate.__name__ = "has_role_" + "_".join(roles)
    return predicate


is_staff = has_role(Role.STAFF)
is_auditor = has_role(Role.AUDITOR)
is_judge = has_role(Role.JUDGE)
is_supervisor = has_role(Role.SUPERVISOR)
is_applicant = has_role(Role.APPLICANT)
staff_or_auditor = has_role(Role.STAFF, Role.AUDITOR)
union_side = has_role(Role.STAFF, Role.AUDITOR, Role.SUPERVISOR)


def member_org_ids(user):
    """Ids of the organizations the user belongs to, cached on the user object for the request."""
    if not _auth(user):
        return frozenset()
    cached = getattr(user, "_member_org_ids", None)
    if cached is None:
        cached = frozenset(user.memberships.values_list("organization_id", flat=True))
        user._member_org_ids = cached
    return cached


def owner_org_ids(user):
    if not _auth(user):
        return frozenset()
    cached = getattr(user, "_owner_org_ids", None)
    if cached is None:
        cached = frozenset(user.memberships.filter(is_owner=True).values_list("organization_id", flat=True))
        user._owner_org_ids = cached
    return cached


def is_member_of(user, organization):
    return organization is not None and organization.pk in member_org_ids(user)


def any_of(*predicates):
    def predicate(user, obj=None):
        return any(p(user, obj) for p in predicates)

    return predicate


def _org_member(user, org):
    return is_applicant(user) and is_member_of(user, org)


def _org_owner(user, org):
    return is_applicant(user) and org is not None and org.pk in owner_org_ids(user)


def _proposal_member(user, proposal):
    return is_applicant(user) and proposal is not None and proposal.organization_id in member_org_ids(user)


def _proposal_editable(user, proposal):
    return _proposal_member(user, proposal) and proposal.editable_by_applicant


def _own_assignment(user, assignment):
    return is_judge(user) and assignment is not None and assignment.judge.user_id == user.pk


def _clear_assignment(user, assignment):
    from judging.models import ConflictStatus

    conflict = getattr(assignment, "conflict", None) if assignment is not None else None
    return _own_assignment(user, assignment) and conflict is not None and conflict.status == ConflictStatus.CLEAR


def _judge_cleared_for(user, proposal):
    """A judge sees a proposal's content only when assigned to it and cleared of conflicts."""
    if not is_judge(user) or proposal is None:
        return False
    from judging.models import Assignment, ConflictStatus

    return Assignment.objects.filter(judge__user=user, proposal=proposal,
                                     conflict__status=ConflictStatus.CLEAR).exists()


def _can_create_organization(user, obj=None):
    return is_applicant(user)


def supervised_project_ids(user):
    """Ids of the funded projects the user supervises, cached on the user object for the request."""
    if not _auth(user):
        return frozenset()
    cached = getattr(user, "_supervised_project_ids", None)
    if cached is None:
        cached = frozenset(user.supervised_projects.values_list("pk", flat=True))
        user._supervised_project_ids = cached
    return cached


def _project_supervisor(user, project):
    """A supervisor acts only on the funded projects they are assigned to."""
    return is_supervisor(user) and project is not None and project.pk in supervised_project_ids(user)


def _project_member(user, project):
    """The funded organization's members work on their own project."""
    return is_applicant(user) and project is not None and project.organization_id in member_org_ids(user)


def _supervises_org(user, org):
    """A supervisor assigned to one of the organization's funded projects (ids cached on the user per request)."""
    if not is_supervisor(user) or org is None:
        return False
    cached = getattr(user, "_supervised_org_ids", None)
    if cached is None:
        cached = frozenset(user.supervised_projects.values_list("organization_id", flat=True))
        user._supervised_org_ids = cached
    return org.pk in cached


def _supervised_proposal_ids(user):
    cached = getattr(user, "_supervised_proposal_ids", None)
    if cached is None:
        cached = frozenset(user.supervised_projects.values_list("proposal_id", flat=True))
        user._supervised_proposal_ids = cached
    return cached


def _supervises_proposal(user, proposal):
    """A supervisor sees the proposal behind a funded project they are assigned to, and no other."""
    return is_supervisor(user) and proposal is not None and proposal.pk in _supervised_proposal_ids(user)


def _supervises_agreement(user, agreement):
    return agreement is not None and _supervises_proposal(user, agreement.award.proposal)


def _staff_not_self(user, member):
    """Recovery of a member's second factor is done by *another* staff member."""
    return is_staff(user) and member is not None and member.pk != user.pk


def _agreement_party(user, agreement):
    """The funded organization's members see their own grant agreement."""
    return agreement is not None and _proposal_member(user, agreement.award.proposal)


RULES = {
    # Home pages and navigation
    "home.applicant": is_applicant,
    "home.judge": is_judge,
    "home.staff": is_staff,
    "home.supervisor": is_supervisor,
    "home.auditor": is_auditor,
    # Audit trail
    "audit.browse": staff_or_auditor,
    "audit.export": staff_or_auditor,
    # Accounts: unlocking a login lock (admin), resetting another member's second factor
    "login.unlock": is_staff,
    "account.reset_two_factor": _staff_not_self,
    # Organizations
    "organization.create": _can_create_organization,
    "organization.view": any_of(staff_or_auditor, _org_member, _supervises_org),
    "organization.edit": any_of(is_staff, _org_member),
    "organization.invite": _org_owner,
    "organization.verify": is_staff,
    "organization.list": staff_or_auditor,
    # Personal data (PIPL): contact person, mobile, e-mail and address only to those who need them
    "organization.contacts": any_of(staff_or_auditor, _org_member, _supervises_org),
    # Competitions
    "competition.manage": is_staff,
    "competition.view_internal": union_side,
    # Proposals
    "proposal.create": is_applicant,
    "proposal.view": any_of(staff_or_auditor, _proposal_member, _judge_cleared_for, _supervises_proposal),
    "proposal.edit": _proposal_editable,
    "proposal.submit": _proposal_editable,
    "proposal.withdraw": _proposal_member,
    "proposal.return": is_staff,
    "proposal.list": staff_or_auditor,
    "proposal.screen": is_staff,
    # Screening and judging
    "screening.manage": is_staff,
    "judging.manage": is_staff,
    "judging.monitor": staff_or_auditor,
    "judge.list": staff_or_auditor,
    "assignment.declare": _own_assignment,
    "assignment.score": _clear_assignment,
    "conflict.override": is_staff,
    "sheet.unlock": is_staff,
    # Results, awards, public notice
    "results.view": staff_or_auditor,
    "results.freeze": is_staff,
    "results.sign_off": is_auditor,
    "awards.manage": is_staff,
    "objection.handle": is_staff,
    "result.view_own": _proposal_member,
    # Documents and exports (venture.documents)
    "proposal.export": staff_or_auditor,  # the list with contact details: personal data, audited
    "scores.export": staff_or_auditor,
    "rubric.print": any_of(union_side, is_judge),
    "sheet.print": any_of(staff_or_auditor, _own_assignment),
    "agreement.view": any_of(staff_or_auditor, _agreement_party, _supervises_agreement),
    # Supervision (venture.supervision): obj is the FundedProject
    "agreement.sign": is_staff,
    "portfolio.view": union_side,  # supervisors see only their own projects in it
    "project.view": any_of(staff_or_auditor, _project_supervisor, _project_member),
    "project.manage": is_staff,  # supervisors, budget revisions, tranches, reinstatement, close-out
    "project.supervise": any_of(is_staff, _project_supervisor),  # visits, evaluations, report/rectification review
    "project.write": any_of(is_staff, _project_member),  # progress reports, ledger, rectification answers
}


def can(user, action, obj=None):
    try:
        predicate = RULES[action]
    except KeyError as exc:
        raise KeyError(f"Unknown permission action {action!r}; add it to venture.permissions.RULES") from exc
    return bool(predicate(user, obj))


def require(user, action, obj=None):
    """Raise unless ``user`` may do ``action`` (on ``obj``): 404 for an object, 403 for a page without one."""
    if not can(user, action, obj):
        if obj is not None:
            raise Http404
        raise PermissionDenied
    return obj


def get_for(user, action, queryset, **lookup):
    """Fetch one object and check permission together; not found and not yours look the same (404)."""
    obj = get_object_or_404(queryset, **lookup)
    if not can(user, action, obj):
        raise Http404
    return obj
