"""Permission rules of the notifications: everyone signed in has an inbox and sees only their own messages."""

from venture.permissions import is_staff, register


def signed_in(user, obj=None):
    return user is not None and user.is_authenticated and user.is_active


def own_notification(user, notification=None):
    return signed_in(user) and (notification is None or notification.user_id == user.pk)


register("notification.inbox", signed_in)
register("notification.read", own_notification)
register("notification.settings", is_staff)
