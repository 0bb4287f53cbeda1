"""Questions as plain data: cleaning one answer, show-if visibility, required checks.

Everything here works on the snapshot dicts stored in ``Brief.questions`` (see the ``Brief``
docstring for their shape), so a sent brief behaves the same whatever happens to its template.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import formats
from django.utils.translation import gettext as _

from studiocrm.briefs.models import (
    CHOICE_TYPES,
    DATE,
    FILE,
    LIST_TYPES,
    LONG_TEXT,
    NUMBER,
    OTHER_SUFFIX,
    OTHER_VALUE,
    QUESTION_TYPES,
    SHORT_TEXT,
    SINGLE_CHOICE,
    URL,
    YES_NO,
)

Question = dict[str, Any]
Answers = dict[str, Any]

# Limits on what a client may type. The browser enforces them too (maxlength); these are the
# truth, for clients that bypass the page.
MAX_LENGTH = {SHORT_TEXT: 300, LONG_TEXT: 5000, URL: 2000}
MAX_OTHER_LENGTH = 300
MAX_NUMBER_LENGTH = 20
MAX_NUMBER = Decimal("1000000000000")
MIN_YEAR, MAX_YEAR = 1900, 2100

KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,48}[a-z0-9]$|^[a-z]$")
TYPE_CODES = {code for code, _label in QUESTION_TYPES}


class AnswerError(ValueError):
    """An answer that cannot be stored; the message is for the client."""


def valid_key(key: str) -> bool:
    """Keys are lowercase slugs; a double underscore is reserved for the "Other" text key."""
    return bool(KEY_PATTERN.match(key)) and OTHER_SUFFIX not in key


def option_values(question: Question) -> list[str]:
    return [option["value"] for option in question.get("options") or []]


def option_label(question: Question, value: str) -> str:
    for option in question.get("options") or []:
        if option["value"] == value:
            return option["label"]
    if value == OTHER_VALUE and question.get("allow_other"):
        return _("Other")
    return value


def clean_answer(question: Question, raw: Any, *, other_text: str = "") -> Any:
    """Turn what the client sent for one question into the stored value.

    ``raw`` is a str for single-value types and a list of str for multi_choice/pages. Returns
    None for "no answer" (the key is then removed). Raises AnswerError with a message the
    client can act on. File answers are not set here (see services.attach_file).
    """
    kind = question["type"]
    if kind in LIST_TYPES:
        values = [str(item).strip() for item in (raw or []) if str(item).strip()]
        return _clean_choices(question, values, other_text) or None
    text = ("" if raw is None else str(raw)).strip()
    if kind == FILE:
        raise AnswerError(_("Attach files with the upload button."))
    if not text:
        return None
    if "\x00" in text:
        raise AnswerError(_("The answer contains characters that cannot be stored."))
    if kind in (SHORT_TEXT, LONG_TEXT):
        limit = MAX_LENGTH[kind]
        if len(text) > limit:
            raise AnswerError(
                _("The answer is too long: %(length)s characters; the limit is %(limit)s.")
                % {"length": len(text), "limit": limit}
            )
        return text
    if kind == URL:
        return _clean_url(text)
    if kind == DATE:
        return _clean_date(text)
    if kind == NUMBER:
        return _clean_number(text)
    if kind == YES_NO:
        if text in ("yes", "true"):
            return True
        if text in ("no", "false"):
            return False
        raise AnswerError(_("Choose yes or no."))
    if kind == SINGLE_CHOICE:
        return _clean_choices(question, [text], other_text)[0]
    raise AnswerError(_("Unknown question type."))


def _clean_choices(question: Question, values: list[str], other_text: str) -> list[str]:
    allowed = option_values(question)
    if question.get("allow_other"):
        allowed = [*allowed, OTHER_VALUE]
    if len(values) > len(allowed):
        raise AnswerError(_("Too many options chosen."))
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise AnswerError(_("Choose from the options offered."))
    if OTHER_VALUE in values and len(other_text.strip()) > MAX_OTHER_LENGTH:
        raise AnswerError(
            _("The “Other” text is too long; the limit is %(limit)s characters.")
            % {"limit": MAX_OTHER_LENGTH}
        )
    # Keep the order of the options, not the order of clicks, and no duplicates.
    return [value for value in allowed if value in values]


def _clean_url(text: str) -> str:
    if len(text) > MAX_LENGTH[URL]:
        raise AnswerError(
            _("The address is too long; the limit is %(limit)s characters.")
            % {"limit": MAX_LENGTH[URL]}
        )
    candidate = text if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I) else f"https://{text}"
    try:
        URLValidator(schemes=["http", "https"])(candidate)
    except ValidationError:
        raise AnswerError(_("Enter a web address like example.com.")) from None
    return candidate


def _clean_date(text: str) -> str:
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise AnswerError(_("Enter a date, e.g. 2026-03-31.")) from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise AnswerError(_("Enter a real date."))
    return value.isoformat()


def _clean_number(text: str) -> str:
    normalized = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if len(normalized) > MAX_NUMBER_LENGTH or not re.match(r"^-?\d+(\.\d+)?$", normalized):
        raise AnswerError(_("Enter a number, e.g. 12 or 3.5."))
    try:
        value = Decimal(normalized)
    except InvalidOperation:
        raise AnswerError(_("Enter a number, e.g. 12 or 3.5.")) from None
    if abs(value) >= MAX_NUMBER:
        raise AnswerError(_("The number is too large."))
    if value < 0:
        raise AnswerError(_("Enter a number that is zero or more."))
    text_value = format(value.normalize(), "f")
    return text_value


def answer_matches(question: Question, answer: Any, expected: str) -> bool:
    """Does this answer satisfy a show-if condition ``equals: expected``?"""
    if answer is None:
        return False
    if question["type"] == YES_NO:
        return answer is (expected.strip().lower() in ("yes", "true"))
    if isinstance(answer, list):
        return expected in answer
    return str(answer) == expected


def visible_keys(questions: Iterable[Question], answers: Mapping[str, Any]) -> set[str]:
    """Keys of the questions the client sees for these answers.

    A question with ``show_if`` is visible when the question it depends on is visible and
    its answer matches. A condition on an unknown or later question hides the question
    (templates only allow earlier questions, so this only guards against bad data).
    """
    visible: set[str] = set()
    seen: dict[str, Question] = {}
    for question in questions:
        condition = question.get("show_if")
        if not condition:
            visible.add(question["key"])
        else:
            parent = seen.get(condition.get("key", ""))
            if (
                parent is not None
                and parent["key"] in visible
                and answer_matches(parent, answers.get(parent["key"]), condition.get("equals", ""))
            ):
                visible.add(question["key"])
        seen[question["key"]] = question
    return visible


def is_answered(question: Question, answers: Mapping[str, Any]) -> bool:
    value = answers.get(question["key"])
    if value is None or value == "" or value == []:
        return False
    return not (
        question["type"] in CHOICE_TYPES
        and _is_only_other(value)
        and not str(answers.get(question["key"] + OTHER_SUFFIX, "")).strip()
    )


def _is_only_other(value: Any) -> bool:
    return value == OTHER_VALUE or value == [OTHER_VALUE]


def missing_required(questions: list[Question], answers: Mapping[str, Any]) -> list[Question]:
    """Required questions the client can see but has not answered."""
    visible = visible_keys(questions, answers)
    return [
        question
        for question in questions
        if question.get("required")
        and question["key"] in visible
        and not is_answered(question, answers)
    ]


def prune_hidden(questions: list[Question], answers: Mapping[str, Any]) -> Answers:
    """The answers without those to questions the client cannot see (and without stray keys)."""
    visible = visible_keys(questions, answers)
    kept: Answers = {}
    for question in questions:
        key = question["key"]
        if key not in visible or key not in answers:
            continue
        kept[key] = answers[key]
        other_key = key + OTHER_SUFFIX
        if other_key in answers and _contains_other(answers[key]):
            kept[other_key] = answers[other_key]
    return kept


def _contains_other(value: Any) -> bool:
    return value == OTHER_VALUE or (isinstance(value, list) and OTHER_VALUE in value)


def progress(questions: list[Question], answers: Mapping[str, Any]) -> tuple[int, int]:
    """(answered, total) over the visible questions: what the progress bar shows."""
    visible = visible_keys(questions, answers)
    shown = [question for question in questions if question["key"] in visible]
    return sum(1 for question in shown if is_answered(question, answers)), len(shown)


def display_value(question: Question, answers: Mapping[str, Any]) -> str | list[str] | None:
    """An answer as the studio reads it: labels instead of slugs; None when unanswered.

    Returned as plain text; templates escape it like any other value. File answers are shown
    by the caller (they need links).
    """
    value = answers.get(question["key"])
    if value is None or value == [] or value == "":
        return None
    kind = question["type"]
    other_text = str(answers.get(question["key"] + OTHER_SUFFIX, "")).strip()

    def label(item: str) -> str:
        if item == OTHER_VALUE and question.get("allow_other"):
            return f"{_('Other')}: {other_text}" if other_text else _("Other")
        return option_label(question, item)

    if kind in LIST_TYPES:
        return [label(item) for item in value]
    if kind == SINGLE_CHOICE:
        return label(value)
    if kind == YES_NO:
        return _("Yes") if value else _("No")
    if kind == DATE:
        try:
            return formats.date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            return str(value)
    return str(value)


def group_by_section(questions: list[Question]) -> list[tuple[str, list[Question]]]:
    """Consecutive questions with the same section title, in order."""
    groups: list[tuple[str, list[Question]]] = []
    for question in questions:
        if groups and groups[-1][0] == question.get("section", ""):
            groups[-1][1].append(question)
        else:
            groups.append((question.get("section", ""), [question]))
    return groups
