from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from venture.accounts.models import Role
from venture.audit.services import record

from .models import User


def is_locked(user, now=None):
    now = now or timezone.now()
    return user.locked_until is not None and user.locked_until > now


@transaction.atomic
def register_failed_login(*, username):
    """Count a failed password for an existing account; lock it after LOGIN_FAILURE_LIMIT failures in a row."""
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        return None
    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    user.refresh_from_db(fields=["failed_logins", "locked_until"])
    if user.failed_logins >= settings.LOGIN_FAILURE_LIMIT:
        user.locked_until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
        user.failed_logins = 0
        user.save(update_fields=["locked_until", "failed_logins"])
        record(actor=None, action="account.locked", obj=user, after={"locked_until": user.locked_until})
    return user


def register_successful_login(*, user):
    if user.failed_logins or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)


@transaction.atomic
def sign_up_applicant(*, username, full_name, email, mobile, password):
    user = User(username=username, full_name=full_name, email=email, mobile=mobile, role=Role.APPLICANT)
    user.set_password(password)
    user.save()
    record(actor=user, action="account.signup", obj=user, after={"username": username, "role": user.role})
    return user
