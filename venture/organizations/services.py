import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from venture.audit.services import record, snapshot

from .models import ORG_TRANSITIONS, Invitation, Membership, Organization, OrgStatus

AUDITED_FIELDS = ["name", "uscc", "org_type", "contact_person", "mobile", "email", "address", "status"]


@transaction.atomic
def create_organization(*, by, data):
    organization = Organization.objects.create(**data)
    Membership.objects.create(organization=organization, user=by, is_owner=True)
    record(actor=by, action="organization.create", obj=organization, after=snapshot(organization, AUDITED_FIELDS))
    return organization


@transaction.atomic
def update_organization(*, organization, by, data):
    before = snapshot(organization, AUDITED_FIELDS)
    for field, value in data.items():
        setattr(organization, field, value)
    organization.save()
    record(actor=by, action="organization.update", obj=organization, before=before,
           after=snapshot(organization, AUDITED_FIELDS))
    return organization


def _transition(organization, to, by, reason=""):
    if to not in ORG_TRANSITIONS[OrgStatus(organization.status)]:
        raise ValidationError(
            _("An organization cannot go from “%(from)s” to “%(to)s”.")
            % {"from": organization.get_status_display(), "to": OrgStatus(to).label}
        )
    before = {"status": organization.status}
    organization.status = to
    organization.rejection_reason = reason if to == OrgStatus.REJECTED else ""
    organization.verified_at = timezone.now() if to == OrgStatus.VERIFIED else None
    organization.save(update_fields=["status", "rejection_reason", "verified_at", "updated_at"])
    record(actor=by, action=f"organization.{to}", obj=organization, before=before,
           after={"status": to, "reason": reason})
    return organization


@transaction.atomic
def verify_organization(*, organization, by):
    return _transition(organization, OrgStatus.VERIFIED, by)


@transaction.atomic
def reject_organization(*, organization, by, reason):
    if not reason.strip():
        raise ValidationError(_("Give the reason for the rejection; the organization will see it."))
    return _transition(organization, OrgStatus.REJECTED, by, reason)


@transaction.atomic
def invite_member(*, organization, email, by):
    invitation = Invitation.objects.create(
        organization=organization, email=email, token=secrets.token_urlsafe(32), invited_by=by
    )
    link = settings.SITE_URL + reverse("organizations:accept_invitation", args=[invitation.token])
    send_mail(
        _("Invitation to join %(org)s") % {"org": organization.name},
        _("%(who)s invites you to join %(org)s on the venture platform. Open this link to accept:\n%(link)s")
        % {"who": by.display_name, "org": organization.name, "link": link},
        None,
        [email],
    )
    record(actor=by, action="organization.invite", obj=organization, after={"email": email})
    return invitation


@transaction.atomic
def accept_invitation(*, invitation, user):
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise ValidationError(_("This invitation has already been used."))
    Membership.objects.get_or_create(organization=invitation.organization, user=user)
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record(actor=user, action="organization.join", obj=invitation.organization, after={"user": user.username})
    return invitation.organization
