"""One helper prints money for pages, emails and PDFs, in the reader's language."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from studiocrm.core.money import format_money
from tests.factories import DealFactory


@pytest.mark.parametrize(
    ("value", "currency", "language", "expected"),
    [
        ("425386.25", "RUB", "ru", "425\u00a0386,25\u00a0₽"),
        ("425386.25", "RUB", "en", "425,386.25\u00a0₽"),
        ("850772.5", "RUB", "ru", "850\u00a0772,50\u00a0₽"),
        ("1200000", "RUB", "ru", "1\u00a0200\u00a0000\u00a0₽"),
        ("1440", "EUR", "en", "€1,440"),
        ("1440", "EUR", "ru", "1\u00a0440\u00a0€"),
        ("-300", "USD", "en", "-$300"),
        ("0.005", "RUB", "ru", "0,01\u00a0₽"),
    ],
)
def test_amounts_read_as_people_write_them(value, currency, language, expected):
    assert format_money(Decimal(value), currency, language) == expected


def test_cents_are_kept_when_asked():
    assert format_money(Decimal("120000"), "RUB", "ru", cents=True) == "120\u00a0000,00\u00a0₽"


def test_the_active_language_is_the_default():
    with translation.override("ru"):
        assert format_money("12.5", "RUB") == "12,50\u00a0₽"
    with translation.override("en"):
        assert format_money("12.5", "RUB") == "12.50\u00a0₽"


@pytest.mark.django_db
def test_a_russian_manager_page_has_no_dot_decimal_money(manager, manager_client, settings):
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    deal = DealFactory(manager=manager, currency="RUB", expected_amount=Decimal("425386.25"))

    html = manager_client.get(reverse("deals:detail", args=[deal.pk])).content.decode()

    assert "425\u00a0386,25\u00a0₽" in html
    assert "425\u00a0386.25" not in html
