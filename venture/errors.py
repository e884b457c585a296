"""Errors shown to people: the error pages in the user's language, rendered from our templates (never Django's
English defaults), and a service's refusal turned into a message on the next page."""

import logging

from django.contrib import messages
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    # No context processors that could fail again: a plain template.
    return HttpResponseServerError(loader.get_template("errors/500.html").render({}))


def error_text(exc):
    """A service's refusal as one line: the messages of a ValidationError (all of them, field errors included), or
    the text of any other exception (a ValueError from a bad choice)."""
    return " ".join(getattr(exc, "messages", [str(exc)]))


def flash_error(request, exc):
    """Show a service's refusal (``error_text``) as an error message on the next page."""
    messages.error(request, error_text(exc))


class QuietForbidden(logging.Filter):
    """An ordinary 403 (someone opened a page their role does not allow) is logged as the one line Django writes,
    without the traceback of the PermissionDenied that produced it; a traceback is kept for what needs one."""

    def filter(self, record):
        if getattr(record, "status_code", None) == 403:
            record.exc_info, record.exc_text = None, None
        return True
