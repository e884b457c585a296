from decimal import InvalidOperation

from django import template
from django.utils.translation import get_language

from venture import permissions
from venture.fastforms import bootstrap_field
from venture.money import format_money

register = template.Library()


@register.filter
def can(user, action):
    """``{% if user|can:"audit.browse" %}``: an action that needs no object."""
    return permissions.can(user, action)


@register.simple_tag
def can_on(user, action, obj):
    """``{% can_on user "proposal.edit" proposal as ok %}``: an action on one object."""
    return permissions.can(user, action, obj)


@register.filter
def money(value):
    """``venture.money.format_money``: ¥ with two decimals and thousands separators, ``-¥100.00`` when negative;
    blank for None. What is not a number is shown as it is."""
    try:
        return format_money(value)
    except (InvalidOperation, TypeError, ValueError):
        return value


@register.filter
def bs_field(field):
    """``{{ form.title|bs_field }}``: the same markup as crispy's ``as_crispy_field`` (bootstrap5), without the
    template engine (venture/fastforms.py)."""
    return bootstrap_field(field)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag
def colon(space=" "):
    """The colon after a label: full-width "：" in Chinese (no space follows it), ": " in English (``{% colon "" %}``
    where markup, not a space, follows the label)."""
    return "：" if (get_language() or "").startswith("zh") else ":" + space
