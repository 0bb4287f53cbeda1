from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from studiocrm.clients.models import Client, Contact
from studiocrm.core.models import AuditLog, Studio
from studiocrm.deals.models import NEW, Deal, Source
from studiocrm.intake import services
from studiocrm.intake.services import InvalidLead, LeadData, submit_lead
from studiocrm.notifications.models import Outbox
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def lead(**overrides):
    values = {
        "name": "Anna Petrova",
        "email": "anna@example.com",
        "phone": "",
        "company": "Acme",
        "message": "We need an online shop for garden goods.",
    }
    values.update(overrides)
    return LeadData(**values)


def test_a_new_lead_opens_a_deal_in_stage_new_with_a_new_client_and_contact(manager):
    result = submit_lead(lead(), source=Source.WEBSITE, idempotency_key="k1")

    assert result.created is True
    deal = Deal.objects.get()
    assert deal == result.deal
    assert (deal.stage_id, deal.source, deal.manager) == (NEW, Source.WEBSITE, manager)
    assert deal.contact.email == "anna@example.com"
    assert deal.client.name == "Acme"
    assert deal.description == "We need an online shop for garden goods."


def test_a_lead_with_the_same_email_in_other_case_matches_the_existing_contact(manager):
    contact = ContactFactory(email="Anna@Example.com")

    result = submit_lead(lead(email="anna@EXAMPLE.com"), source=Source.WEBSITE, idempotency_key="k")

    assert result.deal.contact == contact
    assert Contact.objects.count() == 1
    assert Client.objects.count() == 1


def test_a_lead_with_the_same_phone_in_another_format_matches_the_existing_contact(manager):
    first = submit_lead(
        lead(email="", phone="+7 (999) 123-45-67"), source=Source.WEBSITE, idempotency_key="a"
    )
    second = submit_lead(
        lead(email="", phone="89991234567", message="Another one"),
        source=Source.API,
        idempotency_key="b",
    )

    assert second.deal != first.deal
    assert second.deal.contact == first.deal.contact
    assert Contact.objects.count() == 1


def test_two_leads_from_one_person_keep_one_contact_and_open_two_deals(manager):
    submit_lead(lead(), source=Source.WEBSITE, idempotency_key="first")
    submit_lead(lead(message="And a logo"), source=Source.WEBSITE, idempotency_key="second")

    assert Deal.objects.count() == 2
    assert Contact.objects.count() == 1


def test_new_leads_go_round_robin_between_active_managers(studio):
    first, second = UserFactory(), UserFactory()
    UserFactory(is_active=False)

    managers = [
        submit_lead(lead(), source=Source.WEBSITE, idempotency_key=f"k{n}").deal.manager
        for n in range(3)
    ]

    assert managers == [first, second, first]


def test_the_default_manager_rule_gives_every_lead_to_the_default_manager(studio, manager):
    chosen = UserFactory()
    studio.assignment_rule = Studio.Assignment.DEFAULT_MANAGER
    studio.default_manager = chosen
    studio.save()

    deals = [
        submit_lead(lead(), source=Source.WEBSITE, idempotency_key=f"k{n}").deal for n in range(2)
    ]

    assert [deal.manager for deal in deals] == [chosen, chosen]


def test_the_manager_is_emailed_through_the_outbox_with_a_link_that_opens_the_deal(
    manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        deal = submit_lead(lead(), source=Source.WEBSITE, idempotency_key="k").deal

    message = Outbox.objects.get()
    assert message.to == manager.email
    assert message.deal == deal
    assert f"http://testserver/deals/{deal.pk}/" in message.body


def test_the_title_is_the_company_and_the_start_of_the_message(manager):
    message = "We need an online shop for garden goods with delivery across the whole country"

    deal = submit_lead(lead(message=message), source=Source.WEBSITE, idempotency_key="k").deal

    assert deal.title == "Acme — We need an online shop for garden goods with delivery…"
    assert deal.description == message


def test_without_a_company_the_title_starts_with_the_name(manager):
    deal = submit_lead(
        lead(company="", message="Landing page"), source=Source.WEBSITE, idempotency_key="k"
    ).deal

    assert deal.title == "Anna Petrova — Landing page"
    assert deal.client.name == "Anna Petrova"


@pytest.mark.parametrize(
    ("message", "title"),
    [
        ("Landing page.", "Acme — Landing page"),
        ("Need a shop;  ", "Acme — Need a shop"),
        ("Can you help?", "Acme — Can you help?"),
        ("...", "Acme"),
        ("Здравствуйте! Нужен лендинг", "Acme — Нужен лендинг"),
        ("Добрый день, нужен сайт", "Acme — Нужен сайт"),
        ("Hi, we need a shop", "Acme — We need a shop"),
        ("History museum site", "Acme — History museum site"),
    ],
)
def test_a_short_title_drops_the_messages_closing_punctuation(message, title):
    assert services.derive_title(lead(company="Acme", message=message)) == title


def test_markup_in_a_lead_is_stored_verbatim(manager):
    hostile = '<script>alert("x")</script><b>bold</b>'

    deal = submit_lead(
        lead(name=hostile, company="", message=hostile), source=Source.WEBSITE, idempotency_key="k"
    ).deal

    assert deal.description == hostile
    assert deal.contact.name == hostile


def test_budget_and_page_details_are_kept_on_the_deal(manager):
    deal = submit_lead(
        lead(
            budget=Decimal("150000"),
            page_url="https://studio.test/prices",
            utm_source="google",
            utm_campaign="spring",
        ),
        source=Source.API,
        idempotency_key="k",
    ).deal

    assert deal.expected_amount == Decimal("150000.00")
    assert "https://studio.test/prices" in deal.description
    assert "utm_source=google, utm_campaign=spring" in deal.description


def test_the_same_idempotency_key_returns_the_first_deal_and_creates_nothing_else(
    manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        first = submit_lead(lead(), source=Source.WEBSITE, idempotency_key="same")
        replay = submit_lead(lead(), source=Source.WEBSITE, idempotency_key="same")

    assert (first.created, replay.created) == (True, False)
    assert replay.deal == first.deal
    assert (Deal.objects.count(), Contact.objects.count(), Outbox.objects.count()) == (1, 1, 1)


def test_the_same_client_key_in_another_channel_opens_another_deal(manager):
    web = submit_lead(lead(), source=Source.WEBSITE, idempotency_key="same")
    api = submit_lead(lead(), source=Source.API, idempotency_key="same")

    assert api.created is True
    assert api.deal != web.deal


def test_without_a_key_the_same_lead_on_the_same_day_opens_one_deal(manager):
    first = submit_lead(lead(), source=Source.WEBSITE, idempotency_key=None)
    again = submit_lead(
        lead(email="ANNA@example.com ", message="  We need an online shop\nfor garden goods. "),
        source=Source.WEBSITE,
        idempotency_key=None,
    )

    assert again.created is False
    assert again.deal == first.deal


def test_without_a_key_the_same_lead_on_another_day_opens_a_new_deal(manager, monkeypatch):
    first = submit_lead(lead(), source=Source.WEBSITE, idempotency_key=None)
    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr(services.timezone, "now", lambda: tomorrow)

    again = submit_lead(lead(), source=Source.WEBSITE, idempotency_key=None)

    assert again.created is True
    assert again.deal != first.deal


def test_a_duplicate_that_loses_the_race_returns_the_winners_deal_and_rolls_back_its_work(
    studio, monkeypatch, django_capture_on_commit_callbacks
):
    """The second insert hits the unique key and answers with the winner's deal."""
    UserFactory(), UserFactory()
    winner = submit_lead(lead(), source=Source.WEBSITE, idempotency_key="race").deal
    real_lookup = services.deal_with_key
    lookups = iter([None])  # the pre-check misses, as if the winner had not committed yet
    monkeypatch.setattr(
        services, "deal_with_key", lambda key: next(lookups, None) or real_lookup(key)
    )

    with django_capture_on_commit_callbacks():
        result = submit_lead(lead(), source=Source.WEBSITE, idempotency_key="race")

    assert result.created is False
    assert result.deal == winner
    assert Deal.objects.count() == 1


def test_a_race_loser_with_another_body_is_refused_and_rolls_back_its_work(
    studio, monkeypatch, django_capture_on_commit_callbacks
):
    """The same key with a different lead: its contact, round-robin step and email go."""
    first_manager, second_manager = UserFactory(), UserFactory()
    winner = submit_lead(lead(), source=Source.WEBSITE, idempotency_key="race").deal
    real_lookup = services.deal_with_key
    lookups = iter([None])  # the pre-check misses, as if the winner had not committed yet
    monkeypatch.setattr(
        services, "deal_with_key", lambda key: next(lookups, None) or real_lookup(key)
    )

    with (
        django_capture_on_commit_callbacks(),
        pytest.raises(services.IdempotencyKeyReused) as raised,
    ):
        submit_lead(lead(email="other@example.com"), source=Source.WEBSITE, idempotency_key="race")

    assert raised.value.deal == winner
    assert Deal.objects.count() == 1
    assert not Contact.objects.filter(email="other@example.com").exists()
    assert Studio.load().last_assigned_manager == first_manager
    assert Outbox.objects.filter(to=second_manager.email).count() == 0


def test_an_audit_row_records_where_the_lead_came_from(manager, api_key):
    key, _secret = api_key

    deal = submit_lead(lead(), source=Source.API, idempotency_key="k", api_key=key).deal

    row = AuditLog.objects.get(verb="intake.lead_received")
    assert row.object_id == str(deal.pk)
    assert row.actor is None
    assert row.data["source"] == "api"
    assert row.data["api_key"] == key.prefix
    assert row.data["contact_created"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "", "phone": ""}, "email"),
        ({"name": "   "}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"name": "x" * (services.NAME_MAX + 1)}, "name"),
        ({"message": "x" * (services.MESSAGE_MAX + 1)}, "message"),
        ({"message": "nul\x00byte"}, "message"),
        ({"company": "lone \ud800 surrogate"}, "company"),
        ({"page_url": "javascript:alert(1)"}, "page_url"),
        ({"budget": Decimal("-1")}, "budget"),
        ({"budget": Decimal("1e15")}, "budget"),
    ],
)
def test_an_invalid_lead_is_refused_and_nothing_is_created(manager, changes, field):
    with pytest.raises(InvalidLead) as refused:
        submit_lead(lead(**changes), source=Source.WEBSITE, idempotency_key="k")

    assert field in refused.value.errors
    assert (Deal.objects.count(), Contact.objects.count(), Client.objects.count()) == (0, 0, 0)


def test_a_lead_with_only_a_phone_is_accepted(manager):
    result = submit_lead(
        lead(email="", phone="8 (999) 765-43-21"), source=Source.API, idempotency_key="k"
    )

    assert result.deal.contact.phone_normalized == "+79997654321"


def test_an_unknown_source_is_a_programming_error(manager):
    with pytest.raises(ValueError, match="unknown intake source"):
        submit_lead(lead(), source="carrier-pigeon", idempotency_key="k")
