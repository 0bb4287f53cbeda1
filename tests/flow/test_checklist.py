"""The kickoff checklist: the deposit opens the deal's "what to prepare" list (the studio's,
in the client's language), the kickoff letter links to it, the client ticks items on the page
(htmx), each tick is an event the manager sees on the deal, and a link only opens its own
list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from studiocrm.billing import payments
from studiocrm.billing import services as billing_services
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import Event
from studiocrm.flow import checklist as checklists
from studiocrm.flow.models import Checklist, ChecklistItem, KickoffItem, Notification
from tests.factories import ContactFactory
from tests.flow.conftest import MONDAY, rule_letters

pytestmark = pytest.mark.django_db


def paid_deal(manager, title="Сайт пекарни", email="irina@client.test"):
    contact = ContactFactory(name="Ирина Петрова", email=email)
    deal = deal_services.create_deal(
        title=title, client=contact.client, contact=contact, actor=manager, manager=manager,
        currency="RUB",
    )  # fmt: skip
    invoice = billing_services.create_invoice(
        deal, lines=[billing_services.LineInput("Дизайн", 1, 50_000)], actor=manager, due_days=5
    )
    billing_services.issue_invoice(invoice, actor=manager)
    invoice.refresh_from_db()
    payments.record_manual_payment(
        invoice, amount=invoice.total, received_on=MONDAY.date(), actor=manager
    )
    return deal


@pytest.fixture
def deal(clock, manager, migration_data):
    return paid_deal(manager)


@pytest.fixture
def checklist(deal):
    return Checklist.objects.get(deal=deal)


def page(checklist):
    return reverse("flow_client:checklist", args=[checklist.link_token()])


def tick_url(checklist, item, token=None):
    return reverse("flow_client:tick", args=[token or checklist.link_token(), item.pk])


def ticks(deal):
    return Event.objects.filter(deal=deal, name="checklist.ticked")


def test_the_deposit_opens_the_checklist_and_the_kickoff_letter_links_to_it(deal, checklist, clock):
    assert [item.text for item in checklist.items.all()] == checklists.default_items("ru")
    clock.run_jobs_at(MONDAY + timedelta(minutes=5))
    [kickoff] = rule_letters("kickoff")
    link = checklists.client_url(checklist)
    assert f'href="{link}"' in kickoff.body_html and link in kickoff.body
    response = HttpClient().get(page(checklist))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Что подготовить к старту" in text and "доступы к домену" in text
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]


def test_a_second_payment_keeps_the_same_checklist(deal, checklist, manager):
    invoice = billing_services.create_invoice(
        deal, lines=[billing_services.LineInput("Вёрстка", 1, 10_000)], actor=manager
    )
    billing_services.issue_invoice(invoice, actor=manager)
    invoice.refresh_from_db()
    payments.record_manual_payment(
        invoice, amount=invoice.total, received_on=MONDAY.date(), actor=manager
    )
    assert Checklist.objects.filter(deal=deal).count() == 1
    assert checklist.items.count() == len(checklists.default_items("ru"))


def test_a_tick_by_htmx_swaps_the_item_and_the_manager_sees_it_on_the_deal(
    checklist, deal, manager_client
):
    item = checklist.items.first()
    response = HttpClient().post(tick_url(checklist, item), {"done": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.startswith("<li") and 'aria-pressed="true"' in fragment and "готово" in fragment
    [event] = ticks(deal)
    assert event.payload == {"item": item.pk, "text": item.text, "done": True}
    deal_page = manager_client.get(deal.get_absolute_url()).content.decode()
    assert "What the client prepares: 1 of 4 ready" in deal_page


def test_without_javascript_the_tick_reloads_the_page(checklist):
    item = checklist.items.first()
    response = HttpClient().post(tick_url(checklist, item), {"done": "1"})
    assert response.status_code == 302 and response["Location"].endswith(f"#item-{item.pk}")


def test_a_replayed_tick_records_nothing_more(checklist, deal):
    item = checklist.items.first()
    browser = HttpClient()
    for _replay in range(3):
        browser.post(tick_url(checklist, item), {"done": "1"})
    assert ticks(deal).count() == 1
    browser.post(tick_url(checklist, item), {"done": "0"})  # the client changes their mind
    item.refresh_from_db()
    assert item.done_at is None and ticks(deal).count() == 2


def test_everything_ready_rings_the_managers_bell_once(checklist, deal, manager):
    browser = HttpClient()
    for item in checklist.items.all():
        browser.post(tick_url(checklist, item), {"done": "1"})
    last = checklist.items.last()
    browser.post(tick_url(checklist, last), {"done": "1"})  # a double click on the last one
    bells = Notification.objects.filter(user=manager, text__startswith="Клиент подготовил всё")
    assert bells.count() == 1
    checklist.refresh_from_db()
    assert checklist.completed_at is not None


def test_a_wrong_token_is_the_portals_404_and_changes_nothing(checklist, deal):
    item = checklist.items.first()
    response = HttpClient().post(tick_url(checklist, item, token="x" * 43), {"done": "1"})
    assert response.status_code == 404
    assert HttpClient().get(reverse("flow_client:checklist", args=["y" * 43])).status_code == 404
    assert not ticks(deal).exists()


def test_a_link_cannot_tick_another_clients_item(checklist, deal, manager):
    other_deal = paid_deal(manager, title="Другой сайт", email="other@client.test")
    foreign = Checklist.objects.get(deal=other_deal).items.first()
    response = HttpClient().post(tick_url(checklist, foreign), {"done": "1"})
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.done_at is None
    assert not Event.objects.filter(name="checklist.ticked").exists()


def test_malformed_and_get_ticks_are_refused(checklist, deal):
    item = checklist.items.first()
    browser = HttpClient()
    assert browser.post(tick_url(checklist, item), {"done": "yes"}).status_code == 400
    assert browser.post(tick_url(checklist, item), {"done": "1" * 10_000}).status_code == 400
    assert browser.get(tick_url(checklist, item)).status_code == 405
    assert not ticks(deal).exists()


def test_the_owner_words_the_list_and_new_clients_get_it(owner_client, manager, migration_data):
    form = {"ru": "Логотип\n\n  Доступы к хостингу  \n", "en": "Logo\nHosting access"}
    assert owner_client.post(reverse("flow:checklist"), form).status_code == 302
    assert list(KickoffItem.objects.filter(language="ru").values_list("text", flat=True)) == [
        "Логотип",
        "Доступы к хостингу",
    ]
    deal = paid_deal(manager, title="Новый клиент", email="new@client.test")
    texts = list(ChecklistItem.objects.filter(checklist__deal=deal).values_list("text", flat=True))
    assert texts == ["Логотип", "Доступы к хостингу"]


def test_a_manager_cannot_change_the_studios_list(manager_client, migration_data):
    before = list(KickoffItem.objects.values_list("text", flat=True))
    assert manager_client.post(reverse("flow:checklist"), {"ru": "x", "en": "y"}).status_code == 403
    assert list(KickoffItem.objects.values_list("text", flat=True)) == before
