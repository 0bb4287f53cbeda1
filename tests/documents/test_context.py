"""The context a template sees: plain data only, deterministic, canonical when frozen."""

import datetime
import json
from decimal import Decimal

from studiocrm.documents.context import build_context, canonical_json
from studiocrm.documents.defaults import sample_context
from studiocrm.documents.filters import amount_in_words
from studiocrm.documents.rendering import render_document

PLAIN = (dict, list, str, int, bool, type(None), Decimal, datetime.date)


def _assert_plain(value, path="context"):
    assert isinstance(value, PLAIN), f"{path} is {type(value).__name__}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            _assert_plain(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _assert_plain(item, f"{path}[{index}]")


def test_the_context_holds_only_plain_data(proposal):
    _assert_plain(build_context(proposal))


def test_the_sample_context_has_the_same_keys_as_a_real_one(proposal):
    real, sample = build_context(proposal), sample_context("proposal", "ru")
    assert set(real) == set(sample)
    assert set(real["estimate"]["options"][0]) == set(sample["estimate"]["options"][0])
    assert set(real["chosen"]["lines"][0]) == set(sample["chosen"]["lines"][0])


def test_the_context_has_no_cost_margin_or_hours(proposal):
    text = canonical_json(build_context(proposal))
    for secret in ('"cost"', '"margin"', '"hours"', '"cost_rate"', '"rate"'):
        assert secret not in text


def test_rendering_twice_gives_the_same_fingerprint(proposal):
    assert render_document(proposal).fingerprint == render_document(proposal).fingerprint


def test_canonical_json_is_sorted_compact_and_round_trips():
    text = canonical_json({"b": Decimal("1.50"), "a": datetime.date(2026, 3, 1), "c": "ё"})
    assert text == '{"a":"2026-03-01","b":"1.50","c":"ё"}'
    assert json.loads(text)["b"] == "1.50"


def test_amounts_in_words_name_the_currency():
    assert amount_in_words(Decimal("120000"), "RUB", "ru") == "сто двадцать тысяч рублей 00 копеек"
    assert amount_in_words(Decimal("1.01"), "RUB", "ru") == "один рубль 01 копейка"
    assert amount_in_words(Decimal("21.5"), "USD", "en") == "twenty-one dollars 50 cents"
    assert amount_in_words(Decimal("3"), "XYZ", "en") == "three XYZ 00"
