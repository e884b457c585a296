"""Who may do what: one table of action -> predicate(user, obj), used by every view and template.

Views call ``require(user, action, obj)`` or fetch and check at once with ``get_for(user, action, queryset, pk=...)``.
For an object the user may not see, both answer 404 (Http404), the same as a missing object, so ids leak nothing.
For a page without an object (a staff dashboard) ``require`` answers 403. Templates ask the same table with
``{% if user|can:"audit.browse" %}`` or ``{% can user "proposal.edit" proposal as ok %}``.

This module is the core: the table, the role predicates and the membership helpers. It imports no app. Each app
fills the table with its own actions in its ``rules.py`` (as pretalx's per-app rules feed one registry), loaded from
its ``AppConfig.ready()`` by ``load_rules``. An app registers the actions on its own objects with ``register``; a
higher app that lets more people do a lower app's action (a judge cleared of conflicts may read the proposal) adds
its predicate with ``extend``, so the lower app never has to know about it.
"""

from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from venture.roles import Role

# predicate(user, obj): truthy when the user may do the action on obj (obj is None for a page without an object)
Predicate = Callable[[Any, Any], object]

# action -> the predicate of the app that owns the action
_RULES: dict[str, Predicate] = {}
# action -> predicates added by higher apps; the action is allowed when the owner's or any of these says yes
_EXTENSIONS: dict[str, list[Predicate]] = {}


def register(action, predicate):
    """Add ``action`` to the table (once: a second registration of the same name is a programming error)."""
    if action in _RULES:
        raise ImproperlyConfigured(f"Permission action {action!r} is registered twice")
    _RULES[action] = predicate
    return predicate


def extend(action, predicate):
    """Allow a lower app's ``action`` also to whoever ``predicate`` accepts (asked after the owner's predicate)."""
    _EXTENSIONS.setdefault(action, []).append(predicate)
    return predicate


def load_rules(app_config):
    """Import ``<app>.rules``, which registers the app's actions; called from the app's ``AppConfig.ready()``."""
    import_module(f"{app_config.name}.rules")


def registered_actions():
    return set(_RULES)


def extended_actions():
    return set(_EXTENSIONS)


def _auth(user):
    return user is not None and user.is_authenticated and user.is_active


def has_role(*roles):
    def predicate(user, obj=None):
        return _auth(user) and (user.role in roles or (user.is_superuser and Role.STAFF in roles))

    predicate.__name__ = "has_role_" + "_".join(roles)
    return predicate


is_staff = has_role(Role.STAFF)
is_auditor = has_role(Role.AUDITOR)
is_judge = has_role(Role.JUDGE)
is_supervisor = has_role(Role.SUPERVISOR)
is_applicant = has_role(Role.APPLICANT)
staff_or_auditor = has_role(Role.STAFF, Role.AUDITOR)
union_side = has_role(Role.STAFF, Role.AUDITOR, Role.SUPERVISOR)


def member_org_ids(user):
    """Ids of the organizations the user belongs to, cached on the user object for the request."""
    if not _auth(user):
        return frozenset()
    cached = getattr(user, "_member_org_ids", None)
    if cached is None:
        cached = frozenset(user.memberships.values_list("organization_id", flat=True))
        user._member_org_ids = cached
    return cached


def owner_org_ids(user):
    if not _auth(user):
        return frozenset()
    cached = getattr(user, "_owner_org_ids", None)
    if cached is None:
        cached = frozenset(user.memberships.filter(is_owner=True).values_list("organization_id", flat=True))
        user._owner_org_ids = cached
    return cached


def is_member_of(user, organization):
    return organization is not None and organization.pk in member_org_ids(user)


def any_of(*predicates):
    def predicate(user, obj=None):
        return any(p(user, obj) for p in predicates)

    return predicate


def can(user, action, obj=None):
    try:
        predicate = _RULES[action]
    except KeyError as exc:
        raise KeyError(f"Unknown permission action {action!r}; register it in the owning app's rules.py") from exc
    return bool(predicate(user, obj)) or any(p(user, obj) for p in _EXTENSIONS.get(action, ()))


def require(user, action, obj=None):
    """Raise unless ``user`` may do ``action`` (on ``obj``): 404 for an object, 403 for a page without one."""
    if not can(user, action, obj):
        if obj is not None:
            raise Http404
        raise PermissionDenied
    return obj


def get_for(user, action, queryset, **lookup):
    """Fetch one object and check permission together; not found and not yours look the same (404)."""
    obj = get_object_or_404(queryset, **lookup)
    if not can(user, action, obj):
        raise Http404
    return obj
