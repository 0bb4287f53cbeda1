"""What other apps may read of briefs. Keep these names and meanings stable.

``latest_submitted_brief(deal) -> Brief | None``
    The deal's most recently submitted brief, or None. Estimates drafts from its answers;
    documents quote them ("how we understood the task").
``question_keys() -> set[str]``
    Every question key the studio's brief templates ask (estimate rules refer to them).
``question_labels(language) -> dict[str, tuple[str, dict[str, str]]]``
    Each question key's label and its choices' labels (value → label), read from the
    templates in ``language`` first, then any (estimate rules show them instead of codes).
``template_names(language) -> dict[str, str]``
    Each default template key's name, in ``language`` first.
``Brief``
    The model, for reading ``answers``, ``questions`` (the frozen snapshot) and dates.
"""

from __future__ import annotations

from studiocrm.briefs.models import Brief, BriefQuestion, BriefTemplate
from studiocrm.briefs.services import latest_submitted_brief

__all__ = [
    "Brief",
    "latest_submitted_brief",
    "question_keys",
    "question_labels",
    "template_names",
]


def question_keys() -> set[str]:
    return set(BriefQuestion.objects.values_list("key", flat=True))


def question_labels(language: str) -> dict[str, tuple[str, dict[str, str]]]:
    labels: dict[str, tuple[str, dict[str, str]]] = {}
    questions = BriefQuestion.objects.select_related("template").order_by("pk")
    # The other language first, so the wanted language's labels overwrite them.
    for question in sorted(questions, key=lambda item: item.template.language == language):
        choices = {
            str(option.get("value")): str(option.get("label") or option.get("value"))
            for option in question.options or []
            if isinstance(option, dict)
        }
        labels[question.key] = (question.label, choices)
    return labels


def template_names(language: str) -> dict[str, str]:
    templates = BriefTemplate.objects.exclude(default_key="").order_by("pk")
    return {
        template.default_key: template.name
        for template in sorted(templates, key=lambda item: item.language == language)
    }
