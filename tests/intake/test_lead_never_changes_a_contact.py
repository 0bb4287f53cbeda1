"""Finding 1 of issue 14: an anonymous lead must never change an existing contact.

Found on a running server: ``POST /lead/submit/`` with the phone of a contact that had no
email and ``email=attacker@…`` stored the attacker's address on that contact. These tests
post the same hostile leads to a real server (Django's live_server on 127.0.0.1) through the
hosted form, the embed endpoint (same URL, JSON answer) and the JSON API.
"""

import json

import pytest
import requests
from django.test import override_settings

from studiocrm.clients.models import Contact
from studiocrm.core.models import AuditLog
from studiocrm.deals.models import Deal
from studiocrm.intake import services
from studiocrm.intake.models import ContactChange, Lead
from tests.factories import ClientFactory, ContactFactory, DealFactory

ATTACKER = "attacker@evil.example.com"
VICTIM_PHONE = "+7 999 123-45-67"


@pytest.fixture
def victim(studio):
    """A contact the studio knows by phone, with no email yet."""
    return ContactFactory(email="", phone=VICTIM_PHONE, phone_normalized="+79991234567")


def post_form(base, **extra):
    data = {"name": "Mallory", "phone": VICTIM_PHONE, "email": ATTACKER, "message": "Hi"}
    return requests.post(f"{base}/lead/submit/", data={**data, **extra}, timeout=10)


@override_settings(INTAKE_RATE="1000/m")
@pytest.mark.parametrize("channel", ["form", "embed", "api"])
def test_a_hostile_lead_leaves_the_existing_contact_as_it_was(
    live_server, victim, manager, channel
):
    """The lead opens a deal on the contact it matched, but the contact keeps its data;
    the lead's email waits on the deal as a proposal."""
    if channel == "form":
        response = post_form(live_server.url)
        assert response.status_code == 200  # the thank-you page after the redirect
    elif channel == "embed":
        response = requests.post(
            f"{live_server.url}/lead/submit/?embed=1",
            data={"name": "Mallory", "phone": VICTIM_PHONE, "email": ATTACKER},
            headers={"Accept": "application/json"},
            timeout=10,
        )
        assert response.json() == {"ok": True}
    else:
        _key, secret = services.create_api_key("Website", actor=manager)
        response = requests.post(
            f"{live_server.url}/api/v1/leads",
            data=json.dumps({"name": "Mallory", "phone": VICTIM_PHONE, "email": ATTACKER}),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
            timeout=10,
        )
        assert response.status_code == 201

    victim.refresh_from_db()
    assert victim.email == ""
    assert not Contact.objects.filter(email__iexact=ATTACKER).exists()
    assert not AuditLog.objects.filter(verb="contact.updated").exists()
    deal = Deal.objects.filter(contact=victim).latest("pk")
    lead = Lead.objects.get(deal=deal)
    assert (lead.email, lead.phone, lead.name) == (ATTACKER, VICTIM_PHONE, "Mallory")
    change = ContactChange.objects.get(lead=lead)
    assert (change.field, change.value, change.status) == ("email", ATTACKER, "pending")


@override_settings(INTAKE_RATE="1000/m")
def test_a_lead_with_a_known_email_and_a_new_phone_proposes_the_phone(studio, manager):
    contact = ContactFactory(email="anna@example.com", phone="")
    result = services.submit_lead(
        services.LeadData(name="Anna", email="anna@example.com", phone="+7 495 123-45-67"),
        source="website",
        idempotency_key="k1",
    )
    contact.refresh_from_db()
    assert result.deal.contact == contact
    assert contact.phone == ""
    assert ContactChange.objects.get().field == "phone"


def test_a_lead_that_agrees_with_the_contact_proposes_nothing(studio, manager):
    ContactFactory(email="anna@example.com", phone=VICTIM_PHONE, phone_normalized="+79991234567")
    services.submit_lead(
        services.LeadData(name="Anna", email="ANNA@example.com", phone="89991234567"),
        source="website",
        idempotency_key="k1",
    )
    assert not ContactChange.objects.exists()


def lead_deal(victim):
    services.submit_lead(
        services.LeadData(name="Mallory", email=ATTACKER, phone=VICTIM_PHONE),
        source="website",
        idempotency_key="hostile",
    )
    return Deal.objects.filter(contact=victim).latest("pk")


def test_the_deal_page_shows_the_proposal_and_the_brief_form_does_not_prefill_it(
    victim, manager, manager_client
):
    deal = lead_deal(victim)

    html = manager_client.get(deal.get_absolute_url()).content.decode()

    assert "Lead as received" in html
    assert f"The lead gave the email <strong>{ATTACKER}</strong>" in html
    assert "Accept: change the contact" in html
    # The brief form's "Send to" is the contact's (empty) address, not the lead's.
    assert f'value="{ATTACKER}"' not in html


def test_accepting_applies_the_email_through_the_service_with_an_audit_row(
    victim, manager, manager_client
):
    deal = lead_deal(victim)
    change = ContactChange.objects.get()

    response = manager_client.post(f"/lead/changes/{change.pk}/", {"decision": "accept"})

    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.email == ATTACKER
    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("accepted", manager)
    row = AuditLog.objects.get(verb="contact.updated", object_id=str(victim.pk))
    assert row.actor == manager
    assert row.data["from"] == "" and row.data["to"] == ATTACKER
    assert AuditLog.objects.filter(
        verb="intake.contact_change_accepted", object_id=str(deal.pk)
    ).exists()


def test_rejecting_changes_nothing_but_the_proposal(victim, manager, manager_client):
    lead_deal(victim)
    change = ContactChange.objects.get()

    manager_client.post(f"/lead/changes/{change.pk}/", {"decision": "reject"})

    victim.refresh_from_db()
    assert victim.email == ""
    change.refresh_from_db()
    assert change.status == "rejected"
    assert (
        manager_client.post(f"/lead/changes/{change.pk}/", {"decision": "accept"}).status_code
        == 403
    )
    victim.refresh_from_db()
    assert victim.email == ""


@pytest.mark.parametrize("who", ["other_manager_client", "anonymous_client"])
def test_nobody_else_decides_and_nothing_changes_on_denial(victim, manager, who, request):
    lead_deal(victim)
    change = ContactChange.objects.get()
    http = request.getfixturevalue(who)

    response = http.post(f"/lead/changes/{change.pk}/", {"decision": "accept"})

    assert response.status_code in (302, 403)  # anonymous: to the login page
    victim.refresh_from_db()
    change.refresh_from_db()
    assert (victim.email, change.status) == ("", "pending")


def test_a_contact_shared_with_another_managers_deal_is_changed_only_by_an_owner(
    victim, manager, other_manager, owner_client, manager_client
):
    DealFactory(client=victim.client, contact=victim, manager=other_manager)
    lead_deal(victim)
    change = ContactChange.objects.get()

    assert (
        manager_client.post(f"/lead/changes/{change.pk}/", {"decision": "accept"}).status_code
        == 403
    )
    victim.refresh_from_db()
    assert victim.email == ""
    assert (
        owner_client.post(f"/lead/changes/{change.pk}/", {"decision": "accept"}).status_code == 302
    )
    victim.refresh_from_db()
    assert victim.email == ATTACKER


def test_a_new_person_gets_a_new_contact_with_what_they_gave(studio, manager):
    ClientFactory(name="Unrelated")
    result = services.submit_lead(
        services.LeadData(name="Newcomer", email="new@example.com"),
        source="website",
        idempotency_key="n",
    )
    assert result.deal.contact.email == "new@example.com"
    assert Lead.objects.get().contact_created is True
    assert not ContactChange.objects.exists()
