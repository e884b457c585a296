from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from venture import permissions

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
    """¥ with two decimals and thousands separators; blank for None."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return value
    return f"¥{amount:,.2f}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
