"""Question logic on plain snapshot dicts: cleaning answers, show-if, required checks."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studiocrm.briefs import questions as q


def question(key, kind="short_text", *, required=False, show_if=None, options=(), other=False):
    return {
        "key": key,
        "section": "S",
        "label": key.title(),
        "help": "",
        "type": kind,
        "options": [{"value": value, "label": value.upper()} for value in options],
        "allow_other": other,
        "required": required,
        "show_if": show_if,
    }


HAS_SITE = question("has_site", "yes_no")
SITE = question("site", "url", required=True, show_if={"key": "has_site", "equals": "yes"})
SITE_AGE = question("site_age", "number", show_if={"key": "site", "equals": "https://old.ru"})
FEATURES = question("features", "multi_choice", options=["shop", "multilingual"], other=True)
LANGUAGES = question("languages", "number", show_if={"key": "features", "equals": "multilingual"})
CHAIN = [HAS_SITE, SITE, SITE_AGE, FEATURES, LANGUAGES]


# ---------------------------------------------------------------- show-if


def test_a_conditional_question_is_hidden_until_its_answer_matches():
    assert q.visible_keys(CHAIN, {}) == {"has_site", "features"}
    assert "site" in q.visible_keys(CHAIN, {"has_site": True})
    assert "site" not in q.visible_keys(CHAIN, {"has_site": False})


def test_a_list_answer_shows_a_question_when_it_contains_the_value():
    assert "languages" in q.visible_keys(CHAIN, {"features": ["shop", "multilingual"]})
    assert "languages" not in q.visible_keys(CHAIN, {"features": ["shop"]})


def test_hiding_a_question_hides_the_questions_that_depend_on_it():
    answers = {"has_site": False, "site": "https://old.ru"}
    assert "site_age" not in q.visible_keys(CHAIN, answers)
    assert "site_age" in q.visible_keys(CHAIN, {**answers, "has_site": True})


def test_a_condition_on_a_later_or_unknown_question_hides_the_question():
    broken = [question("a", show_if={"key": "b", "equals": "x"}), question("b")]
    assert q.visible_keys(broken, {"b": "x"}) == {"b"}


def test_a_hidden_required_question_is_not_missing():
    assert q.missing_required(CHAIN, {"has_site": False}) == []
    assert [item["key"] for item in q.missing_required(CHAIN, {"has_site": True})] == ["site"]


def test_prune_hidden_keeps_only_visible_answers_and_their_other_text():
    answers = {
        "has_site": False,
        "site": "https://old.ru",
        "features": ["other"],
        "features__other": "Chat",
        "stray": "x",
    }
    assert q.prune_hidden(CHAIN, answers) == {
        "has_site": False,
        "features": ["other"],
        "features__other": "Chat",
    }


def test_other_alone_without_text_does_not_count_as_an_answer():
    required_features = {**FEATURES, "required": True}
    assert q.missing_required([required_features], {"features": ["other"]})
    assert not q.missing_required(
        [required_features], {"features": ["other"], "features__other": "Chat"}
    )


def test_progress_counts_visible_answered_questions():
    assert q.progress(CHAIN, {"has_site": True, "site": "https://a.ru"}) == (2, 3)


# ---------------------------------------------------------------- cleaning


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("12", "12"), ("3,5", "3.5"), (" 1 000 ", "1000"), ("0.50", "0.5"), ("0", "0")],
)
def test_numbers_are_stored_as_plain_decimal_strings(raw, stored):
    assert q.clean_answer(question("n", "number"), raw) == stored


@pytest.mark.parametrize("raw", ["abc", "1e5", "-3", "NaN", "Infinity", "9" * 21, "1.2.3"])
def test_bad_numbers_are_rejected(raw):
    with pytest.raises(q.AnswerError):
        q.clean_answer(question("n", "number"), raw)


def test_a_bare_domain_becomes_an_https_url():
    assert q.clean_answer(question("u", "url"), "bakery.ru") == "https://bakery.ru"


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "ftp://files.ru", "not a site", "http://"])
def test_non_web_addresses_are_rejected(raw):
    with pytest.raises(q.AnswerError):
        q.clean_answer(question("u", "url"), raw)


def test_dates_must_be_iso_and_plausible():
    assert q.clean_answer(question("d", "date"), "2026-09-01") == "2026-09-01"
    for raw in ("01.09.2026", "2026-02-30", "0001-01-01"):
        with pytest.raises(q.AnswerError):
            q.clean_answer(question("d", "date"), raw)


def test_yes_no_is_a_boolean():
    assert q.clean_answer(HAS_SITE, "yes") is True
    assert q.clean_answer(HAS_SITE, "no") is False
    with pytest.raises(q.AnswerError):
        q.clean_answer(HAS_SITE, "maybe")


def test_choices_keep_option_order_and_refuse_unknown_values():
    assert q.clean_answer(FEATURES, ["multilingual", "shop", "shop"]) == ["shop", "multilingual"]
    with pytest.raises(q.AnswerError):
        q.clean_answer(FEATURES, ["shop", "<script>"])


def test_other_is_refused_where_the_question_does_not_offer_it():
    single = question("c", "single_choice", options=["a", "b"])
    with pytest.raises(q.AnswerError):
        q.clean_answer(single, "other")


def test_text_with_a_nul_character_is_refused():
    with pytest.raises(q.AnswerError):
        q.clean_answer(question("t"), "a\x00b")


@given(st.text(max_size=400))
def test_any_typed_text_is_either_stored_or_rejected_with_a_message(raw):
    for kind in ("short_text", "long_text", "number", "date", "url", "yes_no"):
        try:
            q.clean_answer(question("k", kind), raw)
        except q.AnswerError as error:
            assert str(error)


def test_display_value_uses_labels_and_other_text():
    answers = {"features": ["shop", "other"], "features__other": "Chat"}
    assert q.display_value(FEATURES, answers) == ["SHOP", "Other: Chat"]
    assert q.display_value(HAS_SITE, {"has_site": False}) == "No"
    assert q.display_value(HAS_SITE, {}) is None


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("deadline", True),
        ("a", True),
        ("q2", True),
        ("Deadline", False),
        ("x__other", False),
        ("2x", False),
        ("a-b", False),
        ("", False),
        ("a_", False),
    ],
)
def test_keys_are_lowercase_slugs(key, valid):
    assert q.valid_key(key) is valid
