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


@pytest.mark.parametrize("language", ["en", "ru", "de", "uk", "kk"])
def test_fast_grouping_prints_what_babel_prints(language):
    """group_digits formats with Python's grouping and the locale's symbols; for any amount
    the text is Babel's, sign, rounding and separators alike."""
    import random
    from decimal import ROUND_HALF_UP, Decimal

    from babel.numbers import format_decimal

    from studiocrm.core.money import group_digits

    rng = random.Random(language)
    amounts = [Decimal(rng.randint(-(10**13), 10**13)) / 100 for _ in range(2000)]
    amounts += [Decimal("0"), Decimal("-0.004"), Decimal("999.995"), Decimal("-1234567.5")]
    for places in (0, 2):
        quantum = Decimal(1).scaleb(-places) if places else Decimal(1)
        pattern = "#,##0." + "0" * places if places else "#,##0"
        for amount in amounts:
            rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
            expected = format_decimal(rounded, format=pattern, locale=language)
            assert group_digits(amount, places, language) == expected, (amount, places)
