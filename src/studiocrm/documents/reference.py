"""The editor's list of every placeholder, generated from the sample context itself, so the
list cannot drift from what templates actually receive."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

DESCRIPTIONS = {
    "language": _("Language of the document: ru or en"),
    "currency": _("Currency code of the deal, e.g. RUB"),
    "document": _("This document: kind, title, number, date, sequence"),
    "document.number": _("Contract number (appendices and acts share it)"),
    "document.sequence": _("Appendix or act number within the contract"),
    "contract": _("The contract this document belongs to (None for a proposal)"),
    "studio": _("Your studio's details from Settings"),
    "client": _("The client's legal details"),
    "client.kind": _("company or person"),
    "contact": _("The contact person of the deal"),
    "manager": _("The responsible manager"),
    "deal": _("The deal"),
    "brief": _("The client's submitted brief"),
    "brief.by_key": _("Answers by question key: goal, audience, features, pages, deadline…"),
    "estimate": _("The saved estimate with all its options (None without one)"),
    "estimate.options[]": _("One option of the estimate"),
    "estimate.options[].lines[]": _("A page or service line of the option"),
    "estimate.options[].timeline[]": _("A stage of the option's timeline"),
    "chosen": _("The option this document is about, with the optional lines chosen"),
    "totals": _("Totals of the chosen option"),
    "totals.total_in_words": _("The total in words, with currency"),
    "timeline": _("Stages of the chosen option"),
    "payment_schedule": _("Payments: deposit and the rest, with amounts"),
    "chosen.lines[]": _("Same fields as estimate.options[].lines[]"),
    "chosen.timeline[]": _("Same fields as estimate.options[].timeline[]"),
    "timeline[]": _("Same fields as estimate.options[].timeline[]"),
}

USAGE = {
    "print": "{{ client.name }}",
    "loop": "{% for line in chosen.lines %}{{ line.name }}{% endfor %}",
    "condition": "{% if totals.tax %}…{% endif %}",
}

FILTERS = [
    ("money", "{{ totals.total|money }}", _("Amount with the currency sign; money(cents=true)")),
    ("words", "{{ totals.total|words }}", _("Amount in words with currency")),
    ("number", "{{ line.quantity|number }}", _("Number with digit grouping; number(2)")),
    ("percent", "{{ step.percent|percent }}", _("Percent")),
    ("date", "{{ document.date|date }}", _("Date: date('short'), date('month'), date('iso')")),
    ("plural", "{{ n|plural('день', 'дня', 'дней') }}", _("Word form for a number")),
    ("paragraphs", "{{ deal.description|paragraphs }}", _("Text with line breaks, escaped")),
]


# The loop variable a snippet uses for each list (the list's name, singular).
_ITEM_NAMES = {
    "options": "option",
    "lines": "line",
    "pages": "page",
    "services": "service",
    "optional_lines": "line",
    "timeline": "stage",
    "payment_schedule": "step",
    "answers": "answer",
    "sections": "section",
    "questions": "question",
}


def _item_name(list_name: str) -> str:
    name = list_name.rsplit(".", 1)[-1]
    return _ITEM_NAMES.get(name, name[:-1] if name.endswith("s") and len(name) > 2 else "item")


def insert_text(path: str, *, is_list: bool = False, is_mapping: bool = False) -> str:
    """What the editor inserts at the cursor for a placeholder path: ``{{ client.name }}``;
    a loop for a list; a list item's field through the loop variable (``{{ line.name }}``).
    "" for a group of fields (printing a whole dict is never what the author wants)."""
    if is_mapping:
        return ""
    if is_list:
        base = path[:-2]  # without the trailing []
        if "[]" in base:  # a list inside a list item: loop over the item's field
            head, _, field = base.rpartition("[].")
            base = f"{_item_name(head)}.{field}"
        return f"{{% for {_item_name(base)} in {base} %}}\n  \n{{% endfor %}}"
    if "[]." in path:
        head, _, field = path.rpartition("[].")
        return f"{{{{ {_item_name(head)}.{field} }}}}"
    return f"{{{{ {path} }}}}"


def _example(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if value is None:
        return "None"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def placeholder_rows(context: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every path in the context with an example value and a description where we have one.
    Lists show their first element's fields as ``name[].field``."""
    rows: list[dict[str, str]] = []

    def walk(value: Any, path: str, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(value, Mapping):
            if path:
                rows.append(
                    {
                        "path": path,
                        "example": "",
                        "description": str(DESCRIPTIONS.get(path, "")),
                        "insert": insert_text(path, is_mapping=True),
                    }
                )
            if path == "brief.by_key":
                for key, answer in list(value.items())[:6]:
                    rows.append(
                        {
                            "path": f"{path}.get('{key}')",
                            "example": _example(answer),
                            "description": "",
                            "insert": insert_text(f"{path}.get('{key}')"),
                        }
                    )
                return
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key), depth + 1)
        elif isinstance(value, list):
            rows.append(
                {
                    "path": f"{path}[]",
                    "example": f"{len(value)}×",
                    "description": str(DESCRIPTIONS.get(f"{path}[]", DESCRIPTIONS.get(path, ""))),
                    "insert": insert_text(f"{path}[]", is_list=True),
                }
            )
            if value and path not in (
                "estimate.options[].pages",
                "estimate.options[].services",
                "estimate.options[].optional_lines",
                "chosen.lines",
                "chosen.pages",
                "chosen.services",
                "chosen.optional_lines",
                "chosen.timeline",
                "timeline",
            ):
                walk_item(value[0], f"{path}[]", depth + 1)
        else:
            rows.append(
                {
                    "path": path,
                    "example": _example(value),
                    "description": str(DESCRIPTIONS.get(path, "")),
                    "insert": insert_text(path),
                }
            )

    def walk_item(item: Any, path: str, depth: int) -> None:
        if isinstance(item, Mapping):
            for key, value in item.items():
                walk(value, f"{path}.{key}", depth + 1)
        else:
            rows.append(
                {
                    "path": path,
                    "example": _example(item),
                    "description": "",
                    "insert": insert_text(path),
                }
            )

    walk(context, "", 0)
    return rows
