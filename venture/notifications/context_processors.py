import functools

from .services import unread_count


def unread_notifications(request):
    """``unread_notifications``: the signed-in user's unread count for the bell. A callable, so that the one COUNT
    query runs only on a page that shows it (templates call it), and once per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    return {"unread_notifications": functools.cache(lambda: unread_count(user))}
