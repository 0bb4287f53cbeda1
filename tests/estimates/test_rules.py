"""Evaluating estimate rules against a brief's questions and answers (no database)."""

from dataclasses import dataclass
from decimal import Decimal

from studiocrm.estimates import rules

QUESTIONS = [
    {
        "key": "pages",
        "label": "Which pages?",
        "type": "pages",
        "options": [{"value": "home", "label": "Home"}, {"value": "catalog", "label": "Catalogue"}],
        "show_if": None,
    },
    {
        "key": "features",
        "label": "What should the site do?",
        "type": "multi_choice",
        "options": [
            {"value": "cart", "label": "Cart"},
            {"value": "multilingual", "label": "Several languages"},
        ],
        "show_if": None,
    },
    {
        "key": "languages_count",
        "label": "How many languages?",
        "type": "number",
        "options": [],
        "show_if": {"key": "features", "equals": "multilingual"},
    },
    {"key": "products_count", "label": "How many products?", "type": "number", "options": []},
    {
        "key": "content_ready",
        "label": "Are texts ready?",
        "type": "single_choice",
        "options": [{"value": "none", "label": "No texts"}, {"value": "ready", "label": "Ready"}],
    },
    {"key": "delivery", "label": "Delivery?", "type": "yes_no", "options": []},
    {"key": "goal", "label": "Goal", "type": "long_text", "options": []},
]


@dataclass
class Rule:
    pk: int = 1
    question_key: str = ""
    operator: str = "is"
    value: str = ""
    action: str = "add_service"
    target: str = "x"
    amount: Decimal = Decimal(1)
    amount_from_answer: bool = False
    optional: bool = False
    option_name: str = ""
    note: str = ""
    template_key: str = ""
    is_active: bool = True


def run(*items, answers=None, questions=QUESTIONS, template_key=""):
    return rules.evaluate(list(items), questions, answers or {}, template_key=template_key)


def test_contains_fires_on_a_picked_option_and_records_the_choice_that_produced_it():
    result = run(
        Rule(question_key="features", operator="contains", value="cart", target="cart_logic"),
        answers={"features": ["cart", "multilingual"]},
    )
    [action] = result.actions
    assert action.target == "cart_logic"
    assert action.origin == {
        "rule": 1,
        "key": "features",
        "label": "What should the site do?",
        "answer": "Cart",
    }


def test_the_origin_of_a_picked_page_is_that_pages_label():
    rule = Rule(question_key="pages", operator="answered", action="add_pages_from_answer")
    [action] = run(rule, answers={"pages": ["home", "catalog"]}).actions
    assert action.page_labels == {"home": "Home", "catalog": "Catalogue"}


def test_contains_does_not_fire_when_the_option_is_not_picked():
    result = run(
        Rule(question_key="features", operator="contains", value="cart"),
        answers={"features": ["multilingual"]},
    )
    assert result.actions == []


def test_is_compares_a_single_choice():
    rule = Rule(question_key="content_ready", operator="is", value="none")
    assert run(rule, answers={"content_ready": "none"}).actions
    assert not run(rule, answers={"content_ready": "ready"}).actions


def test_is_compares_yes_no_answers():
    rule = Rule(question_key="delivery", operator="is", value="yes")
    assert run(rule, answers={"delivery": True}).actions
    assert not run(rule, answers={"delivery": False}).actions


def test_at_least_compares_numbers_not_text():
    rule = Rule(question_key="products_count", operator="gte", value="300")
    assert run(rule, answers={"products_count": "1200"}).actions
    assert not run(rule, answers={"products_count": "45"}).actions


def test_the_quantity_can_come_from_a_numeric_answer():
    rule = Rule(
        question_key="products_count",
        operator="gte",
        value="1",
        amount=Decimal("0.1"),
        amount_from_answer=True,
    )
    [action] = run(rule, answers={"products_count": "125"}).actions
    assert action.amount == Decimal("12.50")


def test_always_fires_without_a_question():
    [action] = run(Rule(operator="always", target="testing", note="Every project")).actions
    assert action.origin == {"rule": 1, "key": "", "label": "Every project", "answer": ""}


def test_pages_from_the_answer_skip_other_and_keep_the_clients_own_words():
    rule = Rule(question_key="pages", operator="answered", action="add_pages_from_answer")
    result = run(rule, answers={"pages": ["home", "catalog", "other"], "pages__other": "Careers"})
    assert result.actions[0].page_slugs == ("home", "catalog")
    assert any("Careers" in note for note in result.notes)


def test_a_rule_whose_question_is_gone_is_reported_and_skipped():
    result = run(
        Rule(pk=7, question_key="budget_range", operator="is", value="big"),
        Rule(pk=8, question_key="budget_range", operator="is", value="small"),
        Rule(pk=9, operator="always"),
    )
    assert [action.rule_id for action in result.actions] == [9]
    assert len(result.problems) == 1
    assert "#7, #8" in result.problems[0] and "budget_range" in result.problems[0]
    assert "no longer exists" in result.problems[0]


def test_an_unanswered_question_the_rules_needed_is_listed_once():
    result = run(
        Rule(question_key="content_ready", operator="is", value="none"),
        Rule(pk=2, question_key="content_ready", operator="is", value="ready"),
    )
    assert result.unanswered == [{"key": "content_ready", "label": "Are texts ready?"}]
    assert result.actions == []


def test_a_question_the_client_could_not_see_is_not_listed_as_unanswered():
    result = run(
        Rule(question_key="languages_count", operator="gte", value="2"),
        answers={"features": ["cart"]},
    )
    assert result.unanswered == []


def test_a_shown_follow_up_question_left_empty_is_listed():
    result = run(
        Rule(question_key="languages_count", operator="gte", value="2"),
        answers={"features": ["multilingual"]},
    )
    assert [item["key"] for item in result.unanswered] == ["languages_count"]


def test_circular_show_if_is_reported_instead_of_hanging():
    looped = [
        {"key": "a", "label": "A", "type": "short_text", "show_if": {"key": "b", "equals": "x"}},
        {"key": "b", "label": "B", "type": "short_text", "show_if": {"key": "a", "equals": "y"}},
    ]
    result = run(Rule(question_key="a", operator="is", value="x"), questions=looped)
    assert any("loop" in problem for problem in result.problems)
    assert result.unanswered == [{"key": "a", "label": "A"}]


def test_a_number_rule_on_a_text_answer_is_reported_not_guessed():
    result = run(
        Rule(question_key="goal", operator="gte", value="3"), answers={"goal": "sell more"}
    )
    assert result.actions == []
    assert "not a number" in result.problems[0]


def test_an_absurd_quantity_from_the_answer_is_reported_and_skipped():
    rule = Rule(question_key="products_count", operator="gte", value="1", amount_from_answer=True)
    result = run(rule, answers={"products_count": "1e12"})
    assert result.actions == []
    assert "outside" in result.problems[0]


def test_a_rule_for_another_template_does_not_fire():
    rule = Rule(operator="always", template_key="store")
    assert run(rule, template_key="corporate").actions == []
    assert run(rule, template_key="store").actions


def test_inactive_rules_do_not_fire():
    assert run(Rule(operator="always", is_active=False)).actions == []
