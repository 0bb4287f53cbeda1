"""Shared pieces for the intake tests: a clean rate-limit cache, a valid lead, API keys."""

import time
import types

import django_ratelimit.core
import pytest
from django.core.cache import cache

from studiocrm.intake import services
from tests.migration_data import restore_stages


@pytest.fixture(autouse=True)
def clear_rate_limits(monkeypatch):
    """Empty counters, and one fixed rate-limit window per test: the windows are aligned
    to the clock, so a boundary falling between two requests would reset the count."""
    cache.clear()
    frozen = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: frozen))
    yield
    cache.clear()


@pytest.fixture
def form_data():
    return {
        "name": "Anna Petrova",
        "email": "anna@example.com",
        "phone": "+7 999 123-45-67",
        "company": "Acme",
        "message": "We need an online shop for garden goods.",
        "submission_id": "3f0e1b7a9c2d4e5f8a6b7c8d9e0f1a2b",
    }


@pytest.fixture
def api_key(owner):
    """(ApiKey, full secret value) created by the owner."""
    return services.create_api_key("Website backend", actor=owner)


@pytest.fixture
def stages(transactional_db):
    restore_stages()
