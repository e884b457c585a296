"""Sign-in bookkeeping (not business flow): the session's time stamps, whether a second factor is owed, and the
"last sign-in" notice with the time and address of the previous sign-in."""

import ipaddress
import time

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from venture.security import client_ip

from . import two_factor
from .middleware import SESSION_SEEN_AT, SESSION_SIGNED_IN_AT


@receiver(user_logged_in, dispatch_uid="venture.accounts.sign_in")
def on_sign_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[SESSION_SIGNED_IN_AT] = request.session[SESSION_SEEN_AT] = now
    request.session[two_factor.SESSION_PENDING] = two_factor.required_for(user) or two_factor.is_enrolled(user)
    previous_at, previous_ip = user.last_sign_in_at, user.last_sign_in_ip
    if previous_at is not None:  # a first sign-in (often right after sign-up) has nothing to report
        notice = _("Last sign-in: %(when)s from %(address)s.") % {
            "when": formats.date_format(timezone.localtime(previous_at), "DATETIME_FORMAT"),
            "address": previous_ip or _("an unknown address"),
        }
        messages.info(request, notice, fail_silently=True)
    type(user).objects.filter(pk=user.pk).update(last_sign_in_at=timezone.now(), last_sign_in_ip=_address(request))


def _address(request):
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None
