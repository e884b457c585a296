"""Where uploads go and how they are checked. Files live under MEDIA_ROOT with server-chosen names (never a path the
user controls), are checked by content (magic bytes) and size, and are only ever served by views that check
permission (see ``venture.uploads.serve``)."""

import os
import uuid
import zipfile

import filetype
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

# extension -> (mime types accepted by content sniffing)
ALLOWED = {
    "pdf": {"application/pdf"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "png": {"image/png"},
    "docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    "xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
}
IMAGES = ("jpg", "jpeg", "png")


def upload_path(instance, filename):
    ext = os.path.splitext(filename)[1].lower().lstrip(".")[:8]
    folder = instance._meta.label_lower.replace(".", "/")
    return f"{folder}/{uuid.uuid4().hex}.{ext}"


def _sniff(head, fileobj):
    kind = filetype.guess(head)
    if kind is None:
        return None
    mime = kind.mime
    if mime == "application/zip":
        # filetype recognises OOXML only by the first entries; look inside the archive to be sure.
        try:
            fileobj.seek(0)
            names = set(zipfile.ZipFile(fileobj).namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return ALLOWED["docx"].copy().pop()
        if "xl/workbook.xml" in names:
            return ALLOWED["xlsx"].copy().pop()
    return mime


def validate_upload(upload, allowed=tuple(ALLOWED)):
    """Raise ValidationError unless ``upload`` is an allowed type by extension AND by content, within the size cap."""
    if upload is None:
        return
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is %(size).1f MB; at most 20 MB is allowed."), params={"size": upload.size / 1024 / 1024}
        )
    ext = os.path.splitext(upload.name)[1].lower().lstrip(".")
    if ext not in allowed:
        raise ValidationError(
            _("Files of type .%(ext)s are not accepted. Allowed: %(allowed)s."),
            params={"ext": ext or "?", "allowed": ", ".join(sorted({a.upper() for a in allowed}))},
        )
    upload.seek(0)
    head = upload.read(2048)
    mime = _sniff(head, upload)
    upload.seek(0)
    if mime not in ALLOWED[ext]:
        raise ValidationError(
            _("The content of “%(name)s” is not a real %(ext)s file."), params={"name": upload.name, "ext": ext.upper()}
        )


def serve(fieldfile, download_name=None):
    """Stream a stored file after the caller has checked permission. Always as an attachment, with nosniff."""
    fieldfile.open("rb")
    name = download_name or os.path.basename(fieldfile.name)
    response = FileResponse(fieldfile, as_attachment=True, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    return response
