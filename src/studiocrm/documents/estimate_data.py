"""Reading the deal's estimate and brief as plain data for documents.

``estimates.services.client_view`` gives the estimate as the client may see it but without
row ids and only as saved; a proposal needs both: the client picks an option and toggles
optional lines by id, and the totals and timeline must follow. So documents prices the
selection itself with ``estimates.pricing.price_options`` on in-memory copies of the lines
(nothing is saved), which is the same calculation the estimate editor uses, and copies into
the context only what a client may see (never cost, margin, hours or rates).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from studiocrm.briefs import public as briefs
from studiocrm.deals.models import Deal
from studiocrm.documents.filters import long_date
from studiocrm.estimates import public as estimates
from studiocrm.estimates.public import STAGE_LABELS, unit_label

EMPTY_BRIEF: dict[str, Any] = {"submitted": False, "date": None, "answers": [], "by_key": {}}


class DealEstimate:
    """The deal's current estimate (the most recently saved one), loaded once."""

    def __init__(self, deal: Deal, language: str) -> None:
        self.language = language
        self.estimate = estimates.saved_estimate(deal)
        self.options: list[Any] = []
        self.lines: list[Any] = []
        if self.estimate is not None:
            self.options = list(self.estimate.options.all())
            self.lines = estimates.estimate_lines(self.options)

    @property
    def exists(self) -> bool:
        return self.estimate is not None and bool(self.options)

    def offered(self) -> dict[str, Any] | None:
        """Every option as offered (optional lines as the studio preselected them)."""
        if not self.exists:
            return None
        priced = self._price(self.lines)
        estimate = self.estimate
        assert estimate is not None
        return {
            "title": estimate.title,
            "currency": estimate.currency,
            "tax_mode": estimate.tax_mode,
            "tax_included": estimate.tax_mode == "vat_included",
            "tax_on_top": estimate.tax_mode == "vat_on_top",
            "has_tax": estimate.tax_mode != "no_vat",
            "options": [self._option_data(item) for item in priced],
        }

    def default_selection(self) -> dict[str, Any]:
        main = estimates.primary_option(self.options)
        if main is None:
            return {}
        return {
            "option": str(main.pk),
            "optional": [
                str(line.pk)
                for line in self.lines
                if line.option_id == main.pk and line.is_optional and line.is_selected
            ],
        }

    def clean_selection(self, selection: Mapping[str, Any] | None) -> dict[str, Any]:
        """A selection reduced to ids that exist: an unknown option falls back to the main
        one, unknown or non-optional line ids are dropped. Never trusts its input."""
        default = self.default_selection()
        if not selection or not default:
            return default
        option_ids = {str(option.pk) for option in self.options}
        option_id = str(selection.get("option", ""))
        if option_id not in option_ids:
            return default
        optional_ids = {
            str(line.pk)
            for line in self.lines
            if str(line.option_id) == option_id and line.is_optional
        }
        wanted = selection.get("optional")
        if not isinstance(wanted, list | tuple):
            chosen = sorted(
                str(line.pk)
                for line in self.lines
                if str(line.option_id) == option_id and line.is_optional and line.is_selected
            )
        else:
            chosen = sorted({str(item) for item in wanted[:1000]} & optional_ids, key=_id_order)
        return {"option": option_id, "optional": chosen}

    def chosen(self, selection: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The selected option priced with the selected optional lines."""
        if not self.exists:
            return None
        clean = self.clean_selection(selection)
        selected = set(clean.get("optional", []))
        option_id = clean["option"]
        lines = []
        for line in self.lines:
            if str(line.option_id) != option_id:
                continue
            if line.is_optional:
                line = copy.copy(line)
                line.is_selected = str(line.pk) in selected
            lines.append(line)
        option = next(option for option in self.options if str(option.pk) == option_id)
        priced = self._price(lines, [option])
        return self._option_data(priced[0])

    def _price(self, lines: Sequence[Any], options: Sequence[Any] | None = None) -> list[Any]:
        assert self.estimate is not None
        return estimates.price_options(self.estimate, list(options or self.options), lines)

    def _option_data(self, item: Any) -> dict[str, Any]:
        with translation.override(self.language):
            return _option_data(item)


def _option_data(item: Any) -> dict[str, Any]:
    """One priced option as plain data, labels in the active language."""

    result = item.result
    pages = [_line_data(priced, "page") for priced in item.pages]
    services = [_line_data(priced, "service") for priced in item.services]
    lines = pages + services
    timeline = [
        {
            "code": stage.code,
            "name": str(STAGE_LABELS.get(stage.code, stage.code)),
            "start_day": stage.start_day,
            "end_day": stage.start_day + stage.days,
            "days": stage.days,
        }
        for stage in result.timeline.stages
        if stage.days
    ]
    return {
        "id": str(item.option.pk),
        "name": item.option.name,
        "recommended": bool(item.option.is_primary),
        "discount_percent": item.option.discount_percent,
        "lines": lines,
        "pages": pages,
        "services": services,
        "optional_lines": [line for line in lines if line["optional"]],
        "amount": result.amount,
        "discount": result.discount,
        "net": result.net,
        "tax": result.tax,
        "total": result.total,
        "optional_total": result.optional_total,
        "days": result.timeline.total_days,
        "timeline": timeline,
    }


def _id_order(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (0, value)


def _line_data(priced: Any, kind: str) -> dict[str, Any]:
    line, result = priced.line, priced.result
    return {
        "id": str(line.pk),
        "kind": kind,
        "name": line.name,
        "description": line.description,
        "category": line.category,
        "depth": priced.depth,
        "quantity": line.quantity,
        "unit": line.unit,
        "unit_label": unit_label(line.unit, line.quantity),
        "unit_price": result.unit_price,
        "amount": result.amount,
        "discount": result.discount,
        "net": result.net,
        "tax_rate": line.tax_rate,
        "tax": result.tax,
        "total": result.total,
        "optional": bool(line.is_optional),
        "selected": bool(result.counted),
    }


# The brief ----------------------------------------------------------------------------------


def _answer_text(question: Mapping[str, Any], value: Any, answers: Mapping[str, Any]) -> str:
    kind = question.get("type")
    labels = {
        str(option.get("value")): str(option.get("label", ""))
        for option in question.get("options") or []
        if isinstance(option, Mapping)
    }
    other = str(answers.get(f"{question.get('key')}__other", "")).strip()

    def label(item: Any) -> str:
        if item == "other":
            return other or _("Other")
        return labels.get(str(item), str(item))

    if kind == "date" and isinstance(value, str):
        try:
            return long_date(value, translation.get_language() or "en")
        except ValueError:
            return value
    if kind == "yes_no" or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if kind == "file":
        count = len(value) if isinstance(value, list) else 0
        return _("%(count)s file(s) attached") % {"count": count} if count else ""
    if isinstance(value, list):
        return ", ".join(label(item) for item in value)
    if labels:
        return label(value)
    return str(value)


def brief_data(brief: Any, language: str) -> dict[str, Any]:
    """A submitted brief's answers as text, in question order, with labels resolved."""
    if brief is None:
        return dict(EMPTY_BRIEF)
    answers_by_key: dict[str, str] = {}
    rows = []
    with translation.override(language):
        for question in brief.questions or []:
            key = str(question.get("key", ""))
            value = (brief.answers or {}).get(key)
            if value is None or value == "" or value == []:
                continue
            text = _answer_text(question, value, brief.answers or {})
            if not text:
                continue
            answers_by_key[key] = text
            rows.append(
                {
                    "key": key,
                    "section": str(question.get("section", "")),
                    "question": str(question.get("label", "")),
                    "answer": text,
                }
            )
    return {
        "submitted": True,
        "date": brief.submitted_at.date() if brief.submitted_at else None,
        "answers": rows,
        "by_key": answers_by_key,
    }


def project_title(deal: Deal) -> str:
    """What documents call the project: the deal's title, unless intake cut it from a long
    message ("Acme — We need a shop with…"); then the client and the kind of site from the
    submitted brief ("Acme — Online store"), else the client's name. A cut title never
    reaches a client."""
    brief = briefs.latest_submitted_brief(deal)
    return deal.project_title(f"{deal.client.name} — {brief.title}" if brief else "")


def brief_for_deal(deal: Deal, language: str) -> dict[str, Any]:
    return brief_data(briefs.latest_submitted_brief(deal), language)
