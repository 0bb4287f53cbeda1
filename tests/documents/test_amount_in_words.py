"""Amounts in words for every currency the studio can bill in, in Russian and English: the
number agrees with the currency's gender only in its last three digits, the currency's name
agrees with the number, and an unnamed currency falls back to its ISO code."""

from decimal import Decimal

import pytest

from studiocrm.core.money import CURRENCIES
from studiocrm.documents.filters import WORDS_CURRENCIES, amount_in_words

EXPECTED = {
    ("RUB", "ru"): [
        "один рубль",
        "два рубля",
        "пять рублей",
        "двадцать один рубль",
        "один миллион рублей",
        "один миллион один рубль",
    ],
    ("UAH", "ru"): [
        "одна гривна",
        "две гривны",
        "пять гривен",
        "двадцать одна гривна",
        "один миллион гривен",
        "один миллион одна гривна",
    ],
    ("EUR", "ru"): [
        "один евро",
        "два евро",
        "пять евро",
        "двадцать один евро",
        "один миллион евро",
        "один миллион один евро",
    ],
    ("USD", "ru"): [
        "один доллар",
        "два доллара",
        "пять долларов",
        "двадцать один доллар",
        "один миллион долларов",
        "один миллион один доллар",
    ],
    ("KZT", "ru"): [
        "один тенге",
        "два тенге",
        "пять тенге",
        "двадцать один тенге",
        "один миллион тенге",
        "один миллион один тенге",
    ],
    ("BYN", "ru"): [
        "один белорусский рубль",
        "два белорусских рубля",
        "пять белорусских рублей",
        "двадцать один белорусский рубль",
        "один миллион белорусских рублей",
        "один миллион один белорусский рубль",
    ],
    ("RUB", "en"): [
        "one rouble",
        "two roubles",
        "five roubles",
        "twenty-one roubles",
        "one million roubles",
        "one million and one roubles",
    ],
    ("UAH", "en"): [
        "one hryvnia",
        "two hryvnias",
        "five hryvnias",
        "twenty-one hryvnias",
        "one million hryvnias",
        "one million and one hryvnias",
    ],
    ("EUR", "en"): [
        "one euro",
        "two euro",
        "five euro",
        "twenty-one euro",
        "one million euro",
        "one million and one euro",
    ],
    ("USD", "en"): [
        "one dollar",
        "two dollars",
        "five dollars",
        "twenty-one dollars",
        "one million dollars",
        "one million and one dollars",
    ],
    ("KZT", "en"): [
        "one tenge",
        "two tenge",
        "five tenge",
        "twenty-one tenge",
        "one million tenge",
        "one million and one tenge",
    ],
    ("BYN", "en"): [
        "one Belarusian rouble",
        "two Belarusian roubles",
        "five Belarusian roubles",
        "twenty-one Belarusian roubles",
        "one million Belarusian roubles",
        "one million and one Belarusian roubles",
    ],
}
AMOUNTS = ["1", "2", "5", "21", "1000000", "1000001"]
HUNDREDTHS = {
    "ru": {"RUB": "копеек", "UAH": "копеек", "EUR": "центов", "USD": "центов"}
    | {"KZT": "тиынов", "BYN": "копеек"},
    "en": {"RUB": "kopeks", "UAH": "kopiykas", "EUR": "cents", "USD": "cents"}
    | {"KZT": "tiyn", "BYN": "kopeks"},
}


@pytest.mark.parametrize(("currency", "language"), sorted(EXPECTED))
def test_whole_amounts_in_words(currency, language):
    spelled = [amount_in_words(Decimal(amount), currency, language) for amount in AMOUNTS]

    hundredths = HUNDREDTHS[language][currency]
    assert spelled == [f"{words} 00 {hundredths}" for words in EXPECTED[(currency, language)]]


@pytest.mark.parametrize(
    ("amount", "currency", "language", "expected"),
    [
        ("1.01", "UAH", "ru", "одна гривна 01 копейка"),
        ("2.02", "RUB", "ru", "два рубля 02 копейки"),
        ("2002.21", "UAH", "ru", "две тысячи две гривны 21 копейка"),
        ("2000000", "UAH", "ru", "два миллиона гривен 00 копеек"),
        ("1.01", "EUR", "en", "one euro 01 cent"),
        ("0.5", "USD", "en", "zero dollars 50 cents"),
        ("12.5", "GBP", "ru", "двенадцать фунтов стерлингов 50 пенсов"),
        ("1.01", "GBP", "en", "one pound sterling 01 penny"),
    ],
)
def test_hundredths_and_thousands_agree_with_their_numbers(amount, currency, language, expected):
    assert amount_in_words(Decimal(amount), currency, language) == expected


def test_every_currency_the_studio_can_choose_is_named_in_words():
    assert set(CURRENCIES) <= WORDS_CURRENCIES


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "одна тысяча один CHF 50"), ("en", "one thousand and one CHF 50")],
)
def test_an_unnamed_currency_falls_back_to_its_code(language, expected):
    assert amount_in_words(Decimal("1001.50"), "CHF", language) == expected


def test_a_negative_amount_says_minus():
    assert amount_in_words(Decimal("-5"), "RUB", "ru") == "минус пять рублей 00 копеек"
