"""Personas and shared fixtures: the studio owner, a manager, another manager, a stranger."""

import os

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client as HttpClient
from django.utils import translation

from studiocrm.core.models import Studio, User
from tests.factories import UserFactory, with_authenticator


def pytest_configure(config):
    """TEST_CLOCK=2026-12-31T21:30:00+00:00 runs the suite with this process's clock started
    at that moment (and running on): a late evening in UTC that is already tomorrow — and
    next year — in the studio's Moscow. A test that takes the server's date for the studio's
    fails there (the CI's SQLite pass runs so). Processes the tests start, and C code such
    as OpenSSL, keep the machine's clock: what crosses the two must allow for the gap (the
    IMAP test server's certificate is valid for a year either side)."""
    moment = os.environ.get("TEST_CLOCK")
    if moment:
        from datetime import datetime

        import time_machine

        config.test_clock = time_machine.travel(datetime.fromisoformat(moment), tick=True)
        config.test_clock.start()


def pytest_unconfigure(config):
    clock = getattr(config, "test_clock", None)
    if clock is not None:
        clock.stop()


def pytest_collection_modifyitems(items):
    """Transactional tests (threads, live server) flush every table when they end, which
    would also wipe the rows data migrations create (stages, default brief and document
    templates, price lists) for the tests that run after them in the same process. Roll
    those tests back by reloading the serialized database instead."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        kwargs = dict(marker.kwargs) if marker else {}
        fixtures = getattr(item, "fixturenames", ())
        transactional = kwargs.get("transaction") or any(
            name in fixtures for name in ("transactional_db", "live_server")
        )
        if transactional and not kwargs.get("serialized_rollback"):
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(
                pytest.mark.django_db(*(marker.args if marker else ()), **kwargs), append=False
            )


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the default language: a request made in Russian by an earlier
    test leaves Russian active in the thread."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def studio(db):
    studio = Studio.load()
    studio.name = "Test Studio"
    studio.save()
    return studio


@pytest.fixture
def owner(studio):
    """Owners must have two-factor authentication, so this one has an authenticator."""
    owner = UserFactory(username="owner", role=User.Role.OWNER)
    with_authenticator(owner)
    return owner


@pytest.fixture
def manager(studio):
    return UserFactory(username="manager", role=User.Role.MANAGER)


@pytest.fixture
def other_manager(studio):
    return UserFactory(username="other", role=User.Role.MANAGER)


def logged_in(user):
    """A client logged in as `user`, past the second factor if the user has one."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    http = HttpClient()
    http.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = http.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return http


@pytest.fixture
def owner_client(owner):
    return logged_in(owner)


@pytest.fixture
def manager_client(manager):
    return logged_in(manager)


@pytest.fixture
def other_manager_client(other_manager):
    return logged_in(other_manager)


@pytest.fixture
def anonymous_client():
    return HttpClient()


# Debian's Chromium, never a downloaded browser; flags keep it off the (closed) network.
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser():
    """A headless Chromium driven by Playwright, for tests against ``live_server``."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test's own
    # ORM calls are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        # While Playwright's loop counts as running, Django keeps this thread's database
        # connections apart from the ones it uses outside it (asgiref's Local): close those
        # here, or PostgreSQL refuses to drop the test database at the end of the run.
        connections.close_all()
