from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from venture.roles import Role

__all__ = ["Role", "User"]


class User(AbstractUser):
    """One account per person. The role decides the home page and, with the permissions table, what they may do.

    Applicants belong to organizations through ``organizations.Membership``; judges have a ``judging.Judge`` profile.
    """

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.APPLICANT)
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    # The previous sign-in, shown to the user at the next one (venture.accounts.signals).
    last_sign_in_at = models.DateTimeField(_("last sign-in"), null=True, blank=True, editable=False)
    last_sign_in_ip = models.GenericIPAddressField(_("last sign-in address"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self):
        return self.full_name or self.get_full_name() or self.username
