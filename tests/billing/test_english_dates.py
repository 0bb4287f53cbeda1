"""English dates read the same everywhere a client or manager sees them: day, month written
out, year ("9 December 2026", short "9 Dec 2026"); never "12/05/2026" (a different day on
each side of the Atlantic) and never Django's "Dec. 9, 2026" beside the document's long form."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import formats, translation
from pypdf import PdfReader

from studiocrm.billing import services
from studiocrm.billing.rendering import render_pdf
from studiocrm.billing.services import LineInput
from studiocrm.briefs.questions import display_value
from studiocrm.notifications.models import Outbox
from tests.billing.conftest import euro_deal

pytestmark = pytest.mark.django_db

US_STYLE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b[A-Z][a-z]{2}\. \d{1,2}, \d{4}\b")


@pytest.fixture
def english_invoice(deal, studio, manager):
    cache.clear()
    euro_deal(deal, studio)
    invoice = services.create_invoice(
        deal,
        lines=[LineInput(description="Design", quantity=Decimal(1), unit_price=Decimal("900"))],
        actor=manager,
        language="en",
    )
    token = services.issue_invoice(invoice, actor=manager)
    invoice.refresh_from_db()
    invoice.client_token = token
    yield invoice
    cache.clear()


def long_and_short(day) -> tuple[str, str]:
    return f"{day.day} {day:%B %Y}", f"{day.day} {day:%b %Y}"


def test_english_dates_are_day_month_year_in_both_lengths():
    with translation.override("en"):
        from datetime import date, datetime

        assert formats.date_format(date(2026, 12, 9), "DATE_FORMAT") == "9 December 2026"
        assert formats.date_format(date(2026, 12, 5), "SHORT_DATE_FORMAT") == "5 Dec 2026"
        moment = datetime(2026, 12, 5, 15, 7)
        assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "5 Dec 2026, 15:07"
        # Django's DateInput renders a value with the first input format: HTML date inputs
        # need ISO.
        assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%Y-%m-%d"


def test_the_client_invoice_page_writes_every_date_the_same_way(english_invoice, client):
    html = client.get(f"/c/pay/{english_invoice.client_token}/").content.decode()

    issued, _short = long_and_short(english_invoice.issue_date)
    due, _short = long_and_short(english_invoice.due_date)
    assert issued in html
    assert f"Please pay by {due}" in html
    assert US_STYLE.findall(html) == []


def test_the_english_invoice_pdf_and_letter_write_dates_day_month_year(
    english_invoice, settings, tmp_path
):
    settings.PRIVATE_ROOT = tmp_path
    pdf = render_pdf(english_invoice)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    letters = " ".join(f"{row.subject} {row.body} {row.body_html}" for row in Outbox.objects.all())

    due, _short = long_and_short(english_invoice.due_date)
    assert due in " ".join(text.split())
    assert US_STYLE.findall(text) == []
    assert US_STYLE.findall(letters) == []
    issued, _short = long_and_short(english_invoice.issue_date)
    assert f"of {issued}" in english_invoice.purpose  # the reference writes it as the page does


def test_a_date_answer_in_a_brief_reads_in_the_active_language():
    question = {"key": "launch", "type": "date", "label": "Launch"}
    with translation.override("en"):
        assert display_value(question, {"launch": "2026-12-05"}) == "5 Dec 2026"
    with translation.override("ru"):
        assert display_value(question, {"launch": "2026-12-05"}) == "05.12.2026"
