"""Filters document templates may use: money, amounts in words, dates, plurals, paragraphs.

Every filter takes the plain values of the context (Decimal, date) and also their frozen JSON
form (strings), so a revision's saved context renders the same way as the live one. The
language and currency come from the context (``language``, ``currency``) unless given.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats, translation
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from num2words import num2words

from studiocrm.core.money import format_money, group_digits, round_money


def to_decimal(value: Any) -> Decimal:
    """A Decimal from a Decimal, int or decimal string; 0 for empty values."""
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    try:
        return Decimal(str(value).strip().replace("\u00a0", "").replace(" ", ""))
    except InvalidOperation as error:
        raise ValueError(f"not a number: {value!r}") from error


def to_date(value: Any) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _language(context: Context | None, language: str | None = None) -> str:
    if language:
        return language
    if context is not None:
        value = context.get("language")
        if isinstance(value, str) and value:
            return value
    return "ru"


def _currency(context: Context | None, currency: str | None = None) -> str:
    if currency:
        return currency
    if context is not None:
        value = context.get("currency")
        if isinstance(value, str) and value:
            return value
    return "RUB"


def format_amount(value: Any, currency: str, language: str, *, cents: bool = False) -> str:
    return format_money(to_decimal(value), currency, language, cents=cents)


# How each currency and its hundredth are named, in the forms a number takes: Russian
# (one, few, many) with the grammatical gender of the currency's name, English (one, many).
# num2words names some of them wrongly ("одна миллион гривен", BYN as plain "roubles" in
# English, UAH and KZT not at all in English), so the names are ours; num2words only spells
# the numbers.
RU_CURRENCY_NAMES: dict[str, tuple[tuple[str, str, str], str, tuple[str, str, str]]] = {
    "RUB": (("рубль", "рубля", "рублей"), "m", ("копейка", "копейки", "копеек")),
    "UAH": (("гривна", "гривны", "гривен"), "f", ("копейка", "копейки", "копеек")),
    "EUR": (("евро", "евро", "евро"), "m", ("цент", "цента", "центов")),
    "USD": (("доллар", "доллара", "долларов"), "m", ("цент", "цента", "центов")),
    "GBP": (
        ("фунт стерлингов", "фунта стерлингов", "фунтов стерлингов"),
        "m",
        ("пенс", "пенса", "пенсов"),
    ),
    "KZT": (("тенге", "тенге", "тенге"), "m", ("тиын", "тиына", "тиынов")),
    "BYN": (
        ("белорусский рубль", "белорусских рубля", "белорусских рублей"),
        "m",
        ("копейка", "копейки", "копеек"),
    ),
}
EN_CURRENCY_NAMES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "RUB": (("rouble", "roubles"), ("kopek", "kopeks")),
    "UAH": (("hryvnia", "hryvnias"), ("kopiyka", "kopiykas")),
    "EUR": (("euro", "euro"), ("cent", "cents")),
    "USD": (("dollar", "dollars"), ("cent", "cents")),
    "GBP": (("pound sterling", "pounds sterling"), ("penny", "pence")),
    "KZT": (("tenge", "tenge"), ("tiyn", "tiyn")),
    "BYN": (("Belarusian rouble", "Belarusian roubles"), ("kopek", "kopeks")),
}
WORDS_CURRENCIES = frozenset(RU_CURRENCY_NAMES) & frozenset(EN_CURRENCY_NAMES)


def _russian_number(whole: int, gender: str) -> str:
    """The number in Russian words; the gender of the noun after it agrees only with the
    last three digits ("один миллион одна гривна", not "одна миллион")."""
    if whole == 0:
        return num2words(0, lang="ru")
    thousands, units = whole - whole % 1000, whole % 1000
    parts = []
    if thousands:
        parts.append(num2words(thousands, lang="ru"))
    if units:
        parts.append(num2words(units, lang="ru", gender=gender))
    return " ".join(parts)


def amount_in_words(value: Any, currency: str, language: str) -> str:
    """ "сто двадцать тысяч рублей 00 копеек" / "one hundred and twenty thousand dollars 00
    cents": the whole units in words, the hundredths in digits. Named currencies are
    ``WORDS_CURRENCIES``; any other falls back to the number in words, the ISO code and the
    hundredths ("three CHF 00")."""
    amount = round_money(to_decimal(value))
    language = language if language in ("ru", "en") else "en"
    sign = ("минус " if language == "ru" else "minus ") if amount < 0 else ""
    amount = abs(amount)
    whole = int(amount)
    hundredths = int((amount - whole) * 100)
    if currency not in WORDS_CURRENCIES:
        spelled = _russian_number(whole, "m") if language == "ru" else num2words(whole, lang="en")
        return f"{sign}{spelled} {currency} {hundredths:02d}"
    if language == "ru":
        names, gender, small = RU_CURRENCY_NAMES[currency]
        spelled = _russian_number(whole, gender)
        name, small_name = plural_form(whole, names, "ru"), plural_form(hundredths, small, "ru")
    else:
        en_names, en_small = EN_CURRENCY_NAMES[currency]
        spelled = num2words(whole, lang="en")
        name = plural_form(whole, en_names, "en")
        small_name = plural_form(hundredths, en_small, "en")
    return f"{sign}{spelled} {name} {hundredths:02d} {small_name}"


@pass_context
def money(context: Context, value: Any, currency: str | None = None, cents: bool = False) -> str:
    """``{{ totals.total|money }}`` → "120 000 ₽"; ``|money(cents=true)`` keeps kopecks."""
    return format_amount(value, _currency(context, currency), _language(context), cents=cents)


@pass_context
def words(context: Context, value: Any, currency: str | None = None) -> str:
    """``{{ totals.total|words }}`` → "сто двадцать тысяч рублей 00 копеек"."""
    return amount_in_words(value, _currency(context, currency), _language(context))


@pass_context
def number(context: Context, value: Any, places: int | None = None) -> str:
    """``{{ line.quantity|number }}`` with the language's digit grouping: whole numbers
    without decimals, fractions with the decimals they have ("1,5"); ``|number(2)`` fixes
    the places."""
    amount = to_decimal(value)
    if places is None:
        exponent = amount.normalize().as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    places = max(0, min(int(places), 6))
    return group_digits(amount, places, _language(context))


@pass_context
def percent(context: Context, value: Any) -> str:
    amount = to_decimal(value).normalize()
    text = f"{amount:f}"
    if _language(context) == "ru":
        text = text.replace(".", ",")
    return f"{text}\u00a0%"


# "short" is the language's own short date: "09.12.2026" in Russian, "9 Dec 2026" in English
# (all-digit dates read two ways in English; studiocrm/core/formats/en).
DATE_FORMATS = {"long": "j E Y", "short": "SHORT_DATE_FORMAT", "month": "E Y", "iso": "Y-m-d"}


def long_date(value: Any, language: str) -> str:
    """A date written out as a document writes it: "8 февраля 2027 г." / "8 February 2027"
    (for dates inside text, such as a brief's answers; templates use ``|date``)."""
    day = to_date(value)
    if day is None:
        return ""
    with translation.override(language):
        text = formats.date_format(day, DATE_FORMATS["long"])
    return f"{text}\u00a0г." if language == "ru" else text


@pass_context
def date(context: Context, value: Any, style: str = "long") -> str:
    """``{{ document.date|date }}`` → "12 мая 2026" / "12 May 2026"; styles: long, short,
    month, iso."""
    day = to_date(value)
    if day is None:
        return ""
    with translation.override(_language(context)):
        return formats.date_format(day, DATE_FORMATS.get(style, DATE_FORMATS["long"]))


def plural_form(count: int, forms: tuple[str, ...], language: str) -> str:
    if language == "ru" and len(forms) >= 3:
        n = abs(count) % 100
        if 11 <= n <= 14:
            return forms[2]
        if n % 10 == 1:
            return forms[0]
        if 2 <= n % 10 <= 4:
            return forms[1]
        return forms[2]
    if len(forms) >= 2:
        return forms[0] if abs(count) == 1 else forms[1]
    return forms[0] if forms else ""


@pass_context
def plural(context: Context, value: Any, *forms: str) -> str:
    """``{{ days }} {{ days|plural('день', 'дня', 'дней') }}`` or ``|plural('day', 'days')``."""
    return plural_form(int(to_decimal(value)), forms, _language(context))


def paragraphs(value: Any) -> Markup:
    """Text with line breaks as paragraphs, escaped (for text the client or a manager typed)."""
    text = "" if value is None else str(value)
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    html = "".join(
        f"<p>{Markup('<br>').join(escape(line) for line in block.split(chr(10)))}</p>"
        for block in blocks
        if block
    )
    return Markup(html)  # noqa: S704 - every piece was escaped above


FILTERS = {
    "money": money,
    "words": words,
    "number": number,
    "percent": percent,
    "date": date,
    "plural": plural,
    "paragraphs": paragraphs,
}
