from django import template

from venture.notifications.services import unread_count

register = template.Library()


@register.simple_tag
def unread_notifications(user):
    """The number of unread notifications of the signed-in user (one COUNT query), for the navigation bar's bell."""
    if user is None or not user.is_authenticated:
        return 0
    return unread_count(user)
