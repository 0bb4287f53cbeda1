"""Finding 2 of issue 14: a manager could edit the client and contacts of another manager's
deal and so redirect that manager's outgoing documents. The rule now (deals.client_permissions):
owners change every client and contact; a manager changes a client, adds contacts to it or
edits its contacts only when none of its deals is assigned to another manager; a contact
also follows the deals it is the contact of.

The persona matrix: owner, the deal's manager, another manager, anonymous. On denial
nothing changes. The cross-manager attack is replayed against a real server (live_server on
127.0.0.1) with a logged-in session, as it was found.
"""

import re

import pytest
import requests
from django.urls import reverse

from studiocrm.clients.models import Client, Contact
from studiocrm.core.models import AuditLog
from tests.factories import ClientFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

CONTACT = {
    "name": "Irina",
    "email": "irina@example.com",
    "phone": "",
    "position": "",
    "messenger": "",
}


@pytest.fixture
def deal_of_manager(manager):
    client = ClientFactory(name="Acme")
    contact = ContactFactory(client=client, name="Irina", email="irina@example.com")
    return DealFactory(client=client, contact=contact, manager=manager)


def attempts(deal):
    client, contact = deal.client, deal.contact
    return {
        "client": (
            reverse("clients:edit", args=[client.pk]),
            {"kind": "company", "name": "Hijacked"},
        ),
        "contact": (
            reverse("clients:contact_edit", args=[contact.pk]),
            {**CONTACT, "email": "thief@example.com"},
        ),
        "new_contact": (
            reverse("clients:contact_create", args=[client.pk]),
            {**CONTACT, "name": "Extra", "email": "thief@example.com"},
        ),
    }


def snapshot():
    return (
        list(Client.objects.values_list("name", flat=True).order_by("pk")),
        list(Contact.objects.values_list("name", "email").order_by("pk")),
        AuditLog.objects.count(),
    )


@pytest.mark.parametrize(
    "persona,allowed",
    [("owner", True), ("manager", True), ("other_manager", False), ("anonymous", False)],
)
@pytest.mark.parametrize("action", ["client", "contact", "new_contact"])
def test_who_may_change_the_client_and_contacts_of_a_deal(
    request, deal_of_manager, other_manager, persona, allowed, action
):
    http = request.getfixturevalue(f"{persona}_client")
    url, data = attempts(deal_of_manager)[action]
    before = snapshot()

    get = http.get(url)
    response = http.post(url, data)

    if allowed:
        assert get.status_code == 200
        assert response.status_code == 302
        assert snapshot() != before
    else:
        assert get.status_code in (302, 403)
        assert response.status_code in (302, 403)
        if persona != "anonymous":
            assert response.status_code == 403
        assert snapshot() == before


def test_a_manager_edits_clients_with_their_own_or_unassigned_deals(manager_client, manager):
    client = ClientFactory(name="Shared")
    DealFactory(client=client, manager=manager)
    DealFactory(client=client, manager=None)

    response = manager_client.post(
        reverse("clients:edit", args=[client.pk]), {"kind": "company", "name": "Renamed"}
    )

    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "Renamed"


def test_a_contact_on_another_managers_deal_elsewhere_is_theirs(
    manager_client, manager, other_manager
):
    contact = ContactFactory(client=ClientFactory(), email="irina@example.com")
    DealFactory(client=ClientFactory(), contact=contact, manager=other_manager)

    response = manager_client.post(
        reverse("clients:contact_edit", args=[contact.pk]), {**CONTACT, "email": "x@example.com"}
    )

    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.email == "irina@example.com"


def test_the_client_page_is_read_only_for_another_manager(
    other_manager_client, manager_client, deal_of_manager
):
    url = reverse("clients:detail", args=[deal_of_manager.client.pk])
    edit = reverse("clients:edit", args=[deal_of_manager.client.pk])

    assert edit not in other_manager_client.get(url).content.decode()
    assert "Read-only" in other_manager_client.get(url).content.decode()
    assert edit in manager_client.get(url).content.decode()


def test_another_manager_cannot_redirect_documents_on_a_real_server(
    live_server, deal_of_manager, other_manager
):
    other_manager.set_password("secret-pass-123")
    other_manager.save()
    session = requests.Session()
    login_page = session.get(f"{live_server.url}{reverse('login')}", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
    session.post(
        f"{live_server.url}{reverse('login')}",
        data={
            "username": other_manager.username,
            "password": "secret-pass-123",
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": f"{live_server.url}{reverse('login')}"},
        timeout=10,
    )
    contact = deal_of_manager.contact
    url = f"{live_server.url}{reverse('clients:contact_edit', args=[contact.pk])}"

    page = session.get(url, timeout=10)
    csrf = session.cookies.get("csrftoken")
    answer = session.post(
        url,
        data={**CONTACT, "email": "thief@example.com", "csrfmiddlewaretoken": csrf},
        headers={"Referer": url},
        timeout=10,
    )

    assert page.status_code == 403
    assert answer.status_code == 403
    contact.refresh_from_db()
    assert contact.email == "irina@example.com"
