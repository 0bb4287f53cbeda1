"""The studio's letters: shipped in Russian and English, rendered in the sandbox from plain
data, sent as HTML with a plain-text alternative from the studio's name and address; a
broken template never stops a letter and the owners hear about it."""

from __future__ import annotations

import re

import pytest

from studiocrm.billing.models import ProviderAccount
from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import BriefTemplate
from studiocrm.flow import letters
from studiocrm.flow.catalog import CLIENT_LETTERS, LETTERS, MANAGER_LETTERS
from studiocrm.flow.models import MessageTemplate
from studiocrm.flow.sample import context_for
from studiocrm.notifications import outbox
from studiocrm.notifications.models import Outbox
from tests.factories import ContactFactory, DealFactory
from tests.flow.conftest import STUDIO

pytestmark = pytest.mark.django_db


@pytest.fixture
def brief_deal(studio, manager, migration_data):
    contact = ContactFactory(name="Ирина Петрова", email="irina@client.test")
    return DealFactory(manager=manager, client=contact.client, contact=contact, title="Сайт")


def _send_brief(deal, manager, language="ru"):
    template = BriefTemplate.objects.get(default_key="corporate", language=language)
    return brief_services.send_brief(deal, template, actor=manager)


@pytest.mark.parametrize("letter", CLIENT_LETTERS, ids=lambda letter: letter.key)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_letter_ships_in_both_languages_and_renders_with_greeting_and_signature(
    letter, language, brief_deal
):
    assert MessageTemplate.objects.filter(key=letter.key, language=language).exists()
    context, _deal = context_for(letter.key, language, brief_deal)
    rendered = letters.render(letter.key, language, context)
    greeting = "Здравствуйте, Ирина Петрова!" if language == "ru" else "Dear Ирина Петрова,"
    assert greeting in rendered.text
    assert rendered.subject.startswith(f"{STUDIO}: ")
    assert (" от " not in rendered.subject) and (" from " not in rendered.subject)
    signature = "С уважением," if language == "ru" else "Kind regards,"
    assert signature in rendered.html and signature in rendered.text
    assert "<" not in rendered.text  # the alternative is plain text, links written out


def test_a_greeting_without_a_name_still_reads_well(studio, manager, migration_data):
    contact = ContactFactory(name="", email="anon@client.test")
    deal = DealFactory(manager=manager, client=contact.client, contact=contact)
    context, _deal = context_for("brief_link", "ru", deal)
    assert letters.render("brief_link", "ru", context).text.startswith("Здравствуйте!")


def test_the_brief_letter_leaves_from_the_studio_as_html_with_a_text_alternative(
    brief_deal, manager, smtp_server, django_capture_on_commit_callbacks
):
    brief = _send_brief(brief_deal, manager)
    outbox.deliver_due()
    [received] = smtp_server.received
    assert received["From"] == f"{STUDIO} <hello@pixel.test>"
    assert received["Subject"].strip() == f"{STUDIO}: бриф «{brief.title}»"
    assert received.get_content_type() == "multipart/alternative"
    html = received.get_body(("html",)).get_content()
    text = received.get_body(("plain",)).get_content()
    link = brief_services.client_link(brief)
    assert f'href="{link}"' in html and link in text
    assert "Здравствуйте, Ирина Петрова!" in html and "Здравствуйте, Ирина Петрова!" in text
    assert "С уважением," in text and "+7 495 123-45-67" in text


def test_the_logo_is_shown_by_its_public_address(studio, brief_deal, client):
    from django.core.files.base import ContentFile

    studio.logo.save("logo.png", ContentFile(b"\x89PNG\r\n\x1a\n" + b"0" * 64), save=True)
    context, _deal = context_for("brief_link", "ru", brief_deal)
    html = letters.render("brief_link", "ru", context).html
    url = letters.logo_url(studio)
    assert f'src="{url}"' in html
    response = client.get(url.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert client.get("/automation/logo/other.png").status_code == 404


def test_the_invoice_letter_promises_online_payment_only_when_a_provider_takes_it(
    brief_deal,
):
    ProviderAccount.objects.update_or_create(provider="bank_transfer", defaults={"enabled": True})
    context, _deal = context_for("invoice_issued", "ru", brief_deal)
    context["invoice"]["pay_online"] = False
    text = letters.render("invoice_issued", "ru", context).text
    assert "онлайн" not in text and "реквизиты для банковского перевода" in text


def test_a_broken_template_falls_back_to_the_shipped_wording_and_tells_the_owner_once(
    brief_deal, manager, owner
):
    MessageTemplate.objects.filter(key="brief_link", language="ru").update(
        body_html="<p>{{ client.name }</p>"
    )
    brief = _send_brief(brief_deal, manager)
    letter = Outbox.objects.get(dedupe_key=f"brief-sent:{brief.pk}")
    assert "Заполнить бриф" in letter.body_html  # the shipped wording reached the client
    reports = Outbox.objects.filter(dedupe_key__startswith="letter-broken:brief_link:ru:")
    assert [report.to for report in reports] == [owner.email]
    assert "/automation/letters/brief_link/ru/" in reports[0].body

    other = DealFactory(manager=manager, client=brief_deal.client, contact=brief_deal.contact)
    _send_brief(other, manager)
    assert reports.count() == 1  # one report per edit, not per letter


@pytest.mark.parametrize("letter", MANAGER_LETTERS, ids=lambda letter: letter.key)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_manager_letter_ships_in_both_languages_and_renders_without_a_client_signature(
    letter, language, brief_deal
):
    assert letter in LETTERS
    assert MessageTemplate.objects.filter(key=letter.key, language=language).exists()
    context, _deal = context_for(letter.key, language, brief_deal)
    rendered = letters.render(letter.key, language, context)
    assert rendered.subject and "{{" not in rendered.subject
    assert "С уважением," not in rendered.text and "Kind regards," not in rendered.text
    assert f'href="http://testserver/deals/{brief_deal.pk}/"' in rendered.html or (
        "http://testserver/" in rendered.text
    )
    assert not re.search(r"</?[a-z]+[ >/]", rendered.text)  # no tags in the plain text


def test_the_managers_letter_about_a_client_email_is_the_owners_template(brief_deal, manager):
    from studiocrm.deals import events

    MessageTemplate.objects.filter(key="manager_client_email", language="ru").update(
        subject="Клиент написал: {{ deal.title }}",
        body_html="<p>{{ email.sender }}: «{{ email.subject }}». Ответьте сегодня.</p>",
        updated_by=manager,
    )

    event = events.emit(
        events.EMAIL_RECEIVED,
        brief_deal,
        payload={"from": "irina@client.test", "subject": "Фото для сайта", "note": 1},
    )

    letter = Outbox.objects.get(dedupe_key=f"email-received:{event.pk}")
    assert letter.to == manager.email
    assert letter.reply_to == "irina@client.test"
    assert letter.subject == "Клиент написал: Сайт"
    assert "irina@client.test: «Фото для сайта». Ответьте сегодня." in letter.body
