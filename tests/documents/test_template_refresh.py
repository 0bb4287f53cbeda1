"""Templates a studio never edited move to the corrected shipped text; edited ones stay."""

import hashlib
import importlib

import pytest
from django.apps import apps

from studiocrm.documents.defaults import default_source
from studiocrm.documents.models import DocumentTemplate

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "studiocrm.documents.migrations.0003_refresh_unedited_default_templates"
)


def test_only_unedited_templates_take_the_new_shipped_text(monkeypatch):
    DocumentTemplate.objects.all().delete()
    shipped = "<p>{{ deal.title }} old shipped text</p>"
    unedited = DocumentTemplate.objects.create(
        kind="proposal", language="ru", name="КП", source=shipped
    )
    edited = DocumentTemplate.objects.create(
        kind="appendix", language="ru", name="Приложение", source=shipped + " studio's edit"
    )
    monkeypatch.setattr(
        migration,
        "PREVIOUS",
        {
            ("proposal", "ru"): hashlib.sha256(shipped.encode()).hexdigest(),
            ("appendix", "ru"): hashlib.sha256(shipped.encode()).hexdigest(),
        },
    )
    migration.refresh(apps, None)
    unedited.refresh_from_db()
    edited.refresh_from_db()
    assert unedited.source == default_source("proposal", "ru")
    assert edited.source == shipped + " studio's edit"
