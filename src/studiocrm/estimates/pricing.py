"""Conversions between the estimate models and the pure calculation (``estimates.calc``).

Reading only: load an estimate's options and lines, turn them into calculation input,
price them, and put the results next to the rows they belong to (pages in tree order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from studiocrm.estimates import calc
from studiocrm.estimates.models import Estimate, EstimateLine, EstimateOption, PriceList

PAGE = EstimateLine.Kind.PAGE
SERVICE = EstimateLine.Kind.SERVICE


def _decimal(value: object, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    return Decimal(str(value))


def role_snapshot(price_list: PriceList) -> list[dict[str, Any]]:
    """The price list's roles as plain data, frozen into an estimate."""
    return [
        {
            "code": role.code,
            "name": role.name,
            "rate": str(role.hourly_rate),
            "cost_rate": str(role.cost_rate),
            "hours_per_day": str(role.hours_per_day),
            "people": role.people,
            "stage": role.stage,
        }
        for role in price_list.roles.all()
    ]


def role_rates(estimate: Estimate) -> list[calc.RoleRate]:
    return [
        calc.RoleRate(
            code=role["code"],
            rate=_decimal(role["rate"]),
            cost_rate=_decimal(role["cost_rate"]),
            hours_per_day=_decimal(role.get("hours_per_day"), "6"),
            people=int(role.get("people") or 1),
            stage=role.get("stage") or calc.DEVELOPMENT,
        )
        for role in estimate.roles
    ]


def clean_work(work: object, role_codes: Iterable[str]) -> dict[str, str]:
    """Hours per role as {code: "hours"}, dropping roles the estimate does not have and zeros."""
    known = set(role_codes)
    cleaned: dict[str, str] = {}
    if isinstance(work, dict):
        for code, hours in work.items():
            value = _decimal(hours)
            if code in known and value:
                cleaned[code] = str(value)
    return cleaned


def multipliers_of(option: EstimateOption) -> dict[str, Decimal]:
    """Entries for one role multiply: two rules × 1.5 and × 2 give × 3."""
    factors: dict[str, Decimal] = {}
    for entry in option.multipliers or []:
        code = entry.get("role")
        factors[code] = factors.get(code, Decimal(1)) * _decimal(entry.get("factor"), "1")
    return factors


def line_input(line: EstimateLine) -> calc.LineInput:
    return calc.LineInput(
        key=line.pk,
        quantity=line.quantity,
        unit_price=line.unit_price,
        hours={code: _decimal(hours) for code, hours in (line.work or {}).items()},
        unit_cost=line.unit_cost,
        discount_percent=line.discount_percent,
        tax_rate=line.tax_rate,
        optional=line.is_optional,
        selected=line.is_selected,
        stage=line.stage,
    )


@dataclass
class PricedLine:
    line: EstimateLine
    result: calc.LineResult
    depth: int = 0


@dataclass
class PricedOption:
    option: EstimateOption
    pages: list[PricedLine]  # in tree order, each with its depth
    services: list[PricedLine]
    result: calc.OptionResult


def tree_order(pages: Sequence[EstimateLine]) -> list[tuple[EstimateLine, int]]:
    """Pages depth-first (parents before children), siblings by position."""
    children: dict[int | None, list[EstimateLine]] = {}
    ids = {page.pk for page in pages}
    for page in pages:
        parent = page.parent_id if page.parent_id in ids else None
        children.setdefault(parent, []).append(page)
    for siblings in children.values():
        siblings.sort(key=lambda page: (page.position, page.pk))
    ordered: list[tuple[EstimateLine, int]] = []
    stack = [(page, 0) for page in reversed(children.get(None, []))]
    while stack:
        page, depth = stack.pop()
        ordered.append((page, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(page.pk, [])))
    return ordered


def price_options(
    estimate: Estimate, options: Sequence[EstimateOption], lines: Iterable[EstimateLine]
) -> list[PricedOption]:
    """Price already loaded options and lines. Raises calc.CalcError on refused input."""
    by_option: dict[int, list[EstimateLine]] = {option.pk: [] for option in options}
    for line in lines:
        by_option.setdefault(line.option_id, []).append(line)
    roles = role_rates(estimate)
    priced = []
    for option in options:
        option_lines = by_option.get(option.pk, [])
        pages = tree_order([line for line in option_lines if line.kind == PAGE])
        services = sorted(
            (line for line in option_lines if line.kind == SERVICE),
            key=lambda line: (line.position, line.pk),
        )
        ordered = [page for page, _depth in pages] + services
        result = calc.calculate(
            calc.EstimateInput(
                roles=roles,
                options=[
                    calc.OptionInput(
                        key=option.pk,
                        lines=[line_input(line) for line in ordered],
                        discount_percent=option.discount_percent,
                        role_multipliers=multipliers_of(option),
                    )
                ],
                tax_mode=estimate.tax_mode,
            )
        ).options[0]
        line_results = iter(result.lines)
        priced.append(
            PricedOption(
                option=option,
                pages=[PricedLine(page, next(line_results), depth) for page, depth in pages],
                services=[PricedLine(line, next(line_results)) for line in services],
                result=result,
            )
        )
    return priced


def price_estimate(
    estimate: Estimate, option_ids: Sequence[int] | None = None
) -> list[PricedOption]:
    """Load and price the estimate's options (all, or the given ones) in two queries."""
    options = list(estimate.options.all())
    if option_ids is not None:
        options = [option for option in options if option.pk in option_ids]
    lines = EstimateLine.objects.filter(option__in=[option.pk for option in options])
    return price_options(estimate, options, lines)


def primary_option(options: Sequence[EstimateOption]) -> EstimateOption | None:
    return next((option for option in options if option.is_primary), None) or (
        options[0] if options else None
    )


def line_to_dict(line: EstimateLine, children: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """A line as plain data: the format of packages and copies (no tax rate, no origins)."""
    return {
        "kind": line.kind,
        "code": line.code,
        "name": line.name,
        "description": line.description,
        "category": line.category,
        "unit": line.unit,
        "quantity": str(line.quantity),
        "unit_price": None if line.unit_price is None else str(line.unit_price),
        "work": dict(line.work or {}),
        "unit_cost": str(line.unit_cost),
        "discount_percent": str(line.discount_percent),
        "is_optional": line.is_optional,
        "is_selected": line.is_selected,
        "stage": line.stage,
        "children": list(children),
    }


def option_to_dicts(option: EstimateOption) -> list[dict[str, Any]]:
    lines = list(option.lines.all())
    children: dict[int | None, list[EstimateLine]] = {}
    for line in lines:
        if line.kind == PAGE:
            children.setdefault(line.parent_id, []).append(line)

    def page_dict(page: EstimateLine) -> dict[str, Any]:
        kids = sorted(children.get(page.pk, []), key=lambda line: (line.position, line.pk))
        return line_to_dict(page, [page_dict(kid) for kid in kids])

    roots = sorted(children.get(None, []), key=lambda line: (line.position, line.pk))
    services = sorted(
        (line for line in lines if line.kind == SERVICE), key=lambda line: (line.position, line.pk)
    )
    return [page_dict(page) for page in roots] + [line_to_dict(line) for line in services]
