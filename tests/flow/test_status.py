"""Status letters: a won deal that moves on tells the client by itself; a manager sends a
status update with a short note from the deal page, once per form, only on deals they may
change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from studiocrm.deals import services as deal_services
from studiocrm.deals.models import IN_WORK, INVOICED, PAID
from studiocrm.notifications.models import Outbox
from tests.factories import ContactFactory, DealFactory
from tests.flow.conftest import STUDIO

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(studio, manager, migration_data):
    contact = ContactFactory(name="Ирина Петрова", email="irina@client.test")
    return DealFactory(
        manager=manager, client=contact.client, contact=contact, title="Сайт пекарни"
    )


def status_letters(deal):
    return list(
        Outbox.objects.filter(deal=deal, dedupe_key__startswith="status-update:").order_by("pk")
    )


def test_a_won_deal_moving_on_tells_the_client_the_new_stage(deal, manager):
    deal_services.move_deal(deal, INVOICED, actor=manager)
    deal_services.move_deal(deal, IN_WORK, actor=manager)
    assert status_letters(deal) == []  # the deposit's kickoff letter says it already
    deal_services.move_deal(deal, PAID, actor=manager)
    [letter] = status_letters(deal)
    assert letter.to == "irina@client.test"
    assert letter.subject == f"{STUDIO}: как идут дела с «Сайт пекарни»"
    assert "перешёл на этап «Оплачено»" in letter.body or "«Оплачена»" in letter.body
    assert "Здравствуйте, Ирина Петрова!" in letter.body


def test_the_manager_sends_a_status_update_with_a_note_once_per_form(deal, manager_client):
    url = reverse("flow:status_update", args=[deal.pk])
    form = {"note": "Макет главной готов, покажем в четверг.", "key": "form-1"}
    assert manager_client.post(url, form).status_code == 302
    assert manager_client.post(url, form).status_code == 302  # a double click
    [letter] = status_letters(deal)
    assert "Макет главной готов, покажем в четверг." in letter.body
    assert "сейчас этап «Новая" in letter.body or "сейчас этап «" in letter.body
    manager_client.post(url, {**form, "key": "form-2"})  # another update later
    assert len(status_letters(deal)) == 2
    page = manager_client.get(deal.get_absolute_url()).content.decode()
    assert "Send the client a status update" in page


def test_another_manager_cannot_send_a_status_update(deal, other_manager_client):
    url = reverse("flow:status_update", args=[deal.pk])
    assert other_manager_client.post(url, {"note": "x", "key": "k"}).status_code == 403
    assert status_letters(deal) == []


def test_anonymous_and_oversized_requests_send_nothing(deal, anonymous_client, manager_client):
    url = reverse("flow:status_update", args=[deal.pk])
    assert anonymous_client.post(url, {"note": "x", "key": "k"}).status_code in (302, 403)
    manager_client.post(url, {"note": "x" * 5000, "key": "k"})
    assert status_letters(deal) == []


def test_no_address_no_letter_and_the_manager_is_told(
    studio, manager, manager_client, migration_data
):
    contact = ContactFactory(email="")
    silent = DealFactory(manager=manager, client=contact.client, contact=contact)
    response = manager_client.post(
        reverse("flow:status_update", args=[silent.pk]), {"note": "x", "key": "k"}, follow=True
    )
    assert "has no email address" in response.content.decode() or "нет email" in (
        response.content.decode()
    )
    assert status_letters(silent) == []
