"""What a curious colleague changes is audited, field by field, and the audit page reads as
sentences in English and Russian, never as stored Python data."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from studiocrm.billing import services as billing_services
from studiocrm.billing.models import ProviderAccount
from studiocrm.core import audit
from studiocrm.core.models import AuditLog, User
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import BRIEF_SENT, NEW
from studiocrm.documents import services as document_services
from studiocrm.documents.defaults import ensure_default_templates
from studiocrm.documents.models import DocumentTemplate
from studiocrm.estimates.models import PriceList
from tests.factories import ClientFactory, ContactFactory, DealFactory
from tests.migration_data import restore_migration_data

pytestmark = pytest.mark.django_db


def _page(http, language: str = "en") -> str:
    http.cookies["django_language"] = language
    return http.get(reverse("core:audit")).content.decode()


def _cell_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_managers_edit_of_a_clients_contact_records_old_and_new_email(
    manager_client, owner_client
):
    contact = ContactFactory(name="Anna", email="anna@client.test")
    manager_client.post(
        reverse("clients:contact_edit", args=[contact.pk]),
        {"name": "Anna", "email": "thief@evil.test", "phone": ""},
    )

    row = AuditLog.objects.get(verb="contact.updated")
    assert row.data["changes"] == {"email": {"from": "anna@client.test", "to": "thief@evil.test"}}
    text = _cell_text(_page(owner_client))
    assert "Changed a contact" in text
    assert "Email anna@client.test → thief@evil.test" in text


def test_a_client_edit_records_each_changed_field(manager_client):
    client = ClientFactory(name="Acme", bank_account="40702810900000000001")
    manager_client.post(
        reverse("clients:edit", args=[client.pk]),
        {"kind": "company", "name": "Acme", "bank_account": "40702810900000000099"},
    )

    row = AuditLog.objects.get(verb="client.updated")
    assert row.data["changes"]["bank_account"] == {
        "from": "40702810900000000001",
        "to": "40702810900000000099",
    }


def test_a_role_change_is_audited_and_nobody_changes_their_own(owner_client, owner, manager):
    owner_client.post(reverse("core:user_role", args=[manager.pk]), {"role": "owner"})
    owner_client.post(reverse("core:user_role", args=[owner.pk]), {"role": "manager"})

    manager.refresh_from_db()
    owner.refresh_from_db()
    assert (manager.role, owner.role) == (User.Role.OWNER, User.Role.OWNER)
    (row,) = AuditLog.objects.filter(verb="user.role_changed")
    assert (row.object_id, row.data) == (str(manager.pk), {"from": "manager", "to": "owner"})
    assert "Manager → Owner / admin" in _cell_text(_page(owner_client))


def test_a_manager_cannot_change_roles(manager_client, other_manager):
    response = manager_client.post(
        reverse("core:user_role", args=[other_manager.pk]), {"role": "owner"}
    )
    assert response.status_code == 403
    other_manager.refresh_from_db()
    assert other_manager.role == User.Role.MANAGER
    assert not AuditLog.objects.filter(verb="user.role_changed").exists()


def test_deactivation_and_profile_changes_are_audited(owner_client, manager_client, manager):
    owner_client.post(reverse("core:user_toggle", args=[manager.pk]))
    assert AuditLog.objects.filter(verb="user.deactivated", object_id=str(manager.pk)).exists()

    owner_client.post(
        reverse("core:profile"),
        {"first_name": "Olga", "last_name": "", "email": "olga@studio.test", "language": ""},
    )
    row = AuditLog.objects.get(verb="user.profile_updated")
    assert row.data["changes"]["email"]["to"] == "olga@studio.test"


def test_provider_settings_show_which_secret_changed_never_the_value(owner_client, owner):
    account, _created = ProviderAccount.objects.get_or_create(provider="stripe")
    billing_services.save_provider_account(
        account, {"secret_key": "sk_live_supersecret_123456"}, actor=owner
    )

    html = _page(owner_client)
    assert "Changed payment provider settings" in html
    assert "Secret key" in html
    assert "supersecret" not in html and "123456" not in html


def test_a_price_change_in_the_price_list_is_audited_with_both_prices(owner_client):
    restore_migration_data()
    price_list = PriceList.objects.get(default_key="default-rub")
    service = price_list.services.exclude(price=None).order_by("pk").first()
    old_price = service.price
    data = {
        "code": service.code,
        "name": service.name,
        "unit": service.unit,
        "price": str(old_price + 1000),
        "unit_cost": str(service.unit_cost),
        "default_quantity": str(service.default_quantity),
        "position": str(service.position),
        **{f"hours_{code}": hours for code, hours in (service.work or {}).items()},
    }
    response = owner_client.post(
        reverse("estimates:price_item", args=[price_list.pk, "services", service.pk]), data
    )
    assert response.status_code == 302

    row = AuditLog.objects.get(verb="service.updated", object_id=str(service.pk))
    change = row.data["changes"]["price"]
    assert Decimal(change["from"]) == old_price and Decimal(change["to"]) == old_price + 1000
    assert "Changed a service" in _page(owner_client)


def test_a_document_template_edit_records_the_source_by_fingerprint(owner):
    ensure_default_templates()
    template = DocumentTemplate.objects.get(kind="proposal", language="en")
    old_source = template.source
    document_services.update_template(
        template,
        actor=owner,
        name="Proposal (short)",
        source=old_source + "\n<p>{{ studio.name }}</p>",
        schedule=template.payment_schedule,
    )

    row = AuditLog.objects.get(verb="document_template.updated")
    assert row.data["changes"]["name"]["to"] == "Proposal (short)"
    assert row.data["changes"]["source"]["from"] == audit.text_fingerprint(old_source)
    assert old_source not in str(row.data)


def test_a_stage_move_reads_as_stage_names_and_system_is_translated(owner_client, manager):
    restore_migration_data()
    deal = DealFactory(manager=manager)
    deal_services.move_deal(deal, BRIEF_SENT, actor=None)

    english = _cell_text(_page(owner_client))
    assert "Moved the deal to another stage" in english
    assert "system" in english and "New → Brief sent" in english
    assert NEW not in re.findall(r"→ (\w+)", english)

    russian = _cell_text(_page(owner_client, "ru"))
    assert "Сделка перемещена на другой этап" in russian
    assert "система" in russian


def test_the_page_never_shows_stored_python_data(owner_client, owner, manager):
    restore_migration_data()
    deal = DealFactory(manager=manager)
    deal_services.move_deal(deal, BRIEF_SENT, actor=owner)
    deal_services.assign_deal(deal, owner, actor=owner)
    owner_client.post(reverse("core:user_role", args=[manager.pk]), {"role": "owner"})

    for language in ("en", "ru"):
        html = _page(owner_client, language)
        assert "{&#x27;" not in html and "{'" not in html and "[&#x27;" not in html
        assert "deal.stage_changed" not in html
