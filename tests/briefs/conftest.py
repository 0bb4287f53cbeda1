"""Fixtures for brief tests: private files in a temporary directory, a clean cache, a deal
with a client contact, and helpers to send a brief."""

import time
import types

import django_ratelimit.core
import pytest
from django.core.cache import cache

from studiocrm.briefs import services
from studiocrm.briefs.models import BriefTemplate
from tests.factories import DealFactory
from tests.migration_data import restore_migration_data


@pytest.fixture(autouse=True)
def private_root(tmp_path, settings):
    settings.PRIVATE_ROOT = tmp_path / "private"
    return settings.PRIVATE_ROOT


@pytest.fixture(autouse=True)
def clean_cache(monkeypatch):
    """Empty rate-limit counters and one fixed rate-limit window per test (windows are
    aligned to the clock; a boundary between two requests would reset the count)."""
    cache.clear()
    frozen = time.time()
    monkeypatch.setattr(django_ratelimit.core, "time", types.SimpleNamespace(time=lambda: frozen))
    yield
    cache.clear()


@pytest.fixture
def migration_data(db):
    restore_migration_data()


@pytest.fixture
def deal(manager, migration_data):
    return DealFactory(manager=manager, title="Bakery website")


@pytest.fixture
def template_en(migration_data):
    return BriefTemplate.objects.get(default_key="corporate", language="en")


@pytest.fixture
def template_ru(migration_data):
    return BriefTemplate.objects.get(default_key="corporate", language="ru")


@pytest.fixture
def sent_brief(deal, template_en, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.send_brief(deal, template_en, actor=manager)


REQUIRED_CORPORATE_ANSWERS = {
    "company": "Bakery Ltd",
    "goal": "Get orders for cakes",
    "pages": ["home", "contacts"],
    "content_ready": "partial",
}


def fill_required(brief):
    for key, value in REQUIRED_CORPORATE_ANSWERS.items():
        services.save_answer(brief, key, value)
    brief.refresh_from_db()
    return brief
