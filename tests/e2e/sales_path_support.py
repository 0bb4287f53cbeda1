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
        self.items.append(f"{who}: console error {message.text} ({source}) @ {page.url}")

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
