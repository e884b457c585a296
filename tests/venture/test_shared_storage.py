"""Several app processes on one shared storage root (issue #20): what one process stores through Django's storage
API, another process serves, byte for byte. Each process here is a separate Python interpreter with its own data
folder (as on its own machine) sharing only the database and MEDIA_ROOT, a storage root other than the default."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests import factories
from venture.documents.models import StoredDocument

ROOT = Path(__file__).resolve().parents[2]

# The web machine: staff asks for a submitted proposal's application book (202 until it is stored, then the file).
WEB = """
import django, hashlib, json, sys
django.setup()
from django.test import Client
from venture.accounts.models import User
client = Client()
client.force_login(User.objects.get(username=sys.argv[1]))
answer = client.get(sys.argv[2])
body = b"".join(answer.streaming_content) if answer.streaming else answer.content
print(json.dumps({"status": answer.status_code, "sha256": hashlib.sha256(body).hexdigest(),
                  "header": answer.get("X-Document-SHA256"), "bytes": len(body)}))
"""

# The worker machine: works off the database queue (manage.py db_worker's loop), where the rendering waits.
WORKER = """
import django, json
django.setup()
from django.conf import settings
from venture.background.tasks import work_off
import os, sys
print(json.dumps({"ran": work_off(), "media_root": str(settings.MEDIA_ROOT)}), flush=True)
os._exit(0)  # now: the PDF renderer's fork server would hold stdout open until it notices
"""

# Any machine: store bytes through the storage API, or read them back.
STORE = """
import django, hashlib, json, sys
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
if sys.argv[1] == "save":
    name = default_storage.save("uploads/shared/check.bin", ContentFile(sys.argv[2].encode()))
    print(json.dumps({"name": name, "location": default_storage.location}))
else:
    with default_storage.open(sys.argv[2], "rb") as handle:
        print(json.dumps({"sha256": hashlib.sha256(handle.read()).hexdigest(), "location": default_storage.location}))
"""


def database_url():
    """The test database, as the processes' DATABASE_URL: the SQLite file, or the PostgreSQL test database (CI runs
    the suite on both)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def machine(tmp_path, name, shared_media):
    """The environment of one app process: its own data folder, the shared database and storage root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VENTURE_S3_", "DATABASE_URL", "MEDIA_ROOT"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "venture.settings",
            "VENTURE_DATA_DIR": str(tmp_path / name),
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(shared_media),
            "SECRET_KEY": "shared-storage-test",
            "TASKS_BACKEND": "database",
            "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        }
    )
    return env


def run(env, script, *args):
    result = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_a_document_rendered_by_one_process_is_served_by_another(tmp_path):
    staff = factories.user("shared_staff", role="staff")
    org = factories.organization(name="共享存储测试社会组织", owner=factories.user("shared_owner"))
    proposal = factories.proposal(factories.competition(), org, status="submitted", submitted_at=timezone.now())
    shared = tmp_path / "shared-media"  # not the default (a data folder's media/)
    web, worker = machine(tmp_path, "web", shared), machine(tmp_path, "worker", shared)
    url = f"/documents/proposals/{proposal.pk}/application.pdf"

    assert run(web, WEB, staff.username, url)["status"] == 202  # queued in the shared database
    assert run(worker, WORKER) == {"ran": 1, "media_root": str(shared)}
    served = run(web, WEB, staff.username, url)

    [doc] = StoredDocument.objects.filter(kind="application_book", object_id=proposal.pk)
    on_disk = (shared / doc.file.name).read_bytes()
    assert doc.status == "ready"
    assert doc.sha256 == hashlib.sha256(on_disk).hexdigest()
    assert served == {"status": 200, "sha256": doc.sha256, "header": doc.sha256, "bytes": len(on_disk)}
    assert on_disk.startswith(b"%PDF-")
    # Nothing went to either process's own data folder.
    assert not (tmp_path / "web" / "media").exists() and not (tmp_path / "worker" / "media").exists()


def test_a_second_storage_root_set_by_the_setting_is_shared(tmp_path):
    shared = tmp_path / "second-root"
    a = machine(tmp_path, "a", shared) | {"DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    b = machine(tmp_path, "b", shared) | {"DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}"}
    stored = run(a, STORE, "save", "一份上传的文件")
    read = run(b, STORE, "read", stored["name"])
    assert stored == {"name": "uploads/shared/check.bin", "location": str(shared)}
    assert read == {"sha256": hashlib.sha256("一份上传的文件".encode()).hexdigest(), "location": str(shared)}
    assert (shared / "uploads/shared/check.bin").read_text() == "一份上传的文件"
    assert not (tmp_path / "a" / "media").exists() and not (tmp_path / "b" / "media").exists()
