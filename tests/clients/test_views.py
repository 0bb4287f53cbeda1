"""Client pages: shared studio data every signed-in user reads; changing it follows the deal
rule (tests/clients/test_permissions.py); anonymous never."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studiocrm.clients.models import Client, Contact
from studiocrm.core.models import AuditLog
from tests.factories import ClientFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

PERSONAS = ["owner", "manager", "other_manager"]


def http_for(request, persona):
    return request.getfixturevalue(f"{persona}_client")


def client_data(**changes):
    data = {
        "kind": "company",
        "name": "Acme",
        "legal_name": "Acme LLC",
        "tax_id": "7707083893",
        "registration_number": "1027700132195",
        "address": "Moscow, Tverskaya 1",
        "signatory_name": "Ivan Petrov",
        "signatory_position": "CEO",
        "signatory_basis": "the charter",
        "bank_name": "Sberbank",
        "bank_account": "40702819900000000001",
        "bank_code": "044525225",
        "correspondent_account": "30101810400000000225",
        "website": "acme.example",
        "notes": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_signed_in_sees_clients(request, persona):
    client = ClientFactory(name="Visible Co")
    http = http_for(request, persona)
    assert "Visible Co" in http.get(reverse("clients:list")).content.decode()
    assert http.get(client.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(
    "url_name", ["clients:list", "clients:create", "clients:detail", "clients:edit"]
)
def test_anonymous_is_sent_to_log_in(anonymous_client, url_name):
    client = ClientFactory()
    args = [client.pk] if url_name in ("clients:detail", "clients:edit") else []
    response = anonymous_client.get(reverse(url_name, args=args))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_anyone_signed_in_creates_a_client_with_legal_details(request, persona):
    response = http_for(request, persona).post(reverse("clients:create"), client_data())
    client = Client.objects.get(name="Acme")
    assert response.status_code == 302 and response.url == client.get_absolute_url()
    assert (client.tax_id, client.signatory_basis, client.correspondent_account) == (
        "7707083893",
        "the charter",
        "30101810400000000225",
    )
    assert AuditLog.objects.filter(verb="client.created", object_id=str(client.pk)).exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_anyone_signed_in_edits_a_client_without_deals(request, persona):
    client = ClientFactory(name="Old name")
    http_for(request, persona).post(
        reverse("clients:edit", args=[client.pk]), client_data(name="New name")
    )
    client.refresh_from_db()
    assert client.name == "New name"


def test_anonymous_cannot_create_or_edit_clients(anonymous_client):
    client = ClientFactory(name="Untouched")
    anonymous_client.post(reverse("clients:create"), client_data(name="Sneaky"))
    anonymous_client.post(reverse("clients:edit", args=[client.pk]), client_data(name="Sneaky"))
    client.refresh_from_db()
    assert client.name == "Untouched"
    assert not Client.objects.filter(name="Sneaky").exists()


def test_client_needs_a_name(manager_client):
    response = manager_client.post(reverse("clients:create"), client_data(name="   "))
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert not Client.objects.exists()


def test_adding_a_contact_normalises_the_phone(manager_client):
    client = ClientFactory()
    response = manager_client.post(
        reverse("clients:contact_create", args=[client.pk]),
        {
            "name": "Jane",
            "position": "CTO",
            "email": "Jane@Acme.test",
            "phone": "8 (999) 123-45-67",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(client=client)
    assert (contact.email, contact.phone_normalized) == ("jane@acme.test", "+79991234567")


def test_a_contact_with_a_nonsense_phone_is_refused(manager_client):
    client = ClientFactory()
    response = manager_client.post(
        reverse("clients:contact_create", args=[client.pk]), {"name": "Jane", "phone": "call me"}
    )
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert not Contact.objects.filter(client=client).exists()


def test_editing_a_contact_keeps_it_with_its_client(other_manager_client):
    contact = ContactFactory(name="Old")
    other_manager_client.post(
        reverse("clients:contact_edit", args=[contact.pk]),
        {"name": "New", "email": contact.email, "phone": ""},
    )
    contact.refresh_from_db()
    assert contact.name == "New"


def test_anonymous_cannot_add_or_edit_contacts(anonymous_client):
    contact = ContactFactory(name="Kept")
    anonymous_client.post(
        reverse("clients:contact_create", args=[contact.client.pk]), {"name": "Intruder"}
    )
    anonymous_client.post(reverse("clients:contact_edit", args=[contact.pk]), {"name": "Changed"})
    contact.refresh_from_db()
    assert contact.name == "Kept"
    assert Contact.objects.count() == 1


def test_client_page_shows_contacts_and_deals(manager_client):
    contact = ContactFactory(name="Jane Roe", email="jane@roe.test")
    DealFactory(client=contact.client, contact=contact, title="Landing page")
    html = manager_client.get(contact.client.get_absolute_url()).content.decode()
    assert "Jane Roe" in html and "jane@roe.test" in html and "Landing page" in html


def test_client_page_escapes_client_data(manager_client):
    client = ClientFactory(name="<script>alert(1)</script>", notes="<b>bold</b>")
    html = manager_client.get(client.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize("query", ["acme", "ACME", "роза", "Роза", "jane@", "7701", "89991234567"])
def test_client_search_by_name_tax_id_and_contacts(manager_client, query):
    acme = ClientFactory(name="Acme", legal_name="ООО «Роза»", tax_id="7701234567")
    ContactFactory(
        client=acme,
        name="Jane",
        email="jane@acme.test",
        phone="+7 999 123-45-67",
        phone_normalized="+79991234567",
    )
    ClientFactory(name="Other")
    response = manager_client.get(reverse("clients:list"), {"q": query})
    assert [c.name for c in response.context["page"].object_list] == ["Acme"]


def test_client_list_counts_deals_without_duplicating_rows(manager_client):
    client = ClientFactory(name="Busy")
    ContactFactory(client=client, name="One", email="one@busy.test")
    ContactFactory(client=client, name="Two", email="two@busy.test")
    DealFactory.create_batch(3, client=client, contact=None)
    response = manager_client.get(reverse("clients:list"), {"q": "busy.test"})
    rows = list(response.context["page"].object_list)
    assert [(c.name, c.deal_count) for c in rows] == [("Busy", 3)]


def test_client_list_is_paginated_with_the_search_kept(manager_client):
    for index in range(55):
        ClientFactory(name=f"Studio client {index:02}")
    response = manager_client.get(reverse("clients:list"), {"q": "studio client"})
    assert len(response.context["page"].object_list) == 50
    assert "q=studio+client&amp;page=2" in response.content.decode()


def test_client_list_query_count_does_not_grow(manager_client):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            manager_client.get(reverse("clients:list"))
        return len(captured)

    for _ in range(3):
        DealFactory()
    few = queries()
    for _ in range(30):
        DealFactory()
    assert queries() == few
