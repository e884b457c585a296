import os
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from venture.audit.services import record, snapshot

from .models import ORG_TRANSITIONS, Invitation, Membership, Organization, OrgStatus

AUDITED_FIELDS = [
    "name",
    "uscc",
    "org_type",
    "registration_authority",
    "registration_date",
    "legal_representative",
    "contact_person",
    "mobile",
    "email",
    "address",
    "bank_account_name",
    "bank_name",
    "bank_account_number",
    "certificate",
    "status",
]
# What staff verify: changing any of these on a verified organization sends it back to verification.
IDENTITY_FIELDS = [
    "name",
    "uscc",
    "org_type",
    "legal_representative",
    "registration_authority",
    "registration_date",
    "certificate",
]


def identity(organization):
    """The organization's identity as a document issued now shows it (name, USCC, type, legal representative,
    registration, address): stored with the agreement and the public notice, which render from it ever after."""
    return {
        "name": organization.name,
        "uscc": organization.uscc,
        "org_type": organization.org_type,
        "legal_representative": organization.legal_representative,
        "registration_authority": organization.registration_authority,
        "registration_date": organization.registration_date.isoformat() if organization.registration_date else "",
        "address": organization.address,
    }


BANK_FIELDS = ["bank_account_name", "bank_name", "bank_account_number"]


def payee(organization):
    """The account the grant is paid into, as the grant agreement is issued with it (stored with the agreement's
    party beside ``identity``; never on the public notice)."""
    return {name: getattr(organization, name) for name in BANK_FIELDS}


def _column(name):
    """The Organization model field ``name`` (a column of its own, as every identity and audited field is)."""
    field = Organization._meta.get_field(name)
    assert isinstance(field, models.Field), name
    return field


def list_separator():
    return pgettext("list separator", ", ")


def identity_labels():
    """The identity fields' labels as one phrase in the UI language, e.g. for the edit form's warning."""
    return list_separator().join(str(_column(name).verbose_name) for name in IDENTITY_FIELDS)


def _identity_values(organization):
    return {
        name: organization.certificate.name if name == "certificate" else getattr(organization, name)
        for name in IDENTITY_FIELDS
    }


def _uploaded_name(value) -> str | None:
    """The file name an upload arrived with (None when the form field holds no new upload)."""
    return os.path.basename(str(value.name))[:255] if isinstance(value, UploadedFile) else None


@transaction.atomic
def create_organization(*, by, data):
    data = {**data, "certificate_name": _uploaded_name(data.get("certificate")) or ""}
    organization = Organization.objects.create(**data)
    Membership.objects.create(organization=organization, user=by, is_owner=True)
    record(actor=by, action="organization.create", obj=organization, after=snapshot(organization, AUDITED_FIELDS))
    return organization


@transaction.atomic
def update_organization(*, organization, by, data):
    """Save the profile. Changing an identity field of a verified organization sends it back to 待审核 and tells
    staff; until it is verified again its proposals cannot be submitted. Documents already issued (agreements, the
    public notice) keep the identity they were issued with."""
    stored = Organization.objects.select_for_update().get(pk=organization.pk)  # the form changed ``organization``
    fields = list(dict.fromkeys([*AUDITED_FIELDS, *data]))  # the audited ones and whatever the form edits
    before, before_identity = snapshot(stored, fields), _identity_values(stored)
    for name, value in data.items():
        _column(name).save_form_data(stored, value)
    uploaded = _uploaded_name(data.get("certificate"))
    if uploaded:
        stored.certificate_name = uploaded
    elif not stored.certificate:
        stored.certificate_name = ""
    if snapshot(stored, fields) == before:
        return stored  # saved without a change: nothing to store, audit or re-verify
    stored.save()
    changed = [name for name, value in _identity_values(stored).items() if value != before_identity[name]]
    record(
        actor=by,
        action="organization.update",
        obj=stored,
        before=before,
        after={**snapshot(stored, fields), "identity_changed": changed},
    )
    if changed and stored.status == OrgStatus.VERIFIED:
        labels = list_separator().join(str(_column(name).verbose_name) for name in changed)
        why = _("its identity changed (%(fields)s)") % {"fields": labels}
        # venture.notifications tells staff (organization.pending with identity_changed)
        _transition(stored, OrgStatus.PENDING, by, note=why, after={"identity_changed": changed})
    return stored


def _transition(organization, to, by, reason="", *, action=None, note="", after=None):
    """The one function that changes an organization's status: checks the table and audits; venture.notifications
    tells the members of a verification or a rejection (with its reason) from the audit event."""
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
    record(
        actor=by,
        action=action or f"organization.{to}",
        obj=organization,
        before=before,
        after={"status": to, "reason": reason, **(after or {})},
        note=note,
    )
    return organization


@transaction.atomic
def verify_organization(*, organization, by):
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    return _transition(organization, OrgStatus.VERIFIED, by)


@transaction.atomic
def reject_organization(*, organization, by, reason):
    if not reason.strip():
        raise ValidationError(_("Give the reason for the rejection; the organization will see it."))
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    return _transition(organization, OrgStatus.REJECTED, by, reason)


@transaction.atomic
def resubmit_organization(*, organization, by):
    """A rejected organization, corrected, asks to be verified again: back to 待审核 (audited), staff are told."""
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if organization.status != OrgStatus.REJECTED:
        raise ValidationError(_("Only a rejected organization can be resubmitted for verification."))
    rejected_for = organization.rejection_reason
    _transition(  # venture.notifications tells staff
        organization, OrgStatus.PENDING, by, action="organization.resubmit", after={"rejected_for": rejected_for}
    )
    return organization


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
