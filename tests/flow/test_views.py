"""Owner pages for letters and rules, the deal's automation panel and its pause switch: who
may do what, and what each page shows."""

from __future__ import annotations

import pytest

from studiocrm.flow.models import DealPause, MessageTemplate, Rule
from studiocrm.notifications.models import Outbox
from tests.factories import ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

LETTER = "/automation/letters/brief_link/ru/"


@pytest.fixture
def deal(studio, manager, migration_data):
    contact = ContactFactory(name="Ирина Петрова", email="irina@client.test")
    return DealFactory(manager=manager, client=contact.client, contact=contact, title="Сайт")


def _form(**changes):
    template = MessageTemplate.objects.get(key="brief_link", language="ru")
    data = {"subject": template.subject, "body_html": template.body_html, "body_text": ""}
    return {**data, **changes}


def test_the_owner_sees_every_letter_in_both_languages(owner_client, deal):
    page = owner_client.get("/automation/letters/").content.decode()
    assert LETTER in page and "/automation/letters/kickoff/en/" in page


def test_a_manager_cannot_open_or_change_letters(manager_client, deal):
    before = MessageTemplate.objects.get(key="brief_link", language="ru").subject
    assert manager_client.get(LETTER).status_code == 403
    assert manager_client.post(LETTER, _form(subject="Hacked")).status_code == 403
    assert MessageTemplate.objects.get(key="brief_link", language="ru").subject == before


def test_the_editor_previews_the_letter_on_a_real_deal(owner_client, deal):
    page = owner_client.get(LETTER).content.decode()
    assert "Здравствуйте, Ирина Петрова!" in page  # inside the preview's srcdoc
    assert "client.name" in page  # the placeholder reference
    preview = owner_client.post(
        f"{LETTER}preview/", _form(subject="{{ studio.name }}: привет", deal=deal.pk)
    ).content.decode()
    assert "Веб-студия «Пиксель»: привет" in preview


def test_saving_keeps_the_owners_wording(owner_client, owner, deal):
    response = owner_client.post(LETTER, _form(subject="{{ studio.name }}: анкета"))
    assert response.status_code == 302
    stored = MessageTemplate.objects.get(key="brief_link", language="ru")
    assert (stored.subject, stored.updated_by) == ("{{ studio.name }}: анкета", owner)


def test_a_syntax_error_is_shown_with_its_line_and_nothing_is_saved(owner_client, deal):
    body = "<p>Здравствуйте!</p>\n<p>{% if client.name %}</p>"
    page = owner_client.post(LETTER, _form(body_html=body)).content.decode()
    assert "Line 2" in page or "Строка 2" in page
    stored = MessageTemplate.objects.get(key="brief_link", language="ru").body_html
    assert stored != body


def test_send_a_test_to_me_mails_the_owner_the_unsaved_wording(owner_client, owner, deal):
    owner_client.post(LETTER, _form(subject="Проверка: {{ studio.name }}", send_test="1"))
    test = Outbox.objects.get(to=owner.email, dedupe_key__startswith="letter-test:brief_link:ru:")
    assert test.subject == "Проверка: Веб-студия «Пиксель»"
    assert test.deal is None  # a test is not part of the deal's history


def test_restore_brings_back_the_shipped_wording(owner_client, deal):
    owner_client.post(LETTER, _form(subject="Другое"))
    owner_client.post(f"{LETTER}restore/")
    assert MessageTemplate.objects.get(key="brief_link", language="ru").subject.endswith(
        "бриф «{{ brief.title }}»"
    )


def test_the_rules_page_lists_the_default_rules_and_switches_one_off(owner_client, deal):
    page = owner_client.get("/automation/rules/").content.decode()
    assert page.count("/toggle/") == Rule.objects.count() >= 16
    rule = Rule.objects.get(code="brief-reminder-2")
    owner_client.post(f"/automation/rules/{rule.pk}/toggle/")
    rule.refresh_from_db()
    assert rule.enabled is False


def test_the_owner_adds_a_rule_in_the_browser(owner_client, deal):
    response = owner_client.post(
        "/automation/rules/new/",
        {
            "name": "Спасибо за оплату",
            "enabled": "on",
            "event": "payment.received",
            "delay": "0",
            "unit": "days",
            "anchor": "event",
            "condition": "always",
            "action": "email_client",
            "template_key": "payment_received",
            "task_due_hours": "4",
            "quiet_hours": "on",
        },
    )
    assert response.status_code == 302
    assert Rule.objects.filter(name="Спасибо за оплату", code__startswith="custom-").exists()


def test_a_rule_emailing_the_client_needs_a_letter(owner_client, deal):
    page = owner_client.post(
        "/automation/rules/new/",
        {"name": "x", "event": "brief.sent", "delay": "1", "unit": "days", "anchor": "event",
         "condition": "always", "action": "email_client", "task_due_hours": "4"},
    ).content.decode()  # fmt: skip
    assert "Choose the letter to send." in page or "Выберите письмо" in page


def test_the_deals_manager_pauses_reminders_and_another_manager_cannot(
    manager_client, other_manager_client, deal
):
    assert (
        other_manager_client.post(
            f"/automation/deals/{deal.pk}/pause/", {"paused": "1"}
        ).status_code
        == 403
    )
    assert not DealPause.objects.filter(deal=deal).exists()
    manager_client.post(f"/automation/deals/{deal.pk}/pause/", {"paused": "1"})
    assert DealPause.objects.filter(deal=deal).exists()
    page = manager_client.get(deal.get_absolute_url()).content.decode()
    assert "Resume reminders" in page or "Возобновить напоминания" in page
