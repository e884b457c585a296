"""PDF rendering: the only module that imports WeasyPrint.

    pdf_bytes = render_pdf("pdf/venture/awards/public_notice.html", {"competition": competition}, request=request)
    return pdf_response(pdf_bytes, f"{competition.title}-公示.pdf")

Templates extend ``pdf/base.html`` (A4, running header, "page X of Y" footer, table and page-break helpers, a
table of contents in ``pdf/_toc.html``); ``static/css/print.css`` is the stylesheet, read from disk. Chinese text is
set in "Noto Sans CJK SC", found by family name through fontconfig (``check_environment`` says how to install it).

Nothing leaves the machine while rendering: every stylesheet, image and font URL goes through ``fetch_local``,
which serves project static files (by their ``{% static %}`` URL on the site's own origin, or by a ``file:`` path
inside a static folder) and ``data:`` URIs, and refuses everything else. A refused resource is left out of the PDF
and WeasyPrint logs a warning naming it.

WeasyPrint runs in a child process (see "Rendering" below), so the web worker never holds its memory; a failure
there is raised here as ``RenderError`` with the child's traceback. The child ends with its document, except in a
process that renders documents one after another (the task worker: ``PDF_RENDERER_KEEP_SECONDS``), where it renders
the next one too. This module imports WeasyPrint only in
that process, never at import time: ``manage.py`` stays fast, and the system check below can still report what is
missing on a machine where WeasyPrint's libraries cannot load.
"""

import ctypes
import functools
import gc
import logging
import mimetypes
import multiprocessing
import posixpath
import re
import shutil
import subprocess
import threading
import time
import traceback
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import DataHandler, Request, url2pathname

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import checks
from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils._os import safe_join
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

FONT_FAMILY = "Noto Sans CJK SC"
PRINT_CSS = Path(__file__).resolve().parent.parent / "static" / "css" / "print.css"  # BASE_DIR, without the settings

# The same packages scripts/system-deps.sh installs.
FONT_APT_COMMAND = "sudo apt-get install -y --no-install-recommends fonts-noto-cjk fontconfig"
HB_SUBSET_APT_COMMAND = "sudo apt-get install -y --no-install-recommends libharfbuzz-subset0"
# The names WeasyPrint itself tries (weasyprint/text/ffi.py), in the same order.
HB_SUBSET_LIBRARIES = ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib", "libharfbuzz-subset-0.dll")
FONTCONFIG_LIBRARIES = ("libfontconfig.so.1", "libfontconfig.1.dylib", "libfontconfig-1.dll")


# --- Environment check -------------------------------------------------------------------------------------------


def _load_library(names):
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def library_available(names):
    """True when one of ``names`` can be loaded the way WeasyPrint loads it (dlopen by soname)."""
    return _load_library(names) is not None


def font_family_installed(family):
    """True when fontconfig lists a font of exactly this family (no substitute), like ``fc-list :family=<family>``."""
    lib = _load_library(FONTCONFIG_LIBRARIES)
    if lib is None:
        fc_list = shutil.which("fc-list")
        if fc_list is None:
            return False
        result = subprocess.run([fc_list, f":family={family}", "family"], capture_output=True, text=True, timeout=30)
        return bool(result.stdout.strip())

    class FcFontSet(ctypes.Structure):
        _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.c_void_p)]

    lib.FcPatternCreate.restype = ctypes.c_void_p
    lib.FcPatternAddString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.FcObjectSetCreate.restype = ctypes.c_void_p
    lib.FcObjectSetAdd.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.FcFontList.restype = ctypes.POINTER(FcFontSet)
    lib.FcFontList.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.FcFontSetDestroy.argtypes = [ctypes.POINTER(FcFontSet)]
    lib.FcPatternDestroy.argtypes = [ctypes.c_void_p]
    lib.FcObjectSetDestroy.argtypes = [ctypes.c_void_p]

    pattern = lib.FcPatternCreate()
    objects = lib.FcObjectSetCreate()
    try:
        lib.FcPatternAddString(pattern, b"family", family.encode())
        lib.FcObjectSetAdd(objects, b"family")
        font_set = lib.FcFontList(None, pattern, objects)  # None: the default configuration, as WeasyPrint uses
        if not font_set:
            return False
        try:
            return font_set.contents.nfont > 0
        finally:
            lib.FcFontSetDestroy(font_set)
    finally:
        lib.FcObjectSetDestroy(objects)
        lib.FcPatternDestroy(pattern)


def check_environment(*, font_lookup=font_family_installed, library_lookup=library_available):
    """What this machine lacks to render PDFs well, as ``checks.Warning`` objects (an empty list when all is fine).

    Each warning's hint is the exact apt command that fixes it. ``font_lookup(family) -> bool`` and
    ``library_lookup(names) -> bool`` are the two lookups; tests pass their own to simulate a bare machine.
    """
    problems = []
    if not font_lookup(FONT_FAMILY):
        problems.append(
            checks.Warning(
                _("The font “%(family)s” is not installed: Chinese text in PDFs would be missing or in another font.")
                % {"family": FONT_FAMILY},
                hint=_("Install it with: %(command)s") % {"command": FONT_APT_COMMAND},
                id="venture.W001",
            )
        )
    if not library_lookup(HB_SUBSET_LIBRARIES):
        problems.append(
            checks.Warning(
                _(
                    "libharfbuzz-subset.so.0 is missing: WeasyPrint falls back to fontTools to subset fonts, "
                    "and a PDF page then takes 10 seconds or more."
                ),
                hint=_("Install it with: %(command)s") % {"command": HB_SUBSET_APT_COMMAND},
                id="venture.W002",
            )
        )
    return problems


@checks.register("pdf")
def pdf_environment_check(app_configs=None, **kwargs):
    return check_environment()


# --- Fetching: local static files and data: URIs only ------------------------------------------------------------


class FetchRefused(ValueError):
    """A PDF asked for a resource that is not a project static file or a data: URI."""


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}" if parts.scheme in ("http", "https") else None


def _static_roots():
    roots = [Path(settings.BASE_DIR) / "static", Path(settings.STATIC_ROOT)]
    for entry in settings.STATICFILES_DIRS:
        roots.append(Path(entry[1] if isinstance(entry, tuple | list) else entry))
    return [root.resolve() for root in roots]


def _find_static(name):
    """The file behind a ``{% static name %}`` URL: from the finders, else STATIC_ROOT (hashed names)."""
    name = posixpath.normpath(name)
    if name.startswith(("/", "..")) or name == ".":
        return None
    try:
        found = finders.find(name)
        if found:
            return Path(found)
        candidate = Path(safe_join(settings.STATIC_ROOT, name))
    except SuspiciousFileOperation:
        return None
    return candidate if candidate.is_file() else None


def fetch_local(url, *, origin):
    """Return ``(body_bytes, mime_type)`` for ``url`` if it is allowed, else raise ``FetchRefused``.

    Allowed: ``data:`` URIs; ``<origin><STATIC_URL>…`` (what ``{% static %}`` produces on the site the PDF is made
    for), read from disk; ``file:`` URLs inside a static folder. No network access, ever.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    path = None
    if scheme == "data":
        with DataHandler().data_open(Request(url)) as response:
            return response.read(), response.headers.get_content_type()
    if scheme == "file" and parts.netloc in ("", "localhost"):
        candidate = Path(url2pathname(parts.path)).resolve()
        if candidate.is_file() and any(candidate.is_relative_to(root) for root in _static_roots()):
            path = candidate
    elif scheme in ("http", "https") and origin is not None and _origin(url) == origin:
        static_prefix = urlsplit(settings.STATIC_URL).path
        request_path = unquote(parts.path)
        if request_path.startswith(static_prefix):
            path = _find_static(request_path[len(static_prefix) :])
    if path is None:
        raise FetchRefused(f"Refused to fetch {url!r}: PDFs may only use project static files and data: URIs.")
    return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"


# --- Rendering ---------------------------------------------------------------------------------------------------
#
# WeasyPrint runs in a child process that ends with the document, never in the web worker: laying out a 500-project
# results report takes it some 170 MB (the boxes of every page, the CJK font files it subsets), which a long-lived
# worker would keep as its resident size. The worker renders the template (it has the request and the database) and
# the footer (it has the language); the child lays out and writes the PDF and asks the worker for every file the
# document refers to, so ``fetch_local`` decides where the settings are; the child never reads them. Children are
# forked from multiprocessing's fork server, started on the first render with WeasyPrint imported, and ending with
# the worker; where there is no fork server (Windows) each child is a fresh interpreter.
#
# A fresh child costs nearly a third of an application book's CPU time (starting it, then WeasyPrint's, cffi's and
# the fonts' caches warming up: 1.25 s of CPU a book against 0.88 s in a kept child). Where documents come one after
# another (the task worker rendering the final documents: ``PDF_RENDERER_KEEP_SECONDS`` > 0, set for the worker
# only), the child is kept for the next document while it is used within that many seconds, renders at most
# ``PDF_RENDERER_KEEP_DOCUMENTS`` documents and stays under ``PDF_RENDERER_KEEP_MAX_KIB`` of resident memory after a
# document; otherwise it ends, and by itself once idle for those seconds. A document that fails ends its child. With
# 0 (the web workers, the default) each document has its own child, as before.

RENDER_TIMEOUT = 110  # seconds: under gunicorn's --timeout 120 (docs/deploy.md)
logger = logging.getLogger(__name__)

# One child at a time per worker process, so that a worker's PDFs never add up in memory.
_LOCK = threading.Lock()
_kept = None  # the renderer kept for the next document: _Renderer, or None (read and set under _LOCK)


class RenderError(RuntimeError):
    """The PDF could not be made: WeasyPrint raised (the message carries its traceback) or its process died."""


@functools.cache
def _process_context():
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # Imported once, by the server, rather than by every child. "__main__" is multiprocessing's default: Python 3.11's
    # server skips it, and every child imports the main script itself (gunicorn's and manage.py's are small; a script
    # that renders PDFs must import without side effects, multiprocessing's rule).
    context.set_forkserver_preload(["__main__", "weasyprint", __name__])
    return context


def _css_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ") + '"'


def page_counter_content(label):
    """CSS ``content`` for a footer like ``label`` ("Page %(n)s of %(total)s"), with page counters in place."""
    pieces = []
    for token in re.split(r"(%\(n\)s|%\(total\)s)", label):
        if token == "%(n)s":
            pieces.append("counter(page)")
        elif token == "%(total)s":
            pieces.append("counter(pages)")
        elif token:
            pieces.append(_css_string(token))
    return " ".join(pieces)


def render_pdf(template_name, context, *, request=None, base_url=None):
    """Render a Django template (extending ``pdf/base.html``) to PDF bytes.

    ``base_url`` resolves relative URLs and is the only web origin static files are served from (from disk);
    by default the site of ``request``, else ``settings.SITE_URL``. Links in the PDF point there too.
    Raises ``RenderError`` when WeasyPrint fails.
    """
    html = render_to_string(template_name, context, request=request)
    if base_url is None:
        base_url = request.build_absolute_uri("/") if request is not None else settings.SITE_URL.rstrip("/") + "/"
    # Same wording as the on-screen pagination (one msgid, already translated): 第 X 页，共 Y 页 / Page X of Y.
    footer = f"@page {{ @bottom-center {{ content: {page_counter_content(_('Page %(n)s of %(total)s'))}; }} }}"
    return write_pdf(html, base_url=str(base_url), footer_css=footer, name=template_name)


def write_pdf(html, *, base_url, footer_css="", name="document", timeout=RENDER_TIMEOUT):
    """PDF bytes of ``html`` with ``print.css`` and ``footer_css``, made by WeasyPrint in a child process.

    While it works, the child's log records (WeasyPrint's warnings, e.g. a refused image) are logged here under their
    own logger names, and its requests for files are answered with ``fetch_local`` for the origin of ``base_url``.
    Raises ``RenderError`` when WeasyPrint raises, the child dies, or it takes longer than ``timeout`` seconds.
    """
    global _kept
    keep = settings.PDF_RENDERER_KEEP_SECONDS
    with _LOCK:
        started = time.monotonic()
        renderer, _kept = _kept, None
        reused = renderer is not None and renderer.usable(keep)
        if renderer is not None and not reused:
            renderer.stop()
        if not reused:
            renderer = _Renderer.start(_process_context())
        try:
            try:
                renderer.conn.send(
                    (
                        html,
                        base_url,
                        str(PRINT_CSS),
                        footer_css,
                        logging.getLogger("weasyprint").getEffectiveLevel(),
                        keep,
                    )
                )
            except OSError:
                pass  # it died at once: _serve says so, with its exit code
            pdf, peak_kib, resident_kib = _serve(
                renderer.conn, renderer.process, origin=_origin(base_url), deadline=started + timeout
            )
        except BaseException:
            renderer.stop()
            raise
        renderer.documents += 1
        renderer.used_at = time.monotonic()
        if (
            keep > 0
            and renderer.documents < settings.PDF_RENDERER_KEEP_DOCUMENTS
            and resident_kib is not None
            and resident_kib <= settings.PDF_RENDERER_KEEP_MAX_KIB
        ):
            _kept = renderer
        else:
            renderer.stop()
    pid = renderer.process.pid
    logger.info(
        "PDF %s rendered in process %s: %.2f s, %d KiB, peak resident memory %s MiB",
        name,
        pid,
        time.monotonic() - started,
        len(pdf) // 1024,
        peak_kib // 1024 if peak_kib else "?",
        extra={"renderer_pid": pid, "renderer_peak_kib": peak_kib, "renderer_reused": reused},
    )
    return pdf


class _Renderer:
    """A renderer child and this process's end of its pipe."""

    def __init__(self, process, conn):
        self.process, self.conn = process, conn
        self.documents = 0
        self.used_at = time.monotonic()

    @classmethod
    def start(cls, context):
        ours, theirs = context.Pipe()
        child = context.Process(target=_child, args=(theirs,), name="venture-pdf", daemon=True)
        try:
            child.start()
        except Exception as exc:
            ours.close()
            raise RenderError(f"The PDF renderer process could not be started: {exc!r}") from exc
        finally:
            theirs.close()
        return cls(child, ours)

    def usable(self, keep):
        """Kept for this document: still alive, and used recently enough that it is not ending by itself (it waits
        ``keep`` seconds for the next document; half of that leaves a margin)."""
        return keep > 0 and self.process.is_alive() and time.monotonic() - self.used_at < keep / 2

    def stop(self):
        """End the child: it ends by itself once its pipe is closed (or after its document); killed if it does not."""
        self.conn.close()
        if self.process.pid is not None:
            self.process.join(5)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()


def stop_renderer():
    """End the renderer kept for the next document, if any (a worker that shuts down; tests)."""
    global _kept
    with _LOCK:
        renderer, _kept = _kept, None
        if renderer is not None:
            renderer.stop()


def _serve(conn, child, *, origin, deadline):
    """Answer the child until it sends the PDF: returns (PDF bytes, the child's peak resident memory while it made
    it and its resident memory after, in KiB)."""
    while True:
        if not conn.poll(max(0.0, deadline - time.monotonic())):
            child.kill()
            raise RenderError("The PDF renderer took too long and was stopped.")
        try:
            kind, *message = conn.recv()
        except EOFError:
            child.join(5)
            raise RenderError(
                f"The PDF renderer process ended without a result (exit code {child.exitcode})."
            ) from None
        if kind == "fetch":
            try:
                answer = ("file", *fetch_local(message[0], origin=origin))
            except Exception as exc:  # refused, unreadable: the child raises it, WeasyPrint logs it and goes on
                answer = ("refused", str(exc))
            try:
                conn.send(answer)
            except OSError:  # the child died while it waited for the file: the next recv() reports its exit code
                pass
        elif kind == "log":
            name, level, text = message
            logging.getLogger(name).log(level, "%s", text)
        elif kind == "error":
            summary, trace = message
            raise RenderError(f"WeasyPrint failed: {summary}\n\nTraceback in the PDF renderer process:\n{trace}")
        else:  # "done"
            return message


class _PipeLogHandler(logging.Handler):
    def __init__(self, conn):
        super().__init__()
        self.conn = conn

    def emit(self, record):
        self.conn.send(("log", record.name, record.levelno, record.getMessage()))


def _memory_kib():
    """This process's peak resident memory since the last ``_reset_peak`` (VmHWM) and its resident memory now
    (VmRSS), in KiB; (None, None) where /proc is not there."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None, None
    return tuple(int(re.search(rf"^{field}:\s+(\d+)", status, flags=re.M).group(1)) for field in ("VmHWM", "VmRSS"))


def _reset_peak():
    """Start measuring the peak resident memory afresh (Linux: "5" to clear_refs), so that a kept renderer reports
    each document's own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _child(conn):
    """The renderer process: receives the HTML, sends log records and file requests, then the PDF or the error; then
    waits for the next document if it is to be kept (up to ``keep`` seconds), else ends."""
    try:
        message = conn.recv()
        weasyprint_logger = logging.getLogger("weasyprint")
        weasyprint_logger.addHandler(_PipeLogHandler(conn))
        weasyprint_logger.propagate = False
        # WeasyPrint is imported in the renderer child only: the worker never loads it (see the module docstring).
        import weasyprint  # noqa: PLC0415 — renderer child only
        from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415 — renderer child only
        from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: PLC0415 — renderer child only

        class ParentFetcher(URLFetcher):
            """Every file, from the worker's ``fetch_local``; its refusal is raised here for WeasyPrint to log."""

            def __init__(self):
                super().__init__(allowed_protocols=("data", "file", "http", "https"))

            def fetch(self, url, headers=None):
                conn.send(("fetch", url))
                kind, *answer = conn.recv()
                if kind == "refused":
                    raise FetchRefused(answer[0])
                body, mime_type = answer
                return URLFetcherResponse(url, body, headers={"Content-Type": mime_type})

        while True:
            html, base_url, print_css, footer_css, log_level, keep = message
            _reset_peak()
            weasyprint_logger.setLevel(log_level)
            font_config = FontConfiguration()
            # Both are user-origin sheets: a template's own <style> (author origin) overrides them.
            stylesheets = [
                weasyprint.CSS(filename=print_css, url_fetcher=ParentFetcher(), font_config=font_config),
                weasyprint.CSS(string=footer_css, url_fetcher=ParentFetcher(), font_config=font_config),
            ]
            document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=ParentFetcher())
            pdf = document.write_pdf(font_config=font_config, stylesheets=stylesheets)
            del document, stylesheets, font_config
            gc.collect()  # the document's boxes and font copies (some 40 MB) are in cycles: freed now, not later
            conn.send(("done", pdf, *_memory_kib()))
            del pdf
            if keep <= 0 or not conn.poll(keep):
                break
            message = conn.recv()  # EOFError when the worker closed the pipe: the end
    except EOFError:
        pass
    except BaseException as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\"]+')


def pdf_response(pdf_bytes, filename):
    """A download of ``pdf_bytes`` named ``filename`` (Chinese names sent as RFC 5987 ``filename*``)."""
    filename = _UNSAFE_FILENAME.sub("_", filename).strip() or "document.pdf"
    response = HttpResponse(pdf_bytes, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
