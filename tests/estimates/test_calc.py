"""The pure calculation: worked examples, property tests (hypothesis) and refused input."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from studiocrm.core.money import round_money
from studiocrm.estimates import calc

D = Decimal
ROLES = (
    calc.RoleRate("analyst", D("2800"), D("1400"), D("6"), 1, calc.ANALYSIS),
    calc.RoleRate("designer", D("3000"), D("1500"), D("6"), 1, calc.DESIGN),
    calc.RoleRate("frontend", D("3000"), D("1600"), D("6"), 2, calc.DEVELOPMENT),
    calc.RoleRate("backend", D("3500"), D("1900"), D("8"), 1, calc.DEVELOPMENT),
    calc.RoleRate("copywriter", D("1500"), D("700"), D("6"), 1, calc.CONTENT),
    calc.RoleRate("qa", D("2000"), D("1000"), D("6"), 1, calc.TESTING),
    calc.RoleRate("devops", D("3000"), D("1600"), D("6"), 1, calc.LAUNCH),
    calc.RoleRate("pm", D("2500"), D("1200"), D("6"), 1, calc.MANAGEMENT),
)
ROLE_CODES = [role.code for role in ROLES]
ROLE_MAP = {role.code: role for role in ROLES}


def cents(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=D(low), max_value=D(high), places=2, allow_nan=False)


hours_maps = st.dictionaries(st.sampled_from(ROLE_CODES), cents("0", "200"), max_size=4)
lines = st.builds(
    calc.LineInput,
    key=st.uuids(),
    quantity=cents("0", "500"),
    unit_price=st.one_of(st.none(), cents("0", "1000000")),
    hours=hours_maps,
    unit_cost=cents("0", "10000"),
    discount_percent=cents("0", "100"),
    tax_rate=st.sampled_from([D("0"), D("10"), D("20"), D("7.7"), D("12.5")]) | cents("0", "100"),
    optional=st.booleans(),
    selected=st.booleans(),
    stage=st.sampled_from(["", *calc.ROLE_STAGES]),
)
multipliers = st.dictionaries(st.sampled_from(ROLE_CODES), cents("0", "5"), max_size=3)
options = st.builds(
    calc.OptionInput,
    key=st.uuids(),
    lines=st.lists(lines, max_size=12),
    discount_percent=cents("0", "100"),
    role_multipliers=multipliers,
)
tax_modes = st.sampled_from(calc.TAX_MODES)


def price(option: calc.OptionInput, tax_mode: str = calc.NO_VAT) -> calc.OptionResult:
    return calc.calculate(calc.EstimateInput(ROLES, [option], tax_mode)).options[0]


# --- worked examples -------------------------------------------------------------------------


def test_a_fixed_price_line_with_discount_and_vat_on_top():
    option = calc.OptionInput(
        key=1,
        lines=[
            calc.LineInput(
                key="a",
                quantity=D("3"),
                unit_price=D("1000"),
                discount_percent=D("10"),
                tax_rate=D("20"),
            )
        ],
    )
    line = price(option, calc.VAT_ON_TOP).lines[0]
    assert (line.amount, line.discount, line.net, line.tax, line.total) == (
        D("3000.00"),
        D("300.00"),
        D("2700.00"),
        D("540.00"),
        D("3240.00"),
    )


def test_a_line_without_a_price_is_priced_from_hours_and_role_rates():
    option = calc.OptionInput(
        key=1,
        lines=[
            calc.LineInput(
                key="home", quantity=D("2"), hours={"designer": D("4"), "backend": D("1")}
            )
        ],
    )
    line = price(option).lines[0]
    assert line.unit_price == D("15500.00")  # 4 × 3000 + 1 × 3500
    assert line.amount == D("31000.00")
    assert line.hours == {"designer": D("8.00"), "backend": D("2.00")}
    assert line.cost == D("15800.00")  # 8 × 1500 + 2 × 1900


def test_a_role_multiplier_scales_the_hours_and_the_price_from_hours_but_not_a_fixed_price():
    from_hours = calc.LineInput(key="a", quantity=D("1"), hours={"copywriter": D("2")})
    fixed = calc.LineInput(
        key="b", quantity=D("1"), unit_price=D("100"), hours={"copywriter": D("2")}
    )
    result = price(
        calc.OptionInput(key=1, lines=[from_hours, fixed], role_multipliers={"copywriter": D("3")})
    )
    assert result.lines[0].unit_price == D("9000.00")  # 2 h × 3 × 1500
    assert result.lines[1].unit_price == D("100.00")
    assert result.hours == {"copywriter": D("12.00")}


def test_vat_included_takes_the_tax_out_of_the_price():
    option = calc.OptionInput(
        key=1,
        lines=[calc.LineInput(key="a", quantity=D("1"), unit_price=D("1200"), tax_rate=D("20"))],
    )
    result = price(option, calc.VAT_INCLUDED)
    assert (result.total, result.tax, result.revenue) == (D("1200.00"), D("200.00"), D("1000.00"))


def test_the_option_discount_cascades_into_each_line():
    option = calc.OptionInput(
        key=1,
        discount_percent=D("10"),
        lines=[
            calc.LineInput(key="a", quantity=D("1"), unit_price=D("1000"), discount_percent=D("50"))
        ],
    )
    line = price(option).lines[0]
    assert line.discount == D("550.00")  # 1 − 0.5 × 0.9 = 55 %


def test_an_unselected_optional_line_is_offered_but_not_counted():
    option = calc.OptionInput(
        key=1,
        lines=[
            calc.LineInput(key="a", quantity=D("1"), unit_price=D("1000")),
            calc.LineInput(
                key="b", quantity=D("1"), unit_price=D("250"), optional=True, selected=False
            ),
        ],
    )
    result = price(option)
    assert result.total == D("1000.00")
    assert result.optional_total == D("250.00")


def test_margin_is_revenue_minus_cost():
    option = calc.OptionInput(
        key=1,
        lines=[
            calc.LineInput(
                key="a",
                quantity=D("1"),
                unit_price=D("10000"),
                hours={"backend": D("2")},
                unit_cost=D("1000"),
            )
        ],
    )
    result = price(option)
    assert result.cost == D("4800.00")  # 2 × 1900 + 1000
    assert result.margin == D("5200.00")
    assert result.margin_percent == D("52.0")


# --- timeline --------------------------------------------------------------------------------


def plan(hours: dict[tuple[str, str], str]) -> dict[str, tuple[int, int]]:
    timeline = calc.plan_timeline({key: D(value) for key, value in hours.items()}, ROLE_MAP)
    return {stage.code: (stage.start_day, stage.days) for stage in timeline.stages} | {
        "total": (0, timeline.total_days)
    }


def test_stages_run_in_sequence_and_a_part_day_counts_as_a_day():
    result = plan(
        {("analysis", "analyst"): "8", ("design", "designer"): "12", ("testing", "qa"): "6"}
    )
    assert result["analysis"] == (0, 2)
    assert result["design"] == (2, 2)
    assert result["development"] == (4, 0)
    assert result["testing"] == (4, 1)
    assert result["total"] == (0, 5)


def test_roles_in_one_stage_work_in_parallel_and_people_share_the_hours():
    # frontend: 48 h over 2 people × 6 h = 4 days; backend: 40 h at 8 h a day = 5 days
    result = plan({("development", "frontend"): "48", ("development", "backend"): "40"})
    assert result["development"] == (0, 5)


def test_content_runs_alongside_design_and_development_and_testing_waits_for_both():
    result = plan(
        {
            ("analysis", "analyst"): "6",
            ("design", "designer"): "6",
            ("development", "backend"): "8",
            ("content", "copywriter"): "30",
            ("testing", "qa"): "6",
        }
    )
    assert result["content"] == (1, 5)
    assert result["development"] == (2, 1)
    assert result["testing"] == (6, 1)  # after content, which ends later than development
    assert result["total"] == (0, 7)


def test_management_hours_add_no_days():
    assert plan({("management", "pm"): "400"})["total"] == (0, 0)


def test_a_line_can_put_its_hours_into_another_stage():
    option = calc.OptionInput(
        key=1,
        lines=[
            calc.LineInput(key="a", quantity=D("1"), hours={"pm": D("12")}, stage=calc.ANALYSIS)
        ],
    )
    stages = {stage.code: stage.days for stage in price(option).timeline.stages}
    assert stages["analysis"] == 2


# --- properties ------------------------------------------------------------------------------


@given(option=options, tax_mode=tax_modes)
@settings(max_examples=200, deadline=None)
def test_option_totals_equal_the_sum_of_counted_lines(option, tax_mode):
    result = price(option, tax_mode)
    counted = [line for line in result.lines if line.counted]
    for figure in ("amount", "discount", "net", "tax", "total", "revenue", "cost"):
        assert getattr(result, figure) == sum((getattr(line, figure) for line in counted), D(0))
    not_counted = [line for line in result.lines if not line.counted]
    assert result.optional_total == sum((line.total for line in not_counted), D(0))


@given(option=options, tax_mode=tax_modes)
@settings(max_examples=200, deadline=None)
def test_discounts_never_make_a_line_or_a_total_negative(option, tax_mode):
    result = price(option, tax_mode)
    for line in result.lines:
        assert D(0) <= line.discount <= line.amount
        assert line.net >= 0 and line.tax >= 0 and line.total >= 0 and line.revenue >= 0
    assert result.net >= 0 and result.total >= 0


@given(net=cents("0", "50000000"), rate=cents("0", "100"))
@settings(max_examples=500, deadline=None)
def test_vat_included_and_vat_on_top_agree(net, rate):
    on_top = calc.calculate_line(
        calc.LineInput(key=1, quantity=D(1), unit_price=net, tax_rate=rate),
        roles=ROLE_MAP,
        tax_mode=calc.VAT_ON_TOP,
    )
    included = calc.calculate_line(
        calc.LineInput(key=1, quantity=D(1), unit_price=on_top.total, tax_rate=rate),
        roles=ROLE_MAP,
        tax_mode=calc.VAT_INCLUDED,
    )
    assert on_top.net + on_top.tax == on_top.total
    assert included.revenue + included.tax == included.total == on_top.total
    # The gross price is the same; the tax taken out differs from the tax put on by rounding only.
    assert abs(included.tax - on_top.tax) <= D("0.01")


@given(option=options, tax_mode=tax_modes)
@settings(max_examples=200, deadline=None)
def test_rounding_is_stable(option, tax_mode):
    first = price(option, tax_mode)
    again = price(option, tax_mode)
    assert first == again
    for line in first.lines:
        for figure in (
            line.unit_price,
            line.amount,
            line.discount,
            line.net,
            line.tax,
            line.total,
            line.cost,
        ):
            assert figure == round_money(figure)
            assert figure.as_tuple().exponent == -2
    reversed_result = price(replace(option, lines=list(reversed(option.lines))), tax_mode)
    assert (reversed_result.total, reversed_result.tax, reversed_result.cost) == (
        first.total,
        first.tax,
        first.cost,
    )


@given(first=options, second=options, tax_mode=tax_modes)
@settings(max_examples=150, deadline=None)
def test_options_are_independent(first, second, tax_mode):
    alone = calc.calculate(calc.EstimateInput(ROLES, [first], tax_mode)).options[0]
    together = calc.calculate(calc.EstimateInput(ROLES, [first, second], tax_mode)).options[0]
    assert alone == together


@given(option=options)
@settings(max_examples=100, deadline=None)
def test_taking_an_optional_line_adds_exactly_its_total(option):
    offered = [replace(line, optional=True, selected=False) for line in option.lines]
    taken = [replace(line, optional=True, selected=True) for line in option.lines]
    before = price(replace(option, lines=offered))
    after = price(replace(option, lines=taken))
    assert after.total == before.total + before.optional_total


# --- refused input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": D("-1")},
        {"quantity": calc.MAX_QUANTITY + 1},
        {"unit_price": D("-0.01")},
        {"unit_price": D("1e20")},
        {"discount_percent": D("100.01")},
        {"discount_percent": D("-5")},
        {"tax_rate": D("250")},
        {"quantity": D("NaN")},
        {"unit_price": D("Infinity")},
        {"hours": {"designer": D("-2")}},
        {"hours": {"astronaut": D("2")}},
        {"stage": "party"},
    ],
    ids=lambda change: next(iter(change)) + "=" + str(next(iter(change.values()))),
)
def test_absurd_input_is_refused_with_a_clear_error(change):
    line = replace(calc.LineInput(key="a", quantity=D(1), unit_price=D(100)), **change)
    with pytest.raises(calc.CalcError):
        price(calc.OptionInput(key=1, lines=[line]))


def test_a_non_decimal_number_is_refused():
    line = calc.LineInput(key="a", quantity=1.5, unit_price=D(100))  # type: ignore[arg-type]
    with pytest.raises(calc.CalcError):
        price(calc.OptionInput(key=1, lines=[line]))


def test_an_unknown_tax_mode_is_refused():
    with pytest.raises(calc.CalcError):
        calc.calculate(calc.EstimateInput(ROLES, [], "vat_sometimes"))
