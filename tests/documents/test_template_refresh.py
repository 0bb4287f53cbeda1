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


no_quantity_row = importlib.import_module(
    "studiocrm.documents.migrations.0005_refresh_unedited_templates_no_quantity_row"
)

# The proposal's quantity cell as 0003 left it: "—" under the "Кол-во" label on phones.
OLD_CELL = (
    '<td class="num" data-label="Кол-во">{% if line.unit == "fixed" %}—{% else %}'
    "{{ line.quantity|number }} {{ line.unit_label }}{% endif %}</td>"
)
NEW_CELL = (
    '{% if line.unit == "fixed" %}<td class="num no-quantity">—</td>{% else %}'
    '<td class="num" data-label="Кол-во">{{ line.quantity|number }} {{ line.unit_label }}'
    "</td>{% endif %}"
)


def test_an_unedited_proposal_loses_the_empty_quantity_row_and_an_edited_one_is_kept():
    DocumentTemplate.objects.all().delete()
    previous = default_source("proposal", "ru").replace(NEW_CELL, OLD_CELL)
    assert (
        hashlib.sha256(previous.encode()).hexdigest()
        == no_quantity_row.PREVIOUS[("proposal", "ru")]
    )
    unedited = DocumentTemplate.objects.create(
        kind="proposal", language="ru", name="КП", source=previous
    )
    edited = DocumentTemplate.objects.create(
        kind="proposal", language="en", name="Proposal", source=previous + "<p>Our terms</p>"
    )

    no_quantity_row.refresh(apps, None)

    unedited.refresh_from_db()
    edited.refresh_from_db()
    assert unedited.source == default_source("proposal", "ru")
    assert 'data-label="Кол-во">{% if line.unit == "fixed" %}—' not in unedited.source
    assert edited.source == previous + "<p>Our terms</p>"
