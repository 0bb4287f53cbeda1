"""studiocrm settings: one file, every knob an environment variable with a safe default.

All variables are listed in ``.env.example``. Nothing here reads a ``.env`` file by itself;
``manage.py`` loads it if present so that development and production parse the same way.
"""

from __future__ import annotations

import secrets
import zoneinfo
from pathlib import Path

import dj_database_url
import dj_email_url
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

BASE_URL = env.string("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
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
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "studiocrm.core.middleware.UserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "studiocrm.core.middleware.StudioTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env.string("DATABASE_URL", f"sqlite:///{DATA_DIR / 'studiocrm.sqlite3'}"),
        conn_max_age=env.integer("DATABASE_CONN_MAX_AGE", 0),
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
        }
        if env.string("CACHE_URL", "").startswith("redis")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

TASKS = {
    "default": {
        "BACKEND": env.string("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_USER_MODEL = "core.User"
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

# Lead intake limits.
INTAKE_RATE = env.string("INTAKE_RATE", "10/m")
# Wrong client links per IP before that address gets 429 on every client link.
PORTAL_NOT_FOUND_RATE = env.string("PORTAL_NOT_FOUND_RATE", "20/m")
INTAKE_MAX_BODY_BYTES = env.integer("INTAKE_MAX_BODY_BYTES", 32_768, minimum=1024)
# Trust X-Forwarded-For for client addresses only behind a proxy that sets it.
USE_X_FORWARDED_FOR = env.boolean("USE_X_FORWARDED_FOR", False)
RATELIMIT_IP_META_KEY = "studiocrm.core.http.client_ip"

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.string("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Jobs the worker runs on a timer (dotted path, seconds). Each must be idempotent: several
# workers may run the same job at once.
PERIODIC_JOBS = [
    ("studiocrm.notifications.outbox.deliver_due", env.integer("OUTBOX_SWEEP_SECONDS", 30)),
    ("studiocrm.deals.services.send_due_reminders", 60),
    ("studiocrm.billing.payments.reconcile_pending", 120),
    ("studiocrm.billing.payments.mark_overdue", 3600),
    ("studiocrm.flow.rules.fire_due", env.integer("AUTOMATION_SWEEP_SECONDS", 30, minimum=1)),
    ("studiocrm.flow.digest.send_digests", 600),
]

# Who reacts to what happens on a deal (deals.events): dotted paths to
# ``handler(event) -> None``, called in the emitting transaction. The flow app's table of
# event → reactions is the sales path.
EVENT_HANDLERS: list[str] = ["studiocrm.flow.reactions.react"]

# Panels other apps add to the deal page, in order: dotted paths to callables
# ``panel(request, deal) -> str | None`` returning rendered HTML (see deals.panels).
DEAL_PANELS: list[str] = [
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
