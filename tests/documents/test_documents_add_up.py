"""Every document adds up on paper: a reader who sums the "Amount" column, subtracts the
discount and adds VAT on top gets the total printed below it (and "including VAT" is only
said, never added).

The property test prices random estimates (several options, line and option discounts,
optional extras chosen or not, each tax mode, mixed VAT rates) with the real pricing code,
renders the shipped proposal, appendix and act templates in both languages through the real
sandbox, and reads the figures back out of the HTML as a reader would. A second test does the
same on a real deal end to end and reads the figures back out of the PDF.
"""

from __future__ import annotations

import io
import os
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from studiocrm.documents import context as context_module
from studiocrm.documents import defaults, estimate_data, rendering, services
from studiocrm.documents import pdf as pdf_module
from studiocrm.documents.models import Kind
from studiocrm.estimates.models import Estimate, EstimateLine, EstimateOption

# What a row of the sums says it is, by its label in either language.
SUBTOTAL = {"Сумма", "Subtotal"}
DISCOUNT = {"Скидка", "Discount"}
BEFORE_TAX = {"Итого без НДС", "Total before VAT"}
TAX = {"НДС", "VAT"}
TOTAL = {"Итого", "Итого (без НДС)", "Total"}
INCLUDED = {"в том числе НДС", "including VAT"}


def parse_money(text: str) -> Decimal:
    """ "1 234,50 ₽", "−12 ₽", "€1,234.50", "+3 500 ₽" → Decimal, as a reader reads them."""
    cleaned = text.replace("\u00a0", " ").strip()
    sign = -1 if cleaned.startswith(("−", "-")) else 1
    cleaned = re.sub(r"[^0-9,.]", "", cleaned)
    if re.search(r",\d{2}$", cleaned):  # Russian: comma decimals, spaces between groups
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    return sign * Decimal(cleaned)


class Tables(HTMLParser):
    """The ``table.lines`` tables of a document: rows of cell texts, per tbody."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, list[list[str]]]] = []
        self._table: dict[str, list[list[str]]] | None = None
        self._body = ""
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "lines" in classes and "extras" not in classes:
            self._table = {"lines": [], "sums": []}
            self.tables.append(self._table)
        elif self._table is not None and tag == "tbody":
            self._body = "sums" if "sums" in classes else "lines"
        elif self._table is not None and tag == "tr" and self._body:
            self._row = []
        elif self._row is not None and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self._table[self._body].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._body = ""
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def check_adds_up(table: dict[str, list[list[str]]], option: dict) -> list[Decimal]:
    """Follow a reader down the table; returns the figures in reading order."""
    column = [parse_money(row[-1]) for row in table["lines"]]
    figures = list(column)
    running = sum(column, Decimal("0"))
    assert running == option["amount"], "the column sums to the lines' amounts"
    said_total = False
    for row in table["sums"]:
        label = " ".join(cell for cell in row[:-1] if cell).strip()
        value = parse_money(row[-1])
        figures.append(value)
        if label in SUBTOTAL or label in BEFORE_TAX:
            assert value == running, f"{label}: {value} != {running}"
        elif label in DISCOUNT:
            assert value < 0
            running += value
        elif label in TAX:
            running += value
        elif label in TOTAL:
            assert value == running, f"{label}: {value} != {running}"
            said_total = True
        elif label in INCLUDED:
            assert said_total, "'including VAT' follows the total and is not added"
            assert value == option["tax"]
        else:
            raise AssertionError(f"unknown row {label!r}")
    assert said_total
    assert running == option["total"]
    return figures


def tables_of(html: str) -> list[dict[str, list[list[str]]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


# Random estimates --------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=250000, places=2, allow_nan=False)
percent = st.one_of(st.just(Decimal("0")), st.decimals(min_value=0, max_value=40, places=2))
line_strategy = st.fixed_dictionaries(
    {
        "kind": st.sampled_from([EstimateLine.Kind.PAGE, EstimateLine.Kind.SERVICE]),
        "quantity": st.decimals(min_value=1, max_value=40, places=1),
        "unit_price": money,
        "discount_percent": percent,
        "tax_rate": st.sampled_from([Decimal("0"), Decimal("10"), Decimal("20")]),
        "optional": st.booleans(),
        "selected": st.booleans(),
    }
)
option_strategy = st.fixed_dictionaries(
    {"discount_percent": percent, "lines": st.lists(line_strategy, min_size=1, max_size=6)}
)
estimate_strategy = st.fixed_dictionaries(
    {
        "tax_mode": st.sampled_from(["no_vat", "vat_included", "vat_on_top"]),
        "options": st.lists(option_strategy, min_size=1, max_size=3),
    }
)


def in_memory_estimate(spec: dict, language: str) -> estimate_data.DealEstimate:
    """A DealEstimate over unsaved rows: the real pricing, no database."""
    estimate = Estimate(pk=1, title="", currency="RUB", tax_mode=spec["tax_mode"], roles=[])
    loaded = estimate_data.DealEstimate.__new__(estimate_data.DealEstimate)
    loaded.language = language
    loaded.estimate = estimate
    loaded.options = []
    loaded.lines = []
    line_pk = 100
    for index, option_spec in enumerate(spec["options"], start=1):
        option = EstimateOption(
            pk=index,
            estimate=estimate,
            name=f"Вариант {index}",
            is_primary=index == 1,
            position=index,
            discount_percent=option_spec["discount_percent"],
            multipliers=[],
        )
        loaded.options.append(option)
        for position, line_spec in enumerate(option_spec["lines"]):
            line_pk += 1
            loaded.lines.append(
                EstimateLine(
                    pk=line_pk,
                    option_id=option.pk,
                    kind=line_spec["kind"],
                    name=f"Работа {line_pk}",
                    quantity=line_spec["quantity"],
                    unit="piece",
                    unit_price=line_spec["unit_price"],
                    discount_percent=line_spec["discount_percent"],
                    tax_rate=line_spec["tax_rate"],
                    is_optional=line_spec["optional"],
                    is_selected=line_spec["selected"],
                    position=position,
                    work={},
                    unit_cost=Decimal("0"),
                )
            )
    return loaded


def document_context(kind: str, language: str, loaded: estimate_data.DealEstimate) -> dict:
    """The sample context with the random estimate in place of the sample one."""
    context = defaults.sample_context(kind, language)
    offered = loaded.offered()
    chosen = loaded.chosen(loaded.default_selection())
    totals = context_module._totals(chosen, "RUB", language)
    context.update(
        currency="RUB",
        estimate=offered,
        chosen=chosen,
        totals=totals,
        timeline=chosen["timeline"],
        payment_schedule=context_module.schedule_amounts(
            context_module.default_schedule(language), totals["total"], "RUB", language
        ),
    )
    return context


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=estimate_strategy, language=st.sampled_from(["ru", "en"]))
def test_every_document_adds_up_on_paper(spec, language):
    loaded = in_memory_estimate(spec, language)
    for kind in (Kind.PROPOSAL, Kind.APPENDIX, Kind.ACT):
        context = document_context(kind, language, loaded)
        html = rendering.render(defaults.default_source(kind, language), context).html
        tables = tables_of(html)
        if kind == Kind.PROPOSAL:
            assert len(tables) == len(context["estimate"]["options"])
            for table, option in zip(tables, context["estimate"]["options"], strict=True):
                check_adds_up(table, option)
        else:
            (table,) = tables
            check_adds_up(table, context["chosen"])
            assert context["totals"]["total_in_words"] in html


def test_a_money_string_reads_back_as_a_reader_reads_it():
    assert parse_money("1\u00a0234,50\u00a0₽") == Decimal("1234.50")
    assert parse_money("−12\u00a0₽") == Decimal("-12")
    assert parse_money("€1,234.50") == Decimal("1234.50")
    assert parse_money("1,234 RUB") == Decimal("1234")


# End to end on a real deal, HTML and PDF -----------------------------------------------------


def _discounted(deal):
    """Give the main option a 10 % discount, one line 15 %, VAT 20 % on top, and save."""
    from studiocrm.estimates import services as estimate_services

    estimate = Estimate.objects.get(deal=deal)
    estimate.tax_mode = "vat_on_top"
    estimate.save(update_fields=["tax_mode"])
    main = estimate.options.order_by("position", "pk").first()
    main.discount_percent = Decimal("10")
    main.save(update_fields=["discount_percent"])
    first = main.lines.order_by("position", "pk").first()
    first.discount_percent = Decimal("15")
    first.save(update_fields=["discount_percent"])
    main.lines.update(tax_rate=Decimal("20"))
    estimate_services.save_estimate(estimate, actor=deal.manager)


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"


def _pdf_text(html: str, title: str, language: str, name: str) -> str:
    content, _pages = pdf_module.write_pdf(
        pdf_module.print_html(title=title, body=html, language=language)
    )
    if os.environ.get("E2E_SCREENSHOTS") == "1":  # to look at with pdftoppm
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"{name}.pdf").write_bytes(content)
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _in_order(figures_text: list[str], text: str) -> bool:
    position = 0
    for figure in figures_text:
        found = text.find(figure, position)
        if found < 0:
            return False
        position = found + len(figure)
    return True


def test_proposal_appendix_and_act_of_a_real_deal_add_up_in_html_and_pdf(
    deal, manager, django_capture_on_commit_callbacks
):
    from tests.documents.conftest import accept

    _discounted(deal)
    proposal = services.create_proposal(deal, actor=manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_document(proposal, actor=manager)
    accept(proposal)
    contract = services.contract_of(deal)
    appendix = contract.children.get(kind=Kind.APPENDIX)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_document(contract, actor=manager)
    for part in (contract, appendix):
        part.refresh_from_db()
        accept(part)
    act = services.create_act(deal, actor=manager)
    for document in (proposal, appendix, act):
        rendered = rendering.render_document(document)
        tables = tables_of(rendered.html)
        options = (
            rendered.context["estimate"]["options"]
            if document.kind == Kind.PROPOSAL
            else [rendered.context["chosen"]]
        )
        assert any(option["discount"] for option in options)
        for table, option in zip(tables, options, strict=True):
            figures = check_adds_up(table, option)
        # The PDF prints the same figures in the same order (checked on the last table).
        pdf_text = _pdf_text(
            rendered.html, document.title, document.language, f"{document.kind}-discounted"
        ).replace("\u00a0", " ")
        last_table = tables[-1]
        printed = [row[-1].replace("\u00a0", " ") for row in last_table["lines"]]
        printed += [row[-1].replace("\u00a0", " ") for row in last_table["sums"]]
        assert len(printed) == len(figures)
        assert _in_order(printed, pdf_text), (document.kind, printed)
