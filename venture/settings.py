"""Settings for the venture platform, read from environment variables.

Embedded default: SQLite in a data folder outside the code (``VENTURE_DATA_DIR``, default ``./data``), a SECRET_KEY
generated once into that folder, e-mail printed to the console. Set ``DATABASE_URL`` for PostgreSQL and
``VENTURE_PROFILE=production`` for a hardened server profile (``manage.py check --deploy`` is clean there).
Every variable is documented in ``.env.example``.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    value = os.environ.get(name)
    return default if value in (None, "") else value


def env_bool(name, default=False):
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


PROFILE = env("VENTURE_PROFILE", "local")  # "local" or "production"
PRODUCTION = PROFILE == "production"

DATA_DIR = Path(env("VENTURE_DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key():
    key = env("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in the production profile.")
    path = DATA_DIR / "secret_key.txt"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    # Background work (the task queue, queued mail, the failed-tasks page), below every stage.
    "venture.background",
    # The lifecycle, stage by stage.
    "venture.accounts",
    "venture.audit",
    "venture.organizations",
    "venture.competitions",
    "venture.proposals",
    "venture.screening",
    "venture.results",
    "venture.awards",
    "venture.supervision",
    "judging",
    "venture.home",
    "venture.documents",
    "venture.notifications",
    "venture.help",
    "venture.demo",
    "venture.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "venture.i18n.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

# Content-Security-Policy (django-csp). No inline script anywhere: every script is a static file, so script-src has
# neither 'unsafe-inline' nor a nonce. Styles may use Bootstrap's inline style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
    },
}
# Accounts hardening (issue #16): the verified second factor after authentication, then the session policy (idle and
# absolute timeouts, two-factor enforcement by role), and axes last so that it turns a lock into the login page.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "venture.accounts.middleware.SessionPolicyMiddleware",
)
MIDDLEWARE.append("axes.middleware.AxesMiddleware")

ROOT_URLCONF = "venture.urls"
WSGI_APPLICATION = "venture.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["venture.templatetags.venture_tags"],
            "libraries": {"pdf_tags": "venture.templatetags.pdf_tags"},  # {% load pdf_tags %} in templates/pdf/
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------------
# SQLite by default: WAL journal so readers never block the writer, IMMEDIATE transactions so concurrent writers
# queue on the lock (up to `timeout` seconds) instead of failing with "database is locked" on upgrade.
SQLITE_PATH = DATA_DIR / "venture.sqlite3"
if env("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(env("DATABASE_URL"), conn_max_age=60, conn_health_checks=True)}
    if "postgresql" in DATABASES["default"]["ENGINE"]:
        # No JIT compilation: the portfolio over 2,000 projects spent 0.5 s compiling a plan that runs in less
        # (issue #20); the app's queries are short and many. A DATABASE_URL may still set its own ?options=.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(SQLITE_PATH),
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;"
                    "PRAGMA busy_timeout=20000;"
                ),
            },
            # Persistent connections (one per worker thread): opening a connection runs the PRAGMAs above, and closing
            # the last one checkpoints the WAL into the database file, ~20 ms of a request's CPU when done per request.
            "CONN_MAX_AGE": int(env("SQLITE_CONN_MAX_AGE", "600")),
            "CONN_HEALTH_CHECKS": True,
            # Tests use a real file (not shared-cache memory) so that concurrent tests see real SQLite locking.
            "TEST": {"NAME": str(DATA_DIR / f"test-venture-{os.getpid()}.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts --------------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# django-axes sees every authenticate() call (the login page, the admin's login form, anything added later) before
# the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalization --------------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media files ------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(DATA_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
NODE_MODULES = BASE_DIR / "node_modules"
# Bootstrap, Bootstrap Icons and htmx are installed from the npm registry by `make` (package-lock.json pins them)
# and served from node_modules; nothing third-party is committed and nothing is loaded from a CDN.
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("manual", BASE_DIR / "docs" / "manual" / "img"),  # the manual's screenshots (make manual), for pages and PDFs
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
]
STATICFILES_DIRS = [d for d in STATICFILES_DIRS if Path(d[1] if isinstance(d, tuple) else d).exists()]
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")))
# Uploads are never served from MEDIA_URL directly: views check permission and stream them.
MEDIA_URL = "/media-not-served/"
# Uploads and stored documents go through Django's storage API: the local folder MEDIA_ROOT by default, or a private
# bucket on S3-compatible object storage (MinIO, a government cloud's) when VENTURE_S3_BUCKET is set, so several web
# machines and workers share the same files (django-storages; the S3 client is the optional extra: pip install
# '.[s3]'). Files are still served only through views that check permission (docs/deploy.md, section 6).
if env("VENTURE_S3_BUCKET"):
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("VENTURE_S3_BUCKET"),
            "endpoint_url": env("VENTURE_S3_ENDPOINT"),  # e.g. https://minio.union.internal:9000
            "region_name": env("VENTURE_S3_REGION", "us-east-1"),
            "access_key": env("VENTURE_S3_ACCESS_KEY"),
            "secret_key": env("VENTURE_S3_SECRET_KEY"),
            "location": env("VENTURE_S3_PREFIX", "media"),  # key prefix inside the bucket
            "default_acl": "private",  # uploads are personal data: never public-read
            "querystring_auth": True,  # any URL the storage makes is signed and expires
            "file_overwrite": False,  # never replace an existing file with the same name
            "addressing_style": "path",  # what MinIO and most S3-compatible services expect
            "signature_version": "s3v4",
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {"BACKEND": env("STATICFILES_STORAGE", "whitenoise.storage.CompressedManifestStaticFilesStorage")},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- E-mail ---------------------------------------------------------------------------------------------------------
# Every mail is queued as a background task (venture.background.mail); the worker hands it to the real backend named
# by the EMAIL_BACKEND variable (SMTP in production, the console in the embedded profile).
EMAIL_BACKEND = "venture.background.mail.QueuedEmailBackend"
MAIL_DELIVERY_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "venture@localhost")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

# The expenditure ledger (venture.supervision.expenditure_rules): the largest single entry in yuan, and the limits of
# one imported file (rows, and the uncompressed size of an xlsx, checked before it is read).
EXPENDITURE_MAX_AMOUNT = env("EXPENDITURE_MAX_AMOUNT", "10000000.00")
LEDGER_IMPORT_MAX_ROWS = int(env("LEDGER_IMPORT_MAX_ROWS", "10000"))
LEDGER_IMPORT_MAX_UNCOMPRESSED = int(env("LEDGER_IMPORT_MAX_UNCOMPRESSED", str(60 * 1024 * 1024)))

# --- Background tasks ------------------------------------------------------------------------------------------------
# Django's task API (the django-tasks backport) with the database backend: the queue is a table of the app's own
# database, worked by `manage.py db_worker` (make run starts one; docs/deploy.md has the systemd unit). TASKS_BACKEND
# =immediate runs each task inside the call that enqueues it (the test suite does so). A failed task is retried after
# TASK_RETRY_BACKOFF seconds, then twice that, and so on (venture.background.tasks).
TASKS_BACKEND = env("TASKS_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[TASKS_BACKEND]
    }
}
TASK_RETRY_BACKOFF = int(env("TASK_RETRY_BACKOFF", "30"))
# Final documents are queued for rendering as soon as they become final (venture.documents.final); the test suite
# turns this off (its tests of it on), so that a test that commits does not render PDFs it does not look at.
DOCUMENTS_PREPARE_WHEN_FINAL = env_bool("DOCUMENTS_PREPARE_WHEN_FINAL", True)
# PDFs are laid out by a child process (venture.pdf). Where documents come one after another (the task worker: make
# run's Procfile and docs/deploy.md set it there) the child is kept for the next document while used within this many
# seconds, for up to PDF_RENDERER_KEEP_DOCUMENTS documents and while its resident memory stays under
# PDF_RENDERER_KEEP_MAX_KIB; 0 (the default, the web workers): one child per document.
PDF_RENDERER_KEEP_SECONDS = int(env("PDF_RENDERER_KEEP_SECONDS", "0"))
PDF_RENDERER_KEEP_DOCUMENTS = int(env("PDF_RENDERER_KEEP_DOCUMENTS", "200"))
PDF_RENDERER_KEEP_MAX_KIB = int(env("PDF_RENDERER_KEEP_MAX_KIB", str(256 * 1024)))
# Ledger files with more rows than this are imported by the worker (venture.supervision.tasks), not in the request.
LEDGER_IMPORT_BACKGROUND_ROWS = int(env("LEDGER_IMPORT_BACKGROUND_ROWS", "1000"))

# --- Forms ----------------------------------------------------------------------------------------------------------
# Widgets (<input>, <textarea>, <select>) written by Python, the same markup as Django's widget templates: the proposal
# edit page's sixty widgets were most of its CPU time (issue #20).
FORM_RENDERER = "venture.fastforms.FastRenderer"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security -------------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from a meta tag, not the cookie; kept default for Django forms
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind nginx every request comes from 127.0.0.1: trust nginx's X-Real-IP for rate limits (docs/deploy.md).
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)

# Sessions: an absolute lifetime from sign-in, and an idle timeout by role (venture.accounts.middleware).
SESSION_ABSOLUTE_HOURS = int(env("SESSION_ABSOLUTE_HOURS", "12"))
SESSION_COOKIE_AGE = 60 * 60 * SESSION_ABSOLUTE_HOURS
SESSION_IDLE_MINUTES = int(env("SESSION_IDLE_MINUTES", "120"))  # judges and applicants
SESSION_IDLE_MINUTES_PRIVILEGED = int(env("SESSION_IDLE_MINUTES_PRIVILEGED", "30"))  # staff, auditors, supervisors
PRIVILEGED_ROLES = ("staff", "auditor", "supervisor")

# Login throttling (django-axes): a lock falls on one username *from one address* (so nobody can lock the staff out
# from elsewhere), unknown usernames lock exactly like known ones, and one address is limited across all usernames.
LOGIN_FAILURE_LIMIT = int(env("LOGIN_FAILURE_LIMIT", "5"))  # per username and address
LOGIN_ADDRESS_FAILURE_LIMIT = int(env("LOGIN_ADDRESS_FAILURE_LIMIT", "30"))  # per address, all usernames together
LOGIN_LOCK_MINUTES = int(env("LOGIN_LOCK_MINUTES", "15"))
AXES_HANDLER = "venture.accounts.throttle.ThrottleHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = "venture.accounts.throttle.failure_limit"  # LOGIN_FAILURE_LIMIT, read when used
AXES_COOLOFF_TIME = "venture.accounts.throttle.cool_off"  # LOGIN_LOCK_MINUTES, read when used
AXES_CLIENT_IP_CALLABLE = "venture.security.client_ip"
AXES_LOCKOUT_CALLABLE = "venture.accounts.throttle.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lock ends LOGIN_LOCK_MINUTES after it began
AXES_VERBOSE = False

# Two-factor sign-in (django-otp, TOTP + backup codes). The roles listed must enrol and verify a code at each
# sign-in; others may enrol voluntarily. On in the production profile; off for `make run` unless set.
TWO_FACTOR_ROLES = env_list("TWO_FACTOR_ROLES", ",".join(PRIVILEGED_ROLES) if PRODUCTION else "")
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Venture")

# Audit trail: records are kept at least this many days (prune_audit refuses anything newer than 183 days).
AUDIT_RETENTION_DAYS = max(int(env("AUDIT_RETENTION_DAYS", "1095")), 183)

if PRODUCTION:
    DEBUG = env_bool("DEBUG", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_HTTPONLY = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)  # only after submitting the domain
    if not SECURE_HSTS_PRELOAD:  # preload is a decision for the operator (docs/deploy.md), not a missing setting
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"quiet_forbidden": {"()": "venture.errors.QuietForbidden"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"filters": ["quiet_forbidden"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
}
