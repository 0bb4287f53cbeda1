"""The client's brief form: what each question shows and how a POST maps to answers.

Used by the client page (portal), by the owner's template preview and by the manager's
answer views, so all of them show a question the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from studiocrm.briefs import questions as q
from studiocrm.briefs.models import (
    FILE,
    LIST_TYPES,
    OTHER_SUFFIX,
    OTHER_VALUE,
    SINGLE_CHOICE,
    YES_NO,
    BriefFile,
)

INPUT_PREFIX = "q_"


def input_name(key: str) -> str:
    return f"{INPUT_PREFIX}{key}"


def other_input_name(key: str) -> str:
    return f"{INPUT_PREFIX}{key}{OTHER_SUFFIX}"


def file_input_name(key: str) -> str:
    return f"file_{key}"


@dataclass
class Choice:
    value: str
    label: str
    checked: bool


@dataclass
class QuestionView:
    """One question ready for a template: its current value, error and visibility."""

    question: dict[str, Any]
    value: str = ""
    choices: list[Choice] = field(default_factory=list)
    other_checked: bool = False
    other_text: str = ""
    files: list[BriefFile] = field(default_factory=list)
    display: str | list[str] | None = None
    error: str = ""
    visible: bool = True
    missing: bool = False

    @property
    def key(self) -> str:
        return self.question["key"]

    @property
    def type(self) -> str:
        return self.question["type"]

    @property
    def name(self) -> str:
        return input_name(self.key)

    @property
    def other_name(self) -> str:
        return other_input_name(self.key)

    @property
    def file_name(self) -> str:
        return file_input_name(self.key)

    @property
    def max_length(self) -> int | None:
        return q.MAX_LENGTH.get(self.type)

    @property
    def show_if(self) -> dict[str, str] | None:
        return self.question.get("show_if")

    @property
    def is_answered(self) -> bool:
        return self.display is not None


@dataclass
class SectionView:
    title: str
    questions: list[QuestionView]

    @property
    def has_answers_or_gaps(self) -> bool:
        """Anything for the compact summary: an answer, a file or a required gap."""
        return any(
            view.visible and (view.is_answered or view.missing or view.files)
            for view in self.questions
        )


def raw_from_post(question: Mapping[str, Any], data: QueryDict) -> tuple[Any, str]:
    """The raw answer and the "Other" text for one question from a form POST."""
    key = question["key"]
    other_text = data.get(other_input_name(key), "")
    if question["type"] in LIST_TYPES:
        return data.getlist(input_name(key)), other_text
    return data.get(input_name(key), ""), other_text


def build(
    questions: list[dict[str, Any]],
    answers: Mapping[str, Any],
    *,
    files: Iterable[BriefFile] = (),
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, tuple[Any, str]] | None = None,
    flag_missing: bool = False,
) -> list[SectionView]:
    """Sections of QuestionViews. ``typed`` holds what the client sent for questions whose
    answer was rejected, so the page shows their text back instead of losing it."""
    errors = errors or {}
    typed = typed or {}
    files_by_id = {attachment.pk: attachment for attachment in files}
    visible = q.visible_keys(questions, answers)
    missing = {item["key"] for item in q.missing_required(questions, answers)}
    sections: list[SectionView] = []
    for title, group in q.group_by_section(questions):
        views = []
        for question in group:
            key = question["key"]
            view = _view(question, answers, typed.get(key), files_by_id)
            view.error = errors.get(key, "")
            view.visible = key in visible
            view.missing = flag_missing and key in missing
            views.append(view)
        sections.append(SectionView(title=title, questions=views))
    return sections


def _view(
    question: dict[str, Any],
    answers: Mapping[str, Any],
    typed: tuple[Any, str] | None,
    files_by_id: Mapping[int, BriefFile],
) -> QuestionView:
    key = question["key"]
    kind = question["type"]
    if typed is not None:
        current, other_text = typed
    else:
        current = answers.get(key)
        other_text = str(answers.get(key + OTHER_SUFFIX, ""))
    view = QuestionView(question=question, other_text=other_text)
    view.display = q.display_value(question, answers)
    if kind in LIST_TYPES or kind == SINGLE_CHOICE:
        selected = set(current if isinstance(current, list) else [current] if current else [])
        view.choices = [
            Choice(option["value"], option["label"], option["value"] in selected)
            for option in question.get("options") or []
        ]
        view.other_checked = OTHER_VALUE in selected
    elif kind == YES_NO:
        if isinstance(current, bool):
            view.value = "yes" if current else "no"
        else:
            view.value = str(current or "")
    elif kind == FILE:
        ids = answers.get(key) or []
        view.files = [files_by_id[file_id] for file_id in ids if file_id in files_by_id]
    else:
        view.value = "" if current is None else str(current)
    return view
