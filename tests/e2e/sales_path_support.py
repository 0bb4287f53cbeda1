"""Helpers for the sales-path browser test: the studio it runs in, links read from the
outbox, money read from pages, a watch on browser and server errors, and screenshots.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from studiocrm.core.models import Studio
from studiocrm.notifications.models import Outbox

SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "sales-path"


def russian_studio() -> Studio:
    """A Russian studio with the legal and bank details an owner enters on day one (the
    contract, the invoice and its payment QR need them)."""
    studio = Studio.load()
    studio.name = "Веб-студия «Пиксель»"
    studio.legal_name = "ООО «Пиксель»"
    studio.tax_id = "7701234567"
    studio.registration_number = "1027700000000"
    studio.address = "Москва, ул. Тверская, д. 1"
    studio.email = "hello@pixel.test"
    studio.phone = "+7 495 123-45-67"
    studio.bank_name = "ПАО Сбербанк"
    studio.bank_account = "40702810900000000001"
    studio.bank_code = "044525225"
    studio.correspondent_account = "30101810400000000225"
    studio.default_currency = "RUB"
    studio.locale = "ru"
    studio.time_zone = "Europe/Moscow"
    studio.tax_mode = Studio.TaxMode.NO_VAT
    studio.vat_rate = Decimal("0")
    studio.save()
    return studio


def outbox_link(dedupe_key: str, *, to: str, base_url: str, path: str) -> str:
    """The one link under ``base_url + path`` in the body of the outbox row with this key,
    checking the row went to ``to``: what the recipient clicks in the email."""
    row = Outbox.objects.get(dedupe_key=dedupe_key)
    assert row.to == to, f"{dedupe_key} went to {row.to}, not {to}"
    links = set(re.findall(re.escape(base_url + path) + r"[^\s<>\"']*", row.body))
    assert len(links) == 1, f"{dedupe_key}: expected one {path} link in\n{row.body}"
    return links.pop()


def outbox_links(dedupe_key: str, *, base_url: str, path: str) -> list[str]:
    """Every link under ``base_url + path`` in one outbox row's body, in order."""
    body = Outbox.objects.get(dedupe_key=dedupe_key).body
    found = re.findall(re.escape(base_url + path) + r"[^\s<>\"']*", body)
    return list(dict.fromkeys(found))


def money(text: str) -> Decimal:
    """The amount in a formatted sum, Russian or English: "1 234 567 ₽", "896 800,50 ₽",
    "+30 000 ₽", "1,514,800 ₽", "€1,440.50"."""
    number = re.sub(r"[^\d,.]", "", text).rstrip(".,")
    if re.search(r",\d{2}$", number) and "." not in number:
        number = number.replace(",", ".")  # a Russian decimal comma
    number = number.replace(",", "")  # English thousands
    assert number, f"no amount in {text!r}"
    return Decimal(number)


@dataclass
class Problems:
    """What went wrong in the browsers while they walked: script errors, console errors
    and responses of 400 or more."""

    items: list[str] = field(default_factory=list)

    def watch(self, context, who: str) -> None:
        context.on("page", lambda page: self._watch_page(page, who))

    def _watch_page(self, page, who: str) -> None:
        page.on("pageerror", lambda error: self.items.append(f"{who}: page error {error}"))
        page.on("console", lambda message: self._console(message, page, who))
        page.on("response", lambda response: self._response(response, who))

    def _console(self, message, page, who: str) -> None:
        if message.type != "error":
            return
        source = (message.location or {}).get("url", "")
        if source.endswith("/favicon.ico"):
            # Chromium asks every origin for /favicon.ico when a page names no icon; that
            # is not a step of the walk (reported separately).
            return
        where = message.location or {}
        line = f"{source}:{where.get('lineNumber', '?')}:{where.get('columnNumber', '?')}"
        self.items.append(f"{who}: console error {message.text} ({line}) @ {page.url}")

    def _response(self, response, who: str) -> None:
        if response.status >= 400:
            method = response.request.method
            self.items.append(f"{who}: {method} {response.url} answered {response.status}")


class ServerErrors(logging.Handler):
    """Collects ERROR records logged anywhere in the process (the live server's threads):
    a deal panel that raises is logged and left off the page, which a look at the page
    alone would miss."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


class Shots:
    """Screenshots of each step in test-artifacts/sales-path/, only with E2E_SCREENSHOTS=1."""

    def __init__(self) -> None:
        self.enabled = os.environ.get("E2E_SCREENSHOTS") == "1"
        self.count = 0
        if self.enabled:
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            for old in SCREENSHOT_DIR.glob("*.png"):
                old.unlink()

    def __call__(self, page, name: str) -> None:
        if not self.enabled:
            return
        self.count += 1
        page.screenshot(path=str(SCREENSHOT_DIR / f"{self.count:02d}-{name}.png"), full_page=True)


def fill_company_details(page, details):
    """Fill the company details form of a contract's client page and save it."""
    for name, value in details.items():
        page.fill(f"#id_{name}", value)
    page.locator("#details button[type=submit]").click()


# The walk (tests/e2e/test_walk.py): every screen at two widths, checked by axe-core. -------

ROOT = Path(__file__).resolve().parents[2]
WALK_DIR = ROOT / "test-artifacts" / "walk"
AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# What a screen must not have: WCAG 2.1 A and AA rules, the serious and critical ones.
AXE_RUN = """
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
  'best-practice']}, resultTypes: ['violations']}).then(result => result.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)})))
"""


class WalkShots:
    """A full-page screenshot of every screen into test-artifacts/walk/<lang>-<width>/,
    the same screen again at the other width (a second page of the same browser context, so
    the same cookies), and axe-core run on both. Each finding is kept, not raised at once,
    so one run reports every screen that fails."""

    def __init__(self, language: str, widths: dict[str, dict[str, int]]) -> None:
        self.language = language
        self.widths = widths  # who → their viewport; the other width is the second one
        self.count = 0
        self.axe = AXE_SOURCE.read_text(encoding="utf-8")
        self.violations: list[str] = []
        self.twins: dict[int, object] = {}
        for viewport in (PHONE, DESKTOP):
            folder = self.folder(viewport)
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.png"):
                old.unlink()

    def folder(self, viewport: dict[str, int]) -> Path:
        return WALK_DIR / f"{self.language}-{viewport['width']}"

    def __call__(self, page, name: str, *, twin: bool = True) -> bytes:
        """Screenshot ``page`` (returned as PNG), then the same URL at the other width."""
        self.count += 1
        viewport = page.viewport_size
        stem = f"{self.count:02d}-{name}.png"
        image = page.screenshot(path=str(self.folder(viewport) / stem), full_page=True)
        self.check(page, f"{stem} at {viewport['width']}")
        if twin:
            other = self.twin(page)
            other.goto(page.url)
            other.wait_for_load_state("networkidle")
            other_viewport = other.viewport_size
            other.screenshot(path=str(self.folder(other_viewport) / stem), full_page=True)
            self.check(other, f"{stem} at {other_viewport['width']}")
        return image

    def twin(self, page):
        """The second page of ``page``'s context, at the other width."""
        key = id(page.context)
        if key not in self.twins:
            other = page.context.new_page()
            width = page.viewport_size["width"]
            other.set_viewport_size(DESKTOP if width == PHONE["width"] else PHONE)
            self.twins[key] = other
        return self.twins[key]

    def check(self, page, where: str) -> None:
        """axe-core on the page as it is; serious and critical violations are kept."""
        # Evaluated through the DevTools protocol, which a page's CSP does not govern: the
        # manager pages' nonce policy stays on and is still tested by the walk.
        page.evaluate(self.axe + "\n;true")
        for violation in page.evaluate(AXE_RUN):
            nodes = "\n      ".join(violation["nodes"])
            self.violations.append(
                f"{where} {page.url}: {violation['impact']} {violation['id']}"
                f" ({violation['help']})\n      {nodes}"
            )


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

# A sum printed with a decimal point in Russian: "425 386.25 ₽", "1 000.50 руб.".
DOT_MONEY = re.compile(r"\d\.\d{2}\s*(₽|руб|RUB)")
UTC_TIME = re.compile(r"\bUTC\b|\+00:00|GMT")


def russian_reading_problems(text: str) -> list[str]:
    """What a Russian reader must not see on a page: UTC times and dot-decimal money."""
    found = [match.group(0) for match in DOT_MONEY.finditer(text)]
    found += [match.group(0) for match in UTC_TIME.finditer(text)]
    return found


def document_figures(html: str) -> list[list[Decimal]]:
    """Follow a reader down each ``table.lines`` of a document (proposal, appendix, act):
    the column sums to the subtotal, minus the discount plus VAT on top is the total.
    Returns each table's figures in reading order, to find again in the PDF."""
    from tests.documents.test_documents_add_up import (
        BEFORE_TAX,
        DISCOUNT,
        INCLUDED,
        SUBTOTAL,
        TAX,
        TOTAL,
        parse_money,
        tables_of,
    )

    tables = tables_of(html)
    assert tables, "no table of lines on the page"
    read = []
    for table in tables:
        figures = [parse_money(row[-1]) for row in table["lines"]]
        running = sum(figures, Decimal("0"))
        totals = []
        for row in table["sums"]:
            label = " ".join(cell for cell in row[:-1] if cell).strip()
            value = parse_money(row[-1])
            figures.append(value)
            if label in SUBTOTAL or label in BEFORE_TAX:
                assert value == running, f"{label}: {value} != {running}"
            elif label in DISCOUNT:
                assert value < 0, f"a discount of {value}"
                running += value
            elif label in TAX:
                running += value
            elif label in TOTAL:
                assert value == running, f"{label}: {value}, the column says {running}"
                totals.append(value)
            else:
                assert label in INCLUDED, f"unknown row {label!r}"
        assert totals, "no total under the lines"
        read.append(figures)
    return read


def invoice_figures(rows: list[list[str]], totals: list[list[str]]) -> list[Decimal]:
    """An invoice's lines (cells of ``table.lines`` rows) and its totals (label, value):
    the amounts sum to the subtotal, and the subtotal plus VAT on top is the total due
    ("including VAT" rows are only said, never added)."""
    from tests.documents.test_documents_add_up import parse_money

    amounts = [parse_money(row[-1]) for row in rows]
    running = sum(amounts, Decimal("0"))
    for label, value in totals[:-1]:
        if label.rstrip(":") in ("Итого", "Subtotal"):
            assert parse_money(value) == running, (amounts, totals)
        elif re.match(r"^(НДС|VAT)\b", label):  # on top; "including" rows are not added
            running += parse_money(value)
    total = parse_money(totals[-1][1])
    assert total == running, f"the invoice's total {total} != {running} ({totals})"
    return [*amounts, total]


def pdf_text(content: bytes) -> str:
    """The text of a PDF, whitespace folded, as pypdf reads it."""
    import io

    from pypdf import PdfReader

    assert content.startswith(b"%PDF"), content[:200]
    reader = PdfReader(io.BytesIO(content))
    text = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("\u00a0", " ").split())


def printed_in_order(figures: list[str], text: str) -> bool:
    """Whether ``figures`` appear in ``text`` in this order (a PDF prints the page's table)."""
    position = 0
    for figure in figures:
        found = text.find(figure, position)
        if found < 0:
            return False
        position = found + len(figure)
    return True
