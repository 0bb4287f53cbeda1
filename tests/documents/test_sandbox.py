"""Template injection: a studio template reaches only the data it is given, in bounded time
and space, and always escapes that data."""

import contextlib
import time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studiocrm.documents.sandbox import TemplateProblem, render_source

CONTEXT = {
    "language": "ru",
    "currency": "RUB",
    "client": {"name": "<script>alert('x')</script> & Co"},
    "totals": {"total": Decimal("120000")},
    "lines": [{"name": f"line {index}"} for index in range(100)],
}


def problem(source: str) -> TemplateProblem:
    started = time.monotonic()
    with pytest.raises(TemplateProblem) as caught:
        render_source(source, CONTEXT)
    assert time.monotonic() - started < 5
    return caught.value


def test_placeholders_and_filters_render():
    html = render_source("{{ totals.total|money }} — {{ totals.total|words }}", CONTEXT)
    assert html == "120\u00a0000\u00a0₽ — сто двадцать тысяч рублей 00 копеек"


def test_data_is_always_escaped():
    html = render_source("<p>{{ client.name }}</p>", CONTEXT)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html and "&amp; Co" in html


def test_safe_filter_is_not_available():
    assert "safe" in problem("{{ client.name|safe }}").message


def test_autoescape_cannot_be_switched_off():
    assert "escap" in problem("{% autoescape false %}{{ client.name }}{% endautoescape %}").message


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lines.__len__ }}",
        "{{ range.__globals__ }}",
    ],
)
def test_python_internals_are_out_of_reach(source):
    assert "not allowed" in problem(source).message


@pytest.mark.parametrize("source", ["{{ config }}", "{{ settings.SECRET_KEY }}", "{{ request }}"])
def test_settings_config_and_request_are_not_in_the_context(source):
    assert "unknown placeholder" in problem(source).message


def test_data_cannot_be_changed_by_a_template():
    assert "not allowed" in problem("{{ lines.append(1) }}").message
    assert len(CONTEXT["lines"]) == 100


def test_files_cannot_be_included():
    problem("{% include '/etc/passwd' %}")
    problem("{% import 'x.html' as x %}")


def test_a_huge_range_is_refused():
    assert "range" in problem("{% for i in range(10**9) %}x{% endfor %}").message


def test_nested_loops_stop_at_the_loop_budget():
    assert (
        "loops too much"
        in problem(
            "{% for a in range(10000) %}{% for b in range(10000) %}{% endfor %}{% endfor %}"
        ).message
    )


def test_endless_recursion_stops():
    assert "deeply" in problem("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").message


DOUBLING = "{% macro f(s, n) %}{% if n %}{{ f(s ~ s, n - 1) }}{% endif %}{% endmacro %}"


def test_doubling_a_string_stops():
    assert "too large" in problem(DOUBLING + "{{ f('x', 60) }}").message


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 10**9 }}",
        "{{ 'x'|center(1000000000) }}",
        "{{ 'x'.ljust(1000000000) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ 2 ** 100000 }}",
        "{{ (range(10000)|list) * 1000 }}",
    ],
)
def test_memory_bombs_are_refused(source):
    problem(source)


def test_huge_output_stops():
    assert (
        "too large"
        in problem(
            "{% for i in range(10000) %}{% for line in lines %}"
            + "x" * 100
            + "{% endfor %}{% endfor %}"
        ).message
    )


def test_output_built_inside_a_set_block_is_counted_too():
    problem("{% set x %}{% for i in range(10000) %}{{ 'y' * 100000 }}{% endfor %}{% endset %}")


def test_errors_name_the_line():
    assert problem("<p>ok</p>\n<p>{{ nope }}</p>").line == 2
    assert problem("a\n{% for %}").line == 2
    assert str(problem("a\nb\n{{ 1/0 }}")).startswith("Line 3")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                "{{",
                "}}",
                "{%",
                "%}",
                "for x in lines",
                "endfor",
                "if",
                "endif",
                "client.name",
                "|money",
                "|words",
                "range(",
                ")",
                "*",
                "**",
                "~",
                "'a'",
                "9",
                "__class__",
                "macro m()",
                "endmacro",
                "m()",
                "set y = ",
                "loop.index",
                "<p>",
                "{#",
                "#}",
            ]
        ),
        max_size=25,
    ).map(" ".join)
)
def test_any_template_either_renders_or_fails_with_a_template_problem(source):
    with contextlib.suppress(TemplateProblem):
        render_source(source, CONTEXT)
