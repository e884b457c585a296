"""The session policy, checked on every request of a signed-in user (issue #16):

* an absolute lifetime from sign-in (``SESSION_ABSOLUTE_HOURS``) and an idle timeout by role
  (``SESSION_IDLE_MINUTES_PRIVILEGED`` for staff, auditors and supervisors, ``SESSION_IDLE_MINUTES`` for others);
* the second factor: a user who has enrolled, or whose role must (``TWO_FACTOR_ROLES``), reaches nothing but the
  verification or enrolment page until a code is verified in this session.

The time stamps live in the session (written at sign-in by ``venture.accounts.signals``); "last seen" is written at
most once a minute, so an ordinary request costs no extra query.
"""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from . import two_factor

SESSION_SIGNED_IN_AT = "signed_in_at"
SESSION_SEEN_AT = "seen_at"
SEEN_RESOLUTION = 60  # seconds


def idle_limit_seconds(user):
    minutes = (
        settings.SESSION_IDLE_MINUTES_PRIVILEGED
        if two_factor.effective_role(user) in settings.PRIVILEGED_ROLES
        else settings.SESSION_IDLE_MINUTES
    )
    return minutes * 60


def _open_paths():
    """Pages a signed-in user who still owes a second factor may reach."""
    return (
        reverse("two_factor_verify"),
        reverse("two_factor_setup"),
        reverse("logout"),
        reverse("set_language"),
        settings.STATIC_URL,
    )


def _background(request):
    """An htmx request of a page (a fragment it loads): a redirect would swap a whole page into the fragment."""
    return request.headers.get("HX-Request") == "true"


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self.check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def check(self, request, user):
        now = int(time.time())
        session = request.session
        signed_in_at = session.get(SESSION_SIGNED_IN_AT)
        seen_at = session.get(SESSION_SEEN_AT)
        if signed_in_at is None:  # a session from before this policy: start counting now
            session[SESSION_SIGNED_IN_AT] = session[SESSION_SEEN_AT] = now
            signed_in_at = seen_at = now
        if now - signed_in_at > settings.SESSION_ABSOLUTE_HOURS * 3600 or now - seen_at > idle_limit_seconds(user):
            logout(request)
            messages.info(request, _("You were signed out after a period without activity. Please sign in again."))
            if _background(request):  # the page as a whole goes to the login, not a fragment of it
                response = HttpResponse(status=204)
                page = urlsplit(request.headers.get("HX-Current-URL", "/"))
                back = page.path + (f"?{page.query}" if page.query else "")
                response["HX-Redirect"] = f"{reverse('login')}?{urlencode({'next': back})}"
                return response
            return redirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        if now - seen_at >= SEEN_RESOLUTION:
            session[SESSION_SEEN_AT] = now
        if session.get(two_factor.SESSION_PENDING) and not user.is_verified():
            if not request.path.startswith(_open_paths()):
                if _background(request):  # e.g. the bell's count on the enrolment page: nothing to swap in
                    return HttpResponse(status=204)
                target = "two_factor_verify" if two_factor.is_enrolled(user) else "two_factor_setup"
                return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return None
