"""studiocrm settings: one file, every knob an environment variable with a safe default.

All variables are listed in ``.env.example``. Nothing here reads a ``.env`` file by itself;
``manage.py`` loads it if present so that development and production parse the same way.
"""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url
import phonenumbers
from django.utils.translation import gettext_lazy as _

from studiocrm import env

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
DATA_DIR = Path(env.string("DATA_DIR", str(PROJECT_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.boolean("DEBUG", True)


def _development_secret() -> str:
    """A secret generated once per machine and kept outside the repository."""
    path = Path(env.string("DEV_SECRET_KEY_PATH", str(Path.home() / ".config/studiocrm/secret")))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env.string("SECRET_KEY", "") or (_development_secret() if DEBUG else "")
if not SECRET_KEY:
    raise env.ImproperlyConfiguredEnv(
        "SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG=false"
    )

# Old keys still accepted for signatures and client links after a key rotation.
SECRET_KEY_FALLBACKS = env.string_list("SECRET_KEY_FALLBACKS", [])


def _field_encryption_keys() -> list[str]:
    """Fernet keys for secrets stored in the database (core.crypto): the first encrypts,
    every one decrypts. Development derives one from SECRET_KEY; production must set it."""
    from studiocrm.core.crypto import check_key, derive_key

    keys = env.string("FIELD_ENCRYPTION_KEY", "").replace(",", " ").split()
    if not keys:
        if not DEBUG:
            raise env.ImproperlyConfiguredEnv(
                "FIELD_ENCRYPTION_KEY (or FIELD_ENCRYPTION_KEY_FILE) must be set when "
                "DEBUG=false; make one with: python -c 'from cryptography.fernet import "
                "Fernet; print(Fernet.generate_key().decode())'"
            )
        return [derive_key(SECRET_KEY)]
    for position, key in enumerate(keys, start=1):
        try:
            check_key(key)
        except ValueError:
            raise env.ImproperlyConfiguredEnv(
                f"FIELD_ENCRYPTION_KEY: key {position} is not a Fernet key "
                "(32 bytes in url-safe base64, 44 characters)"
            ) from None
    return keys


FIELD_ENCRYPTION_KEYS = _field_encryption_keys()

# Where `make run` serves (HOST, PORT); links in emails follow it unless BASE_URL says where
# the public address is (behind a proxy, in production).
HOST = env.string("HOST", "127.0.0.1")
PORT = env.integer("PORT", 8000, minimum=1)
_host_in_url = f"[{HOST}]" if ":" in HOST else HOST
BASE_URL = env.string("BASE_URL", f"http://{_host_in_url}:{PORT}").rstrip("/")
ALLOWED_HOSTS = env.string_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.string_list("CSRF_TRUSTED_ORIGINS", [BASE_URL])

INSTALLED_APPS = [
    # Our apps first: their translations and templates take precedence over Django's.
    "studiocrm.core",
    "studiocrm.clients",
    "studiocrm.deals",
    "studiocrm.notifications",
    "studiocrm.intake",
    "studiocrm.portal",
    "studiocrm.briefs",
    "studiocrm.estimates",
    "studiocrm.documents",
    "studiocrm.billing",
    "studiocrm.flow",
    "studiocrm.demo",
    "studiocrm.analytics",
    "studiocrm.transfer",
    "studiocrm.ops",
    "studiocrm.api",
    "studiocrm.webhooks",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    # django-ninja's own Swagger UI files, so /api/v1/docs loads nothing from a CDN.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    # First: every log line carries the request id; probes skip host checks and redirects.
    "studiocrm.ops.middleware.RequestIdMiddleware",
    "studiocrm.ops.middleware.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise: static files keep their long cache headers.
    "studiocrm.core.middleware.SecurityHeadersMiddleware",
    "studiocrm.core.middleware.UnreadableFormMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "studiocrm.core.middleware.UserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "studiocrm.core.middleware.StudioTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "studiocrm.core.accounts.middleware.AccountSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it turns a refused login into the lockout page (see core.accounts).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "studiocrm.urls"
WSGI_APPLICATION = "studiocrm.wsgi.application"

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
                "studiocrm.core.context_processors.studio",
                "studiocrm.core.context_processors.csp_nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.string("DATABASE_URL", f"sqlite:///{DATA_DIR / 'studiocrm.sqlite3'}"),
        conn_max_age=env.integer("DATABASE_CONN_MAX_AGE", 0),
        # A kept connection is checked before a request reuses it: after the database
        # restarts, the next request opens a new one instead of failing.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the web server work side by side; IMMEDIATE avoids
    # "database is locked" upgrades from read to write inside a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.string("CACHE_URL"),
            "KEY_PREFIX": env.string("CACHE_KEY_PREFIX", "studiocrm"),
        }
        if env.string("CACHE_URL", "").startswith("redis")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Web processes on this machine (gunicorn reads the same variable for its worker count).
# Rate limits and login throttles count in the cache: more than one process needs CACHE_URL,
# and `manage.py check` (and gunicorn.conf.py, for --workers) refuse to go on without it.
WEB_CONCURRENCY = env.integer("WEB_CONCURRENCY", 1, minimum=1)

TASKS = {
    "default": {
        "BACKEND": env.string("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    # Counts failed logins per account and per client address and refuses locked ones.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "deals:board"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env.choice("LANGUAGE_CODE", "en", ["en", "ru"])
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates day-month-year ("9 December 2026", "9 Dec 2026"): studiocrm/core/formats/en.
FORMAT_MODULE_PATH = ["studiocrm.core.formats"]
TIME_ZONE = env.string("TIME_ZONE", "UTC")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise env.ImproperlyConfiguredEnv(f"TIME_ZONE: unknown time zone {TIME_ZONE!r}")
USE_I18N = True
USE_TZ = True
FORMS_URLFIELD_ASSUME_HTTPS = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.string("STATIC_ROOT", str(PROJECT_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env.string("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "/media/"
# Files clients upload and generated PDFs: never served directly, only through a link token.
PRIVATE_ROOT = Path(env.string("PRIVATE_ROOT", str(DATA_DIR / "private")))

# Where uploads and PDFs live: the local disk (MEDIA_ROOT, PRIVATE_ROOT) unless
# STORAGE_S3_BUCKET names an S3-compatible bucket (docs/configuration.md). The bucket stays
# private: private files are handed out only by the app's own checked views, and the
# default storage's URLs are signed and expire.
STORAGES["private"] = {"BACKEND": "studiocrm.portal.files.LocalPrivateStorage"}
STORAGE_S3_BUCKET = env.string("STORAGE_S3_BUCKET", "")
if STORAGE_S3_BUCKET:
    _s3 = {
        "bucket_name": STORAGE_S3_BUCKET,
        "endpoint_url": env.string("STORAGE_S3_ENDPOINT_URL", "") or None,
        "region_name": env.string("STORAGE_S3_REGION", "") or None,
        "access_key": env.string("STORAGE_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env.string("STORAGE_S3_SECRET_ACCESS_KEY", "") or None,
        "addressing_style": env.choice(
            "STORAGE_S3_ADDRESSING_STYLE", "auto", ["auto", "path", "virtual"]
        ),
        "signature_version": "s3v4",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": env.integer("STORAGE_S3_URL_SECONDS", 300, minimum=1),
        "file_overwrite": False,
    }
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3, "location": "media"},
    }
    STORAGES["private"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3, "location": "private"},
    }

# Email: EMAIL_URL like smtp://user:pass@host:587/?tls=True; console by default in development.
_email = dj_email_url.parse(
    env.string("EMAIL_URL", "console://" if DEBUG else "smtp://localhost:25")
)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "studiocrm <crm@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Notification channels: name -> class (see notifications/channels and docs/extending.md).
NOTIFICATION_CHANNELS = {
    "email": "studiocrm.notifications.channels.email.EmailChannel",
    "telegram": "studiocrm.notifications.channels.telegram.TelegramChannel",
}
# Managers' notifications through a Telegram bot (optional): the bot's token, and the Bot API.
TELEGRAM_BOT_TOKEN = env.string("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_API_URL = env.string("TELEGRAM_API_URL", "https://api.telegram.org").rstrip("/")

# Outbox delivery: attempts before a temporary failure becomes permanent.
OUTBOX_MAX_ATTEMPTS = env.integer("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)
# How long a worker holds a message it is sending; a worker that died mid-delivery lets go
# after this, and the sweeper sends the message again (longer than any SMTP session).
OUTBOX_CLAIM_SECONDS = env.integer("OUTBOX_CLAIM_SECONDS", 300, minimum=1)

# Lead intake limits.
INTAKE_RATE = env.string("INTAKE_RATE", "10/m")
# Wrong client links per IP before that address gets 429 on every client link.
PORTAL_NOT_FOUND_RATE = env.string("PORTAL_NOT_FOUND_RATE", "20/m")
INTAKE_MAX_BODY_BYTES = env.integer("INTAKE_MAX_BODY_BYTES", 32_768, minimum=1024)
# The region a phone number without a country code is read in; numbers must be valid there.
PHONE_REGION = env.string("PHONE_REGION", "RU").upper()
if PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise env.ImproperlyConfiguredEnv(
        f"PHONE_REGION must be an ISO 3166 code, got {PHONE_REGION!r}"
    )
# Studio templates compile and render in child processes with hard limits: how many
# children each web or worker process keeps, and the CPU seconds one PDF may take.
DOCUMENT_RENDER_PROCESSES = env.integer("DOCUMENT_RENDER_PROCESSES", 2, minimum=1)
DOCUMENT_PDF_SECONDS = env.integer("DOCUMENT_PDF_SECONDS", 20, minimum=1)
# Trust X-Forwarded-For for client addresses only behind a proxy that sets it.
USE_X_FORWARDED_FOR = env.boolean("USE_X_FORWARDED_FOR", False)
RATELIMIT_IP_META_KEY = "studiocrm.core.http.client_ip"

# Failed logins (django-axes, counted in the database so every process sees them): after
# LOGIN_FAILURE_LIMIT failures for one account, or from one client address, further attempts
# are refused for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env.integer("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.integer("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "studiocrm.core.http.client_ip"
AXES_LOCKOUT_CALLABLE = "studiocrm.core.accounts.views.locked_out"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
# Password-reset emails per typed address and per client address.
PASSWORD_RESET_ADDRESS_RATE = env.string("PASSWORD_RESET_ADDRESS_RATE", "3/h")
PASSWORD_RESET_IP_RATE = env.string("PASSWORD_RESET_IP_RATE", "10/h")


# Two-factor authentication (TOTP apps, recovery codes): owners must, managers may.
def _totp_issuer(device: object) -> str:
    """The name an authenticator app shows beside the code: the studio's, then ours."""
    from studiocrm.core.models import Studio

    return f"{Studio.load().name} (studiocrm)"


OTP_TOTP_ISSUER = _totp_issuer
# A signed-in session ends after this many minutes without a request.
SESSION_IDLE_MINUTES = env.integer("SESSION_IDLE_MINUTES", 120, minimum=1)

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.boolean("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.integer("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.boolean("SECURE_HSTS_PRELOAD", True)

# Logs: text for a terminal, or LOG_FORMAT=json for one JSON object per line (time, level,
# logger, message, request_id, user_id, path, and status/duration on request lines).
LOG_FORMAT = env.choice("LOG_FORMAT", "text", ["text", "json"])


def _logging() -> dict[str, object]:
    from studiocrm.ops.logs import logging_config

    return logging_config(LOG_FORMAT, env.string("LOG_LEVEL", "INFO"))


LOGGING = _logging()

# Jobs the worker runs on a timer (dotted path, seconds). Each must be idempotent: several
# workers may run the same job at once.
PERIODIC_JOBS = [
    ("studiocrm.notifications.outbox.deliver_due", env.integer("OUTBOX_SWEEP_SECONDS", 30)),
    ("studiocrm.deals.services.send_due_reminders", 60),
    ("studiocrm.billing.payments.reconcile_pending", 120),
    ("studiocrm.billing.payments.process_due_events", 60),
    ("studiocrm.billing.payments.mark_overdue", 3600),
    ("studiocrm.flow.rules.fire_due", env.integer("AUTOMATION_SWEEP_SECONDS", 30, minimum=1)),
    ("studiocrm.flow.digest.send_digests", 600),
    ("studiocrm.documents.services.expire_proposals", 600),
    ("studiocrm.intake.mailbox.poll_mailbox", env.integer("MAILBOX_POLL_SECONDS", 120, minimum=10)),
    ("studiocrm.ops.heartbeat.beat", env.integer("OPS_HEARTBEAT_SECONDS", 15, minimum=1)),
    ("studiocrm.ops.heartbeat.watch", env.integer("OPS_HEARTBEAT_SECONDS", 15, minimum=1)),
    ("studiocrm.webhooks.delivery.deliver_due", env.integer("WEBHOOK_SWEEP_SECONDS", 30)),
    ("studiocrm.api.services.purge_idempotency_records", 3600),
    ("studiocrm.analytics.facts.keep_up", env.integer("ANALYTICS_FACTS_SECONDS", 60, minimum=5)),
]
# Health (ops.health, /readyz, Settings → System): a worker silent this long has stopped
# (the owner is told once); readiness fails above these outbox and task-queue limits.
OPS_WORKER_STALE_SECONDS = env.integer("OPS_WORKER_STALE_SECONDS", 60, minimum=2)
OPS_OUTBOX_BACKLOG_MAX = env.integer("OPS_OUTBOX_BACKLOG_MAX", 500, minimum=1)
OPS_OUTBOX_AGE_MAX_SECONDS = env.integer("OPS_OUTBOX_AGE_MAX_SECONDS", 900, minimum=1)
OPS_TASK_AGE_MAX_SECONDS = env.integer("OPS_TASK_AGE_MAX_SECONDS", 600, minimum=1)

# How long a worker's claim on an automation timer lasts: one that dies mid-way (a restart,
# a crash) leaves its claim, and the next worker takes the timer over once the claim expires.
AUTOMATION_CLAIM_SECONDS = env.integer("AUTOMATION_CLAIM_SECONDS", 300, minimum=1)

# Applications from email (Settings → Mailbox): an extra CA bundle to trust for the IMAP
# server's certificate (a studio's own server with a private CA); empty: the system's.
MAILBOX_CA_FILE = env.string("MAILBOX_CA_FILE", "")
# A larger message is not downloaded: its header is kept and it is listed as a problem.
MAILBOX_MAX_MESSAGE_BYTES = env.integer("MAILBOX_MAX_MESSAGE_BYTES", 25 * 1024 * 1024, minimum=1024)
# Import (Settings → Import and export): the largest file and the most rows accepted.
IMPORT_MAX_BYTES = env.integer("IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
IMPORT_MAX_ROWS = env.integer("IMPORT_MAX_ROWS", 100_000, minimum=1)

# Who reacts to what happens on a deal (deals.events): dotted paths to
# ``handler(event) -> None``, called in the emitting transaction. The flow app's table of
# event → reactions is the sales path.
EVENT_HANDLERS: list[str] = [
    "studiocrm.flow.reactions.react",
    "studiocrm.webhooks.delivery.on_event",
]

# Panels other apps add to the deal page, in order: dotted paths to callables
# ``panel(request, deal) -> str | None`` returning rendered HTML (see deals.panels).
DEAL_PANELS: list[str] = [
    "studiocrm.intake.panels.lead_panel",
    "studiocrm.intake.panels.email_panel",
    "studiocrm.briefs.panels.brief_panel",
    "studiocrm.estimates.panels.estimate_panel",
    "studiocrm.documents.panels.documents_panel",
    "studiocrm.billing.panels.billing_panel",
    "studiocrm.flow.panels.automation_panel",
]

# Payment providers (billing.providers): code -> class, imported on first use. Keys and
# secrets are not settings: the owner enters them in Settings → Payments.
BILLING_PROVIDERS = {
    "stripe": "studiocrm.billing.providers.stripe.StripeProvider",
    "yookassa": "studiocrm.billing.providers.yookassa.YooKassaProvider",
    "bank_transfer": "studiocrm.billing.providers.bank_transfer.BankTransferProvider",
}
# Provider API addresses: change only to point at a local stand-in (tests, development).
STRIPE_API_BASE = env.string("STRIPE_API_BASE", "https://api.stripe.com")
YOOKASSA_API_URL = env.string("YOOKASSA_API_URL", "https://api.yookassa.ru/v3")
# YooKassa notifications are unsigned: accept them only from YooKassa's published networks.
YOOKASSA_WEBHOOK_NETWORKS = env.string_list(
    "YOOKASSA_WEBHOOK_NETWORKS",
    [
        "185.71.76.0/27",
        "185.71.77.0/27",
        "77.75.153.0/25",
        "77.75.156.11/32",
        "77.75.156.35/32",
        "77.75.154.128/25",
        "2a02:5180::/32",
    ],
)
# Online payments still pending after this many minutes are re-fetched from the provider.
BILLING_RECONCILE_AFTER_MINUTES = env.integer("BILLING_RECONCILE_AFTER_MINUTES", 10, minimum=1)
# Invoice due dates count working days, as the contract says: weekends and this country's
# public holidays (with official transfers) are skipped; "none" = weekends only.
BILLING_WORKDAY_CALENDAR = env.string("BILLING_WORKDAY_CALENDAR", "RU").upper().replace("NONE", "")

# REST API (/api/v1/): requests per token (django-ratelimit syntax, counted in the cache).
API_RATE = env.string("API_RATE", "600/m")
# Outgoing webhooks: seconds to wait for a receiver; days of failure before a webhook is
# paused and the owners told; plain http:// and private/loopback addresses are refused
# unless allowed (development and tests only).
WEBHOOK_TIMEOUT_SECONDS = env.integer("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
WEBHOOK_PAUSE_AFTER_DAYS = env.integer("WEBHOOK_PAUSE_AFTER_DAYS", 3, minimum=1)
WEBHOOK_ALLOW_HTTP = env.boolean("WEBHOOK_ALLOW_HTTP", DEBUG)
WEBHOOK_ALLOW_PRIVATE = env.boolean("WEBHOOK_ALLOW_PRIVATE", False)
