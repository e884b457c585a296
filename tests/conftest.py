import os

import pandas as pd
import pytest
from hypothesis import settings as hypothesis_settings

from tests import factories

# Tests read the workbooks the app writes with pandas, through openpyxl as they always have: with python-calamine
# installed (the ledger import reads with it) pandas would warn that its default engine changes in a future version.
pd.set_option("io.excel.xlsx.reader", "openpyxl")

# Hypothesis profiles. The gates are reproducible: "default" (``make test``; each test's own bounds apply, the
# lifecycle state machine is bounded to about a minute) and "long" (HYPOTHESIS_PROFILE=long, CI's PostgreSQL leg,
# many more examples) draw the same examples on every run, so a red CI run is a real regression that the next run
# shows again, not a roll of the dice. "explore" (HYPOTHESIS_PROFILE=explore, ``make explore``) draws new random
# examples each run to hunt for bugs; whatever it finds becomes a regression test and a fix.
hypothesis_settings.register_profile("default", deadline=None, derandomize=True, print_blob=True)
hypothesis_settings.register_profile("long", deadline=None, max_examples=60, derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", deadline=None, max_examples=60, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # Fast hashing, plain static storage (no collectstatic needed), uploads into a temporary folder.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path  # runtime caches (e.g. rendered results reports) go to the test's folder
    settings.LANGUAGE_CODE = "zh-hans"
    # Background tasks run at once, inside the call that enqueues them (tests of the queue itself switch to the
    # database backend); mail still goes through the queue, delivered to Django's test outbox.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.EMAIL_BACKEND = "venture.background.mail.QueuedEmailBackend"
    settings.MAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.DOCUMENTS_PREPARE_WHEN_FINAL = False  # tests/venture/test_stored_documents.py turns it on


@pytest.fixture
def staff(db):
    return factories.user("staff1", role="staff")


@pytest.fixture
def auditor(db):
    return factories.user("auditor1", role="auditor")


@pytest.fixture
def supervisor(db):
    return factories.user("supervisor1", role="supervisor")


@pytest.fixture
def org_a(db):
    return factories.organization(name="甲公益服务中心", owner=factories.user("applicant_a"))


@pytest.fixture
def org_b(db):
    return factories.organization(name="乙社会工作服务中心", owner=factories.user("applicant_b"))


@pytest.fixture
def applicant_a(org_a):
    return org_a.memberships.get().user


@pytest.fixture
def applicant_b(org_b):
    return org_b.memberships.get().user


@pytest.fixture
def competition(db):
    return factories.competition()


def _transactional(request):
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def _migrated_rows_after_a_flush(request, django_db_blocker):
    """A transactional test (or a browser test's live server) ends by flushing the database, which also removes the
    rows the migrations seed, such as the audit chain's head. Put them back, so that the next test on this worker
    starts from the migrated state (its query counts do not depend on the order the tests ran in)."""
    yield
    if _transactional(request):
        from venture.audit.services import ensure_chain_head  # noqa: PLC0415  (Django is set up only by now)

        with django_db_blocker.unblock():
            ensure_chain_head()
