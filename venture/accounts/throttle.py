"""Login throttling with django-axes, tuned so that it cannot be turned against the account holder.

* A lock falls on a username *from one client address* (``AXES_LOCKOUT_PARAMETERS``): five wrong passwords for
  ``staff`` from one address keep that address out, while the staff member still signs in from their own desk.
* One address is also limited across all usernames (``LOGIN_ADDRESS_FAILURE_LIMIT``), against password spraying.
* Unknown usernames count and lock exactly like real ones, and the locked answer costs one password hash, like a
  wrong password does, so neither the answer nor its timing tells whether the username exists.
* Every lock is written to the audit trail; unlocking from the admin is audited with the staff member who did it.
"""

from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Sum
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from venture.audit.services import record

from .forms import LoginForm

LOCKED_MESSAGE = _(
    "Too many failed attempts from this address. Try again in a few minutes, or ask the union staff to unlock it."
)


def failure_limit(request=None, credentials=None):
    return settings.LOGIN_FAILURE_LIMIT


def cool_off(request=None):
    return timedelta(minutes=settings.LOGIN_LOCK_MINUTES)


def _failures(queryset):
    return queryset.aggregate(n=Sum("failures_since_start"))["n"] or 0


class ThrottleHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials=None):
        """Failures that count against this attempt, on the scale of ``AXES_FAILURE_LIMIT``.

        axes applies one limit to every lockout parameter; the per-address limit across usernames is larger, so it is
        mapped onto that scale here: reaching it counts as reaching the username-and-address limit."""
        by_username_and_address, by_address = self.get_user_attempts(request, credentials)
        failures = _failures(by_username_and_address)
        if _failures(by_address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            failures = max(failures, failure_limit())
        return failures

    def reset_user_attempts(self, request, credentials=None):
        """A successful sign-in clears that username's failures from that address only: the address's count across
        usernames stays, or one valid account would let a password sprayer start again."""
        by_username_and_address, _by_address = self.filter_user_attempts(request, credentials)
        return by_username_and_address.delete()[0]

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        was_locked = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is not None and getattr(request, "axes_locked_out", False) and not was_locked:
            username = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD) or (credentials or {}).get(
                "username", ""
            )
            record(
                actor=None,
                action="login.locked",
                object_type="login",
                note=f"{username} @ {request.axes_ip_address}",
                after={
                    "username": username,
                    "ip_address": request.axes_ip_address,
                    "minutes": settings.LOGIN_LOCK_MINUTES,
                },
            )


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, with the same message whoever the username is, after the same work as a wrong password
    (one hash of what was typed), so that a locked answer is neither shorter nor faster than a refused one."""

    make_password(request.POST.get("password", ""))
    form = LoginForm(request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "locked_message": LOCKED_MESSAGE, "next": request.POST.get("next", "")}
    return render(request, "accounts/login.html", context, status=429)


@transaction.atomic
def unlock(*, attempts, by):
    """Remove the failed-attempt records (and so the lock) of the given AccessAttempt rows, audited."""
    for attempt in attempts:
        record(
            actor=by,
            action="login.unlocked",
            object_type="login",
            note=f"{attempt.username} @ {attempt.ip_address}",
            before={
                "username": attempt.username,
                "ip_address": attempt.ip_address,
                "failures": attempt.failures_since_start,
            },
        )
        attempt.delete()
