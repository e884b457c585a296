from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from venture.uploads import upload_path

if TYPE_CHECKING:
    from venture.accounts.models import User


class OrgType(models.TextChoices):
    SOCIAL_GROUP = "social_group", _("Social group")
    SOCIAL_SERVICE = "social_service", _("Social service organization / private non-enterprise unit")
    FOUNDATION = "foundation", _("Foundation")
    OTHER = "other", _("Other")


class OrgStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


# Allowed transitions, in one table next to the statuses; venture.organizations.services performs them.
ORG_TRANSITIONS = {
    OrgStatus.PENDING: {OrgStatus.VERIFIED, OrgStatus.REJECTED},
    OrgStatus.REJECTED: {OrgStatus.PENDING},
    OrgStatus.VERIFIED: {OrgStatus.PENDING},
}


class Organization(models.Model):
    name = models.CharField(_("name"), max_length=200)
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    org_type = models.CharField(_("organization type"), max_length=30, choices=OrgType.choices)
    registration_authority = models.CharField(_("registration authority"), max_length=200)
    registration_date = models.DateField(_("registration date"))
    legal_representative = models.CharField(_("legal representative"), max_length=100)
    contact_person = models.CharField(_("contact person"), max_length=100)
    mobile = models.CharField(_("mobile"), max_length=11)
    email = models.EmailField(_("email"))
    address = models.CharField(_("address"), max_length=300)
    # Where the grant is paid: printed on the grant agreement, which keeps the account it was issued with.
    bank_account_name = models.CharField(_("bank account name"), max_length=200, blank=True)
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    bank_account_number = models.CharField(_("bank account number"), max_length=40, blank=True)
    service_area = models.CharField(_("service area"), max_length=200)
    staff_count = models.PositiveIntegerField(_("staff count"), default=0)
    past_projects = models.TextField(_("past projects"), blank=True)
    certificate = models.FileField(_("registration certificate"), upload_to=upload_path, blank=True)
    # The file is stored under a server-chosen name; it downloads under the name it was uploaded with.
    certificate_name = models.CharField(_("certificate file name"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=OrgStatus.choices, default=OrgStatus.PENDING)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    members: "models.ManyToManyField[User, Membership]" = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organizations"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("organizations:detail", args=[self.pk])


class Membership(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    is_owner = models.BooleanField(_("owner"), default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_user_org")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user} @ {self.organization}"


class Invitation(models.Model):
    """The owner invites a colleague by e-mail; the link lets them join (creating an account if needed)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")

    def __str__(self):
        return f"{self.email} → {self.organization}"
