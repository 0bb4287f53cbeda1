"""Finding 2 of issue 14, second half: every send action shows who it goes to (name and
email), so an address someone redirected is visible before the manager presses the button."""

import pytest
from django.utils.html import escape

pytestmark = pytest.mark.django_db


def test_the_deal_page_shows_the_recipient_on_the_brief_and_document_sends(
    manager_client, proposal
):
    contact = proposal.deal.contact

    html = manager_client.get(proposal.deal.get_absolute_url()).content.decode()

    expected = f"To: {escape(contact.name)} &lt;{contact.email}&gt;"
    # One under the brief form, one beside the proposal's "Send".
    assert html.count(expected) >= 2


def test_the_document_page_shows_the_recipient_beside_send(manager_client, proposal):
    contact = proposal.deal.contact

    html = manager_client.get(proposal.get_absolute_url()).content.decode()

    assert f"To: {escape(contact.name)} &lt;{contact.email}&gt;" in html


def test_a_contact_without_an_email_is_said_so(manager_client, proposal):
    contact = proposal.deal.contact
    contact.email = ""
    contact.save()

    html = manager_client.get(proposal.get_absolute_url()).content.decode()

    assert f"To: {escape(contact.name)} — no email on the contact" in html
