"""Settings for the test suite: the real settings with test-only speedups.

Tasks go to the dummy backend (tests run delivery explicitly), passwords hash fast, and
email defaults to the in-memory backend unless a test points it at its own SMTP server.
"""

from studiocrm.settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
BASE_URL = "http://testserver"

# WhiteNoise scans STATIC_ROOT at start-up; give the tests an existing (empty) one.
STATIC_ROOT = DATA_DIR / "test-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Test data uses the reserved ".test" domain (RFC 2606); production refuses it like any
# other special-use domain (tests/clients/test_validation.py checks that).
EMAIL_ALLOW_TEST_DOMAINS = True

# Webhook tests post to receivers on 127.0.0.1; the SSRF test turns this off again.
WEBHOOK_ALLOW_HTTP = True
WEBHOOK_ALLOW_PRIVATE = True

# The analytics cache keys on the newest row ids, which repeat across tests rolled back on
# SQLite; tests/analytics switch it on where they test it.
ANALYTICS_CACHE_SECONDS = 0
