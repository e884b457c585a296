"""The roles a user account can have. A module of its own, below every app, so that the permission core
(``venture.permissions``) can name roles without importing the accounts app; ``venture.accounts.models`` uses it for
``User.role`` and re-exports it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    JUDGE = "judge", _("Judge")
    STAFF = "staff", _("Union staff")
    SUPERVISOR = "supervisor", _("Supervisor")
    AUDITOR = "auditor", _("Auditor")
