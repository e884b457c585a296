"""Work that runs after the response has gone out, so that its duration cannot be read from the response time.

``after_response(response, fn)`` runs ``fn`` once the server has sent ``response`` (Django closes a response after
the last byte is written): in a thread of its own by default, inline at that point when ``DEFERRED_INLINE`` is set
(the test suite, whose data lives in a transaction a thread cannot see). A background worker replaces this later.
"""

import logging
import threading

from django.conf import settings
from django.db import connections
from django.utils import translation

log = logging.getLogger(__name__)
_threads = set()
_lock = threading.Lock()


def _run(fn, language):
    try:
        with translation.override(language):
            fn()
    except Exception:  # the response is gone: nobody to tell but the log
        log.exception("Deferred task %r failed", fn)
    finally:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()
            with _lock:
                _threads.discard(threading.current_thread())


def after_response(response, fn):
    language = translation.get_language()

    def start():
        if getattr(settings, "DEFERRED_INLINE", False):
            _run(fn, language)
            return
        thread = threading.Thread(target=_run, args=(fn, language), daemon=True, name="venture-deferred")
        with _lock:
            _threads.add(thread)
        thread.start()

    response._resource_closers.append(start)
    return response


def join_all(timeout=30):
    """Wait for deferred threads still running (tests, and a graceful shutdown)."""
    with _lock:
        pending = list(_threads)
    for thread in pending:
        thread.join(timeout)
