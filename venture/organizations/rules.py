"""Permission rules of organizations. Supervision adds its supervisors to ``organization.contacts``."""

from venture.permissions import (
    any_of,
    is_applicant,
    is_member_of,
    is_staff,
    owner_org_ids,
    register,
    staff_or_auditor,
)


def org_member(user, org):
    return is_applicant(user) and is_member_of(user, org)


def org_owner(user, org):
    return is_applicant(user) and org is not None and org.pk in owner_org_ids(user)


def can_create_organization(user, obj=None):
    return is_applicant(user)


register("organization.create", can_create_organization)
register("organization.view", any_of(staff_or_auditor, org_member))  # supervisors: their projects' (supervision)
register("organization.edit", any_of(is_staff, org_member))
register("organization.invite", org_owner)
register("organization.verify", is_staff)
register("organization.resubmit", org_member)  # a rejected organization, corrected, asks to be verified again
register("organization.list", staff_or_auditor)
# Personal data (PIPL): contact person, mobile, e-mail and address only to those who need them
register("organization.contacts", any_of(staff_or_auditor, org_member))
