"""The manual in the app: the chapters by role with search, one chapter, the "how we judge" explainer."""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render

from venture import permissions

from . import manual


def _readable(request, role):
    """The chapter of ``role`` in the UI language if the user may read it; a visitor is sent to log in first."""
    found = manual.chapter(role)
    if found is None or role == manual.EXPLAINER:
        raise Http404
    return found


def index(request):
    visible = [c for c in manual.chapters() if permissions.can(request.user, "help.chapter", c)]
    query = request.GET.get("q", "").strip()[:100]
    results = manual.search(query, visible) if query else []
    return render(
        request,
        "venture/help/index.html",
        {"chapters": visible, "query": query, "results": results, "explainer": manual.chapter(manual.EXPLAINER)},
    )


def chapter(request, role):
    found = _readable(request, role)
    if not permissions.can(request.user, "help.chapter", found):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    return render(request, "venture/help/chapter.html", {"chapter": found, "body": found.html()})


def explainer(request):
    """How we judge: public, for organizations and anyone reading a published result."""
    found = manual.chapter(manual.EXPLAINER)
    return render(request, "venture/help/chapter.html", {"chapter": found, "body": found.html(), "is_explainer": True})
