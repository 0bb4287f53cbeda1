"""Evaluate estimate rules against a brief's questions and answers.

Pure over plain data: the brief's ``questions`` snapshot and ``answers`` dict (see the
contract in ``briefs.models.Brief``) and rule objects with the fields of
``models.EstimateRule``. The result says what to add to the draft, which answers the rules
needed but the client left empty, and what went wrong (each problem skips one rule only).

Comparisons:

- ``is``: a choice answer equals the value; a list answer (multi choice, pages) contains it;
  yes/no compares with yes/no (also true/false, 1/0, да/нет); numbers compare as numbers;
  text compares ignoring case and surrounding spaces.
- ``contains``: a list answer contains the value; a text answer contains it as a substring.
- ``gte`` / ``lte``: both sides must be numbers (a list answer counts its items).
- ``answered``: any non-empty answer. ``always``: no question, always fires.

A question the client could not see (its ``show_if`` was not met) is never reported as
unanswered. A ``show_if`` chain that loops is reported and the question counts as visible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

from django.utils.translation import gettext as _

from studiocrm.estimates import calc
from studiocrm.estimates.defaults import shipped_note

OTHER_VALUE = "other"
OTHER_SUFFIX = "__other"
TRUE_WORDS = {"yes", "true", "1", "да", "y"}
FALSE_WORDS = {"no", "false", "0", "нет", "n"}


class RuleLike(Protocol):
    pk: int | None
    is_active: bool
    template_key: str
    question_key: str
    operator: str
    value: str
    action: str
    target: str
    amount: Decimal
    amount_from_answer: bool
    optional: bool
    option_name: str
    note: str


@dataclass(frozen=True)
class RuleAction:
    """One thing a fired rule asks the draft to do."""

    rule_id: int | None
    action: str
    target: str
    amount: Decimal
    optional: bool
    option_name: str
    origin: dict[str, Any]
    page_slugs: tuple[str, ...] = ()
    page_labels: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Evaluation:
    actions: list[RuleAction] = field(default_factory=list)
    unanswered: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, list):
        return Decimal(len(value))
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _as_bool(text: str) -> bool | None:
    word = text.strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


class _Brief:
    """Questions by key, answers, and which questions the client could see."""

    def __init__(self, questions: Sequence[Mapping[str, Any]], answers: Mapping[str, Any]):
        self.questions = {q["key"]: q for q in questions if isinstance(q, Mapping) and "key" in q}
        self.answers = answers
        self.problems: list[str] = []
        self._visible: dict[str, bool] = {}

    def visible(self, key: str, chain: tuple[str, ...] = ()) -> bool:
        if key in self._visible:
            return self._visible[key]
        if key in chain:
            loop = " → ".join((*chain[chain.index(key) :], key))
            self.problems.append(
                _("The brief's show-if conditions loop (%(loop)s); those questions count as shown.")
                % {"loop": loop}
            )
            for looped in chain[chain.index(key) :]:
                self._visible[looped] = True
            return True
        question = self.questions.get(key)
        condition = question.get("show_if") if question else None
        if not isinstance(condition, Mapping) or condition.get("key") not in self.questions:
            result = True
        else:
            parent = condition["key"]
            result = self.visible(parent, (*chain, key)) and _shows(
                self.answers.get(parent), str(condition.get("equals", ""))
            )
        self._visible.setdefault(key, result)
        return self._visible[key]

    def label(self, key: str, value: object) -> str:
        """The label the client saw for one choice value."""
        if value == OTHER_VALUE and self.answers.get(key + OTHER_SUFFIX):
            return str(self.answers[key + OTHER_SUFFIX])[:200]
        for option in self.questions[key].get("options") or []:
            if isinstance(option, Mapping) and str(option.get("value")) == str(value):
                return str(option.get("label", value))[:200]
        return str(value)[:200]

    def display(self, key: str, matched: str = "") -> str:
        """The answer as the client saw it: labels, not slugs. For a list answer a rule
        matched on one value, just that value."""
        answer = self.answers.get(key)

        def label(value: object) -> str:
            return self.label(key, value)

        if isinstance(answer, list) and matched and matched in [str(item) for item in answer]:
            text = label(matched)
        elif isinstance(answer, bool):
            text = _("yes") if answer else _("no")
        elif isinstance(answer, list):
            text = ", ".join(label(item) for item in answer)
        else:
            text = label(answer)
        return text[:200]


def _shows(answer: object, expected: str) -> bool:
    if isinstance(answer, list):
        return expected in [str(item) for item in answer]
    if isinstance(answer, bool):
        return _as_bool(expected) is answer
    return answer is not None and str(answer) == expected


def _matches(rule: RuleLike, answer: object, question_type: str) -> bool:
    """Raises ValueError (with a message for the manager) when the rule cannot compare."""
    operator, value = rule.operator, rule.value.strip()
    if operator == "answered":
        return True
    if operator in ("gte", "lte"):
        limit = _number(value)
        if limit is None:
            raise ValueError(_("the rule's value “%(value)s” is not a number") % {"value": value})
        number = _number(answer)
        if number is None:
            raise ValueError(_("the answer is not a number"))
        return number >= limit if operator == "gte" else number <= limit
    if isinstance(answer, list):
        return value in [str(item) for item in answer]
    if isinstance(answer, bool):
        expected = _as_bool(value)
        if expected is None:
            raise ValueError(_("a yes/no question needs the value yes or no"))
        return answer is expected
    if question_type == "number":
        left, right = _number(answer), _number(value)
        if left is not None and right is not None:
            return left == right
    text = str(answer).strip().casefold()
    if operator == "contains":
        return value.casefold() in text
    return text == value.casefold()


def _amount(rule: RuleLike, answer: object) -> Decimal:
    amount = Decimal(rule.amount)
    if rule.amount_from_answer:
        number = _number(answer)
        if number is None:
            raise ValueError(_("the answer is not a number, so it cannot set the quantity"))
        amount *= number
    high = calc.MAX_MULTIPLIER if rule.action == "multiply_role" else calc.MAX_QUANTITY
    if amount < 0 or amount > high:
        raise ValueError(
            _("the quantity or factor %(amount)s is outside 0…%(high)s")
            % {"amount": amount.normalize(), "high": high}
        )
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rule_label(rule: RuleLike) -> str:
    return _("Rule #%(id)s") % {"id": rule.pk}


def evaluate(
    rules: Iterable[RuleLike],
    questions: Sequence[Mapping[str, Any]],
    answers: Mapping[str, Any],
    *,
    template_key: str = "",
    language: str = "",
) -> Evaluation:
    """Fire every active rule that matches; see the module docstring. ``language`` is the
    draft's: a shipped rule's note is given in it (the rules were loaded in the studio's
    language), a note the owner wrote stays as written."""
    brief = _Brief(questions or [], answers or {})
    result = Evaluation()
    unanswered_keys: set[str] = set()
    missing: dict[str, list[str]] = {}
    for rule in rules:
        if not rule.is_active or (rule.template_key and rule.template_key != template_key):
            continue
        note = shipped_note(rule.note, language) if language else rule.note
        origin: dict[str, Any] = {"rule": rule.pk, "key": "", "label": note, "answer": ""}
        answer: object = None
        if rule.operator != "always":
            key = rule.question_key
            question = brief.questions.get(key)
            if question is None:
                missing.setdefault(key, []).append(f"#{rule.pk}")
                continue
            answer = brief.answers.get(key)
            if _is_empty(answer):
                if brief.visible(key) and key not in unanswered_keys:
                    unanswered_keys.add(key)
                    result.unanswered.append({"key": key, "label": str(question.get("label", key))})
                continue
            try:
                if not _matches(rule, answer, str(question.get("type", ""))):
                    continue
            except ValueError as error:
                result.problems.append(
                    _("%(rule)s (question “%(key)s”): %(error)s; skipped.")
                    % {"rule": rule_label(rule), "key": key, "error": error}
                )
                continue
            matched = rule.value.strip() if rule.operator in ("is", "contains") else ""
            origin = {
                "rule": rule.pk,
                "key": key,
                "label": str(question.get("label", key))[:200],
                "answer": brief.display(key, matched),
            }
        try:
            amount = _amount(rule, answer)
        except ValueError as error:
            result.problems.append(
                _("%(rule)s: %(error)s; skipped.") % {"rule": rule_label(rule), "error": error}
            )
            continue
        if amount == 0 and rule.action != "multiply_role":
            continue
        page_slugs: tuple[str, ...] = ()
        page_labels: dict[str, str] = {}
        if rule.action == "add_pages_from_answer":
            picked = answer if isinstance(answer, list) else [answer]
            page_slugs = tuple(str(slug) for slug in picked if slug != OTHER_VALUE)
            page_labels = {slug: brief.label(rule.question_key, slug) for slug in page_slugs}
            other = brief.answers.get(rule.question_key + OTHER_SUFFIX)
            if OTHER_VALUE in picked and other:
                result.notes.append(
                    _("The client also asked for pages: “%(text)s”.") % {"text": str(other)[:300]}
                )
        result.actions.append(
            RuleAction(
                rule_id=rule.pk,
                action=rule.action,
                target=rule.target,
                amount=amount,
                optional=rule.optional,
                option_name=rule.option_name,
                origin=origin,
                page_slugs=page_slugs,
                page_labels=page_labels,
            )
        )
    for key, labels in missing.items():
        result.problems.append(
            _("Rules %(rules)s: the question “%(key)s” no longer exists in this brief; skipped.")
            % {"rules": ", ".join(labels), "key": key}
        )
    result.problems = brief.problems + result.problems
    return result
