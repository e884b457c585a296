"""Project-level guarantees: migrations in sync, production profile passes check --deploy, demo data."""

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from venture.security import client_ip

ROOT = Path(__file__).resolve().parents[2]


def test_no_missing_migrations(db):
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:  # makemigrations --check exits 1 when changes are missing
        pytest.fail(f"makemigrations --check found changes:\n{out.getvalue()}")
        raise exc


def test_production_profile_passes_check_deploy(tmp_path):
    env = {
        **os.environ,
        "VENTURE_PROFILE": "production",
        "SECRET_KEY": "x" * 20 + "-production-secret-key-for-the-check-only-" + "y" * 20,
        "ALLOWED_HOSTS": "venture.example.org",
        "DEBUG": "0",
        "VENTURE_DATA_DIR": str(tmp_path),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests' conftest for this process only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
    # security.W021 (HSTS preload) is silenced while SECURE_HSTS_PRELOAD is off, as it is by default.
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."


def test_production_profile_needs_a_secret_key(tmp_path):
    env = {**os.environ, "VENTURE_PROFILE": "production", "VENTURE_DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_security_headers(client, db):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


CSP_BEFORE_DJANGO_CSP = {  # the policy the hand-written middleware sent, directive by directive
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "object-src": "'none'",
}


def _directives(header):
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize("path", ["/accounts/login/", "/calls/", "/no-such-page/"])
def test_csp_is_exactly_the_policy_it_was(client, db, path):
    """django-csp sends the same policy as the middleware it replaced, on every response (a 404 too): no inline
    script (neither 'unsafe-inline' nor a nonce in script-src), nothing from another origin."""
    response = client.get(path)
    assert _directives(response["Content-Security-Policy"]) == CSP_BEFORE_DJANGO_CSP
    assert "Content-Security-Policy-Report-Only" not in response


def test_no_inline_script_in_pages(client, staff):
    client.force_login(staff)
    body = client.get("/").content.decode()

    scripts = re.findall(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", body, re.S)
    assert scripts, "expected the static scripts"
    assert all("src=" in attrs and not inner.strip() for attrs, inner in scripts)


def test_sqlite_uses_wal_and_immediate_transactions(settings):
    options = settings.DATABASES["default"].get("OPTIONS", {})
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("PostgreSQL run")
    assert options["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in options["init_command"]


def test_client_ip_behind_a_proxy(rf, settings):
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="203.0.113.9")
    settings.BEHIND_PROXY = False
    assert client_ip(request) == "127.0.0.1"  # without a proxy the header could be forged
    settings.BEHIND_PROXY = True
    assert client_ip(request) == "203.0.113.9"
