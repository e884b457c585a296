"""Media through Django's storage API: the local folder by default, an S3-compatible bucket by setting (issue #20)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

ROOT = Path(__file__).resolve().parents[2]
PRINT_STORAGE = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps(settings.STORAGES['default'], sort_keys=True))"
)


def default_storage_with(tmp_path, **variables):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENTURE_S3_")}
    env.update({"DJANGO_SETTINGS_MODULE": "venture.settings", "VENTURE_DATA_DIR": str(tmp_path), **variables})
    result = subprocess.run(
        [sys.executable, "-c", PRINT_STORAGE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_media_are_in_the_local_folder_by_default(tmp_path):
    assert default_storage_with(tmp_path) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_setting_puts_media_on_s3_compatible_storage(tmp_path):
    assert default_storage_with(
        tmp_path,
        VENTURE_S3_BUCKET="venture-media",
        VENTURE_S3_ENDPOINT="https://minio.union.internal:9000",
        VENTURE_S3_ACCESS_KEY="key",
        VENTURE_S3_SECRET_KEY="secret",
    ) == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "access_key": "key",
            "addressing_style": "path",
            "bucket_name": "venture-media",
            "default_acl": "private",
            "endpoint_url": "https://minio.union.internal:9000",
            "file_overwrite": False,
            "location": "media",
            "querystring_auth": True,
            "region_name": "us-east-1",
            "secret_key": "secret",
            "signature_version": "s3v4",
        },
    }


def test_the_local_storage_writes_under_media_root(settings):
    name = default_storage.save("documents/check/a.pdf", ContentFile(b"%PDF-1.7 test"))
    assert (settings.MEDIA_ROOT / name).read_bytes() == b"%PDF-1.7 test"
    with default_storage.open(name, "rb") as handle:
        assert handle.read() == b"%PDF-1.7 test"
