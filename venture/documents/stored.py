"""Final documents, rendered once in the background and served as kept.

A *kind* of final document (``register``; the kinds are in ``final``) knows how to load its object from an id, what
of the object the document shows that can still change (``state``: None while the document is not final, and then
rendered on demand as before), and how to render it. ``serve`` answers a request: the stored file when it is ready (a
read from the media storage), else the "being prepared" page, which reloads itself, after enqueueing the rendering.
``prepare`` enqueues the rendering when the object becomes final (the audit actions in ``final``), so the document is
usually ready before anyone asks. ``render_document`` is the task: idempotent (a state already rendered is left as
it is), retried on failure like every background task.

A variant is the language, and for the application books whether the reader may see the organizations' contact
details (``:contacts``): each variant is its own file.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.shortcuts import render
from django.utils import timezone, translation

from venture.background.tasks import background_task
from venture.pdf import pdf_response

from .models import DocumentStatus, StoredDocument

log = logging.getLogger(__name__)
REFRESH_SECONDS = 3


@dataclass(frozen=True)
class Kind:
    name: str
    load: Callable[[int], Any]  # the object of that id, with what rendering needs
    state: Callable[[Any], object]  # what of it the document shows that may still change; None: not final yet
    render: Callable[..., bytes]  # render(obj, contacts=bool) -> PDF bytes, in the active language
    audience: bool = False  # True: a version with the contact details and one without
    priority: int = 0  # of its rendering in the queue


KINDS: dict[str, Kind] = {}


def register(kind):
    KINDS[kind.name] = kind
    return kind


def state_of(kind, obj):
    """The SHA-256 of the object's final state as the kind describes it, or None while it is not final."""
    described = kind.state(obj)
    if described is None:
        return None
    return hashlib.sha256(repr(described).encode()).hexdigest()


def variant(kind, *, language=None, contacts=False):
    language = language or translation.get_language() or "zh-hans"
    return f"{language}:contacts" if kind.audience and contacts else language


def prepare(kind_name, obj, *, language=None, contacts=False):
    """The StoredDocument of ``obj``'s current final state in this variant (None when the document is not final),
    enqueueing its rendering when there is none yet."""
    kind = KINDS[kind_name]
    state = state_of(kind, obj)
    if state is None:
        return None
    key = {
        "kind": kind.name,
        "object_id": obj.pk,
        "state": state,
        "variant": variant(kind, language=language, contacts=contacts),
    }
    doc = StoredDocument.objects.filter(**key).first()
    if doc is None:
        try:
            with transaction.atomic():
                doc = StoredDocument.objects.create(**key)
        except IntegrityError:  # another request or the worker made it just now
            return StoredDocument.objects.get(**key)
        render_document.using(priority=kind.priority).enqueue(**key)
        doc.refresh_from_db()  # the immediate backend (tests) has rendered it by now
    return doc


def prepare_all(kind_name, objects):
    """Enqueue every variant that is rendered ahead of any request (both languages, with and without contacts)."""
    kind = KINDS[kind_name]
    for obj in objects:
        for language, _name in settings.LANGUAGES:
            for contacts in (True, False) if kind.audience else (False,):
                prepare(kind_name, obj, language=language, contacts=contacts)


@background_task(attempts=4)
def render_document(*, kind, object_id, state, variant):
    """Render one document for one final state and keep it: the file in the media storage, its SHA-256 on the
    row. Nothing to do when that state is rendered already; the row is dropped when the object has moved on to
    another state since (its own rendering is enqueued by then)."""
    doc, _created = StoredDocument.objects.get_or_create(kind=kind, object_id=object_id, state=state, variant=variant)
    if doc.status == DocumentStatus.READY and doc.file and default_storage.exists(doc.file.name):
        return {"document": doc.pk, "sha256": doc.sha256, "rendered": False}
    described = KINDS[kind]
    obj = described.load(object_id)
    if state_of(described, obj) != state:
        doc.delete()
        return {"document": None, "superseded": True}
    language, _sep, audience = variant.partition(":")
    try:
        with translation.override(language):
            pdf = described.render(obj, contacts=audience == "contacts")
    except Exception as exc:
        StoredDocument.objects.filter(pk=doc.pk).update(error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    digest = hashlib.sha256(pdf).hexdigest()
    name = default_storage.save(
        f"documents/{kind}/{object_id}/{state[:16]}-{variant.replace(':', '-')}-{digest[:8]}.pdf", ContentFile(pdf)
    )
    doc.file.name, doc.sha256, doc.size = name, digest, len(pdf)
    doc.status, doc.error, doc.rendered_at = DocumentStatus.READY, "", timezone.now()
    doc.save(update_fields=["file", "sha256", "size", "status", "error", "rendered_at"])
    return {"document": doc.pk, "sha256": digest, "rendered": True}


def stored_response(doc, filename):
    with default_storage.open(doc.file.name, "rb") as handle:
        response = pdf_response(handle.read(), filename)
    response["X-Document-SHA256"] = doc.sha256
    return response


def serve(request, kind_name, obj, filename, *, on_demand, contacts=False):
    """The response to a request for a document: ``on_demand()`` while it is not final; once final the stored file,
    or the page that says it is being prepared (and reloads itself) until the worker has rendered it. ``filename``
    may be a function of the StoredDocument."""
    doc = prepare(kind_name, obj, contacts=contacts)
    if doc is None:
        return on_demand()
    if callable(filename):  # a name that carries the document's own fingerprint
        filename = filename(doc)
    if doc.status == DocumentStatus.READY:
        return stored_response(doc, filename)
    return preparing(request, doc, filename)


def preparing(request, doc, filename, *, export=False):
    """The page that says ``doc`` is being prepared and reloads itself (202, not to be cached); ``export``: a
    spreadsheet export (``score_matrix``) rather than a final document."""
    response = render(
        request,
        "venture/documents/preparing.html",
        {"document": doc, "filename": filename, "refresh": REFRESH_SECONDS, "export": export},
        status=202,
    )
    response["Refresh"] = str(REFRESH_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
