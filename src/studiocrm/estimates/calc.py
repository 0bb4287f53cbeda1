"""The estimate calculation: a pure function from plain data to plain data.

No database, no Django: dataclasses in, dataclasses out, ``Decimal`` only, every money
amount rounded by ``core.money.round_money``. Models and views convert to and from these
types (see ``estimates.services``), so the arithmetic is property-tested on its own.

Rules of the arithmetic, per line (only lines that count: not optional, or optional and
selected by the client):

1. ``unit_price``: the price typed for the line, or, when it has none, the hours of one unit
   (each role's hours times the option's multiplier for that role) times the role's rate,
   rounded to cents.
2. ``amount = round(quantity × unit_price)``.
3. ``discount = round(amount × d)`` where ``d = 1 − (1 − line%)(1 − option%)``: the option
   discount cascades into every line, so option totals stay exact sums of lines and no
   discount can exceed the amount it reduces.
4. ``net = amount − discount``: the price charged before tax is added.
5. Tax by mode: ``no_vat`` 0; ``vat_on_top`` ``round(net × rate / 100)`` added to ``net``;
   ``vat_included`` ``round(net × rate / (100 + rate))`` taken out of ``net``.
   ``total`` is what the client pays for the line, ``revenue = total − tax``.
6. ``cost``: hours times each role's internal cost rate plus the external unit cost times the
   quantity, rounded. ``margin = revenue − cost`` (internal; never shown to a client).

Option totals are plain sums of the rounded line figures, so nothing is rounded twice.

The timeline (working days) follows these rules:

- Each role belongs to a stage (``analysis, design, development, content, testing,
  launch``) or to ``management``, whose hours run alongside the stages and add no days.
  A line may put its hours into a stage of its own (``LineInput.stage``).
- Within a stage the roles work in parallel; a role needs
  ``ceil(hours / (hours_per_day × people))`` working days; the stage lasts as long as its
  slowest role.
- Stages run in sequence: analysis → design → development → testing → launch. Content runs
  in parallel with design and development (it starts when analysis ends), and testing
  starts only when both development and content are finished.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from studiocrm.core.money import round_money

ANALYSIS = "analysis"
DESIGN = "design"
DEVELOPMENT = "development"
CONTENT = "content"
TESTING = "testing"
LAUNCH = "launch"
MANAGEMENT = "management"
STAGES = (ANALYSIS, DESIGN, DEVELOPMENT, CONTENT, TESTING, LAUNCH)
ROLE_STAGES = (*STAGES, MANAGEMENT)

NO_VAT = "no_vat"
VAT_INCLUDED = "vat_included"
VAT_ON_TOP = "vat_on_top"
TAX_MODES = (NO_VAT, VAT_INCLUDED, VAT_ON_TOP)

# Limits the forms enforce and the calculation re-checks. They keep every figure inside the
# database columns (14 digits, 2 decimals) and out of absurd territory.
MAX_QUANTITY = Decimal("10000")
MAX_UNIT_PRICE = Decimal("100000000")
MAX_HOURS_PER_UNIT = Decimal("10000")
MAX_MULTIPLIER = Decimal("100")
MAX_PERCENT = Decimal("100")
MAX_TOTAL = Decimal("999999999999.99")

ZERO = Decimal("0")
NO_MONEY = Decimal("0.00")
HUNDRED = Decimal("100")
HOUR_STEP = Decimal("0.01")


class CalcError(ValueError):
    """Input the calculation refuses (negative, out of range, unknown role)."""


def round_hours(value: Decimal) -> Decimal:
    return value.quantize(HOUR_STEP, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class RoleRate:
    code: str
    rate: Decimal
    cost_rate: Decimal
    hours_per_day: Decimal = Decimal("6")
    people: int = 1
    stage: str = DEVELOPMENT


@dataclass(frozen=True, slots=True)
class LineInput:
    key: object
    quantity: Decimal
    unit_price: Decimal | None = None  # None: priced from hours × role rates
    hours: Mapping[str, Decimal] = field(default_factory=dict)  # per unit, by role code
    unit_cost: Decimal = ZERO  # external cost per unit (licences, hosting)
    discount_percent: Decimal = ZERO
    tax_rate: Decimal = ZERO
    optional: bool = False
    selected: bool = True  # an optional line counts only while selected
    stage: str = ""  # "" puts each role's hours into that role's stage


@dataclass(frozen=True, slots=True)
class OptionInput:
    key: object
    lines: Sequence[LineInput]
    discount_percent: Decimal = ZERO
    role_multipliers: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EstimateInput:
    roles: Sequence[RoleRate]
    options: Sequence[OptionInput]
    tax_mode: str = NO_VAT


@dataclass(frozen=True, slots=True)
class LineResult:
    key: object
    counted: bool  # False for an optional line the client has not selected
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    revenue: Decimal
    cost: Decimal
    hours: Mapping[str, Decimal]

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost


@dataclass(frozen=True, slots=True)
class StagePlan:
    code: str
    start_day: int
    days: int

    @property
    def end_day(self) -> int:
        return self.start_day + self.days


@dataclass(frozen=True, slots=True)
class Timeline:
    stages: tuple[StagePlan, ...]
    total_days: int


@dataclass(frozen=True, slots=True)
class OptionResult:
    key: object
    lines: tuple[LineResult, ...]
    amount: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    revenue: Decimal
    cost: Decimal
    hours: Mapping[str, Decimal]
    timeline: Timeline
    optional_total: Decimal  # what the unselected optional lines would add

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin_percent(self) -> Decimal | None:
        if not self.revenue:
            return None
        return (self.margin * HUNDRED / self.revenue).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )

    @property
    def hours_total(self) -> Decimal:
        return sum(self.hours.values(), ZERO)


@dataclass(frozen=True, slots=True)
class EstimateResult:
    options: tuple[OptionResult, ...]

    def option(self, key: object) -> OptionResult:
        for option in self.options:
            if option.key == key:
                return option
        raise KeyError(key)


def _check(value: Decimal, low: Decimal, high: Decimal, what: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise CalcError(f"{what}: not a number")
    if value < low or value > high:
        raise CalcError(f"{what}: {value} is outside {low}…{high}")
    return value


def _check_roles(roles: Sequence[RoleRate]) -> dict[str, RoleRate]:
    by_code: dict[str, RoleRate] = {}
    for role in roles:
        _check(role.rate, ZERO, MAX_UNIT_PRICE, f"rate of {role.code}")
        _check(role.cost_rate, ZERO, MAX_UNIT_PRICE, f"cost rate of {role.code}")
        _check(role.hours_per_day, Decimal("0.5"), Decimal("24"), f"hours a day of {role.code}")
        if role.people < 1 or role.people > 1000:
            raise CalcError(f"people in {role.code}: {role.people} is outside 1…1000")
        if role.stage not in ROLE_STAGES:
            raise CalcError(f"stage of {role.code}: unknown stage {role.stage!r}")
        by_code[role.code] = role
    return by_code


def _line_hours(
    line: LineInput, roles: Mapping[str, RoleRate], multipliers: Mapping[str, Decimal]
) -> dict[str, Decimal]:
    """Hours of one unit of the line, after the option's role multipliers."""
    per_unit: dict[str, Decimal] = {}
    for code, hours in line.hours.items():
        if code not in roles:
            raise CalcError(f"line {line.key}: unknown role {code!r}")
        _check(hours, ZERO, MAX_HOURS_PER_UNIT, f"hours of {code} in line {line.key}")
        if hours:
            per_unit[code] = hours * multipliers.get(code, Decimal(1))
    return per_unit


def calculate_line(
    line: LineInput,
    *,
    roles: Mapping[str, RoleRate],
    tax_mode: str,
    option_discount: Decimal = ZERO,
    multipliers: Mapping[str, Decimal] | None = None,
) -> LineResult:
    """Price one line (see the module docstring for the rules)."""
    multipliers = multipliers or {}
    _check(line.quantity, ZERO, MAX_QUANTITY, f"quantity of line {line.key}")
    _check(line.discount_percent, ZERO, MAX_PERCENT, f"discount of line {line.key}")
    _check(line.tax_rate, ZERO, MAX_PERCENT, f"tax rate of line {line.key}")
    _check(line.unit_cost, ZERO, MAX_UNIT_PRICE, f"unit cost of line {line.key}")
    if line.stage and line.stage not in ROLE_STAGES:
        raise CalcError(f"line {line.key}: unknown stage {line.stage!r}")
    per_unit = _line_hours(line, roles, multipliers)
    if line.unit_price is None:
        unit_price = round_money(sum((h * roles[c].rate for c, h in per_unit.items()), ZERO))
        if unit_price > MAX_UNIT_PRICE:
            raise CalcError(f"line {line.key}: the price from hours is too large")
    else:
        unit_price = round_money(_check(line.unit_price, ZERO, MAX_UNIT_PRICE, "unit price"))
    quantity = line.quantity
    hours = {code: round_hours(h * quantity) for code, h in per_unit.items()}
    amount = round_money(quantity * unit_price)
    keep = (HUNDRED - line.discount_percent) * (HUNDRED - option_discount) / (HUNDRED * HUNDRED)
    discount = round_money(amount * (1 - keep))
    net = amount - discount
    rate = line.tax_rate
    if tax_mode == VAT_ON_TOP:
        tax = round_money(net * rate / HUNDRED)
        total = net + tax
    elif tax_mode == VAT_INCLUDED:
        tax = round_money(net * rate / (HUNDRED + rate))
        total = net
    elif tax_mode == NO_VAT:
        tax, total = NO_MONEY, net
    else:
        raise CalcError(f"unknown tax mode {tax_mode!r}")
    cost = round_money(
        sum((hours[c] * roles[c].cost_rate for c in hours), ZERO) + line.unit_cost * quantity
    )
    return LineResult(
        key=line.key,
        counted=(not line.optional) or line.selected,
        quantity=quantity,
        unit_price=unit_price,
        amount=amount,
        discount=discount,
        net=net,
        tax=tax,
        total=total,
        revenue=total - tax,
        cost=cost,
        hours=hours,
    )


def plan_timeline(
    stage_role_hours: Mapping[tuple[str, str], Decimal], roles: Mapping[str, RoleRate]
) -> Timeline:
    """Working days per stage from hours per (stage, role); see the module docstring."""
    days = dict.fromkeys(STAGES, 0)
    for (stage, code), hours in stage_role_hours.items():
        if stage == MANAGEMENT or hours <= 0:
            continue
        role = roles[code]
        capacity = role.hours_per_day * role.people
        needed = math.ceil(hours / capacity)
        days[stage] = max(days[stage], needed)
    analysis = StagePlan(ANALYSIS, 0, days[ANALYSIS])
    design = StagePlan(DESIGN, analysis.end_day, days[DESIGN])
    development = StagePlan(DEVELOPMENT, design.end_day, days[DEVELOPMENT])
    content = StagePlan(CONTENT, analysis.end_day, days[CONTENT])
    testing = StagePlan(TESTING, max(development.end_day, content.end_day), days[TESTING])
    launch = StagePlan(LAUNCH, testing.end_day, days[LAUNCH])
    return Timeline(
        stages=(analysis, design, development, content, testing, launch),
        total_days=launch.end_day,
    )


def calculate_option(
    option: OptionInput, *, roles: Mapping[str, RoleRate], tax_mode: str
) -> OptionResult:
    """Price every line of one option and sum the counted ones."""
    _check(option.discount_percent, ZERO, MAX_PERCENT, f"discount of option {option.key}")
    for code, factor in option.role_multipliers.items():
        if code not in roles:
            raise CalcError(f"option {option.key}: multiplier for unknown role {code!r}")
        _check(factor, ZERO, MAX_MULTIPLIER, f"multiplier of {code}")
    results = []
    amount = discount = net = tax = total = revenue = cost = optional_total = NO_MONEY
    hours: dict[str, Decimal] = {}
    stage_role_hours: dict[tuple[str, str], Decimal] = {}
    for line in option.lines:
        result = calculate_line(
            line,
            roles=roles,
            tax_mode=tax_mode,
            option_discount=option.discount_percent,
            multipliers=option.role_multipliers,
        )
        results.append(result)
        if not result.counted:
            optional_total += result.total
            continue
        amount += result.amount
        discount += result.discount
        net += result.net
        tax += result.tax
        total += result.total
        revenue += result.revenue
        cost += result.cost
        for code, role_hours in result.hours.items():
            hours[code] = hours.get(code, ZERO) + role_hours
            stage_key = (line.stage or roles[code].stage, code)
            stage_role_hours[stage_key] = stage_role_hours.get(stage_key, ZERO) + role_hours
    return OptionResult(
        key=option.key,
        lines=tuple(results),
        amount=amount,
        discount=discount,
        net=net,
        tax=tax,
        total=total,
        revenue=revenue,
        cost=cost,
        hours=hours,
        timeline=plan_timeline(stage_role_hours, roles),
        optional_total=optional_total,
    )


def calculate(estimate: EstimateInput) -> EstimateResult:
    """Price every option of an estimate. Options never affect each other."""
    if estimate.tax_mode not in TAX_MODES:
        raise CalcError(f"unknown tax mode {estimate.tax_mode!r}")
    roles = _check_roles(estimate.roles)
    return EstimateResult(
        options=tuple(
            calculate_option(option, roles=roles, tax_mode=estimate.tax_mode)
            for option in estimate.options
        )
    )
