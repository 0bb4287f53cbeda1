"""What the invoice prints: payment QR payloads (exact strings), totals, amount in words,
and the PDF's text (read back with pypdf)."""

from __future__ import annotations

import io
import logging
from decimal import Decimal

import pytest
from pypdf import PdfReader

from studiocrm.billing import qr
from studiocrm.billing.rendering import qr_payload_for, render_document, render_pdf
from studiocrm.billing.totals import amount_in_words, compute_totals
from studiocrm.core.models import Studio
from tests.billing.conftest import euro_deal, make_invoice
from tests.billing.qr_scan import decode_qr, pdf_page_png

RU = qr.BankDetails(
    name="ООО «Тест Студия»",
    account="40702810900000000001",
    bank_name="ПАО Сбербанк",
    bank_code="044525225",
    correspondent_account="30101810400000000225",
    tax_id="7701234567",
)
EU = qr.BankDetails(
    name="Test Studio GmbH",
    account="DE89 3704 0044 0532 0130 00",
    bank_name="Commerzbank",
    bank_code="COBADEFFXXX",
)


def test_gost_payload_is_exact():
    payload = qr.gost_payload(RU, Decimal("1234.50"), "Оплата по счёту № 2026-0001")
    assert payload == (
        "ST00012|Name=ООО «Тест Студия»|PersonalAcc=40702810900000000001|"
        "BankName=ПАО Сбербанк|BIC=044525225|CorrespAcc=30101810400000000225|"
        "Sum=123450|Purpose=Оплата по счёту № 2026-0001|PayeeINN=7701234567"
    )


def test_gost_payload_strips_the_field_separator_from_values():
    payload = qr.gost_payload(RU, Decimal("1"), "a|b\nc")
    assert "|Purpose=a b c|" in payload


def test_gost_payload_needs_a_twenty_digit_account_and_a_bic():
    assert (
        qr.gost_payload(qr.BankDetails("X", "123", "Bank", "044525225", "301"), Decimal(1), "p")
        is None
    )
    assert (
        qr.gost_payload(qr.BankDetails("X", "4" * 20, "Bank", "", "301"), Decimal(1), "p") is None
    )


def test_epc_payload_is_exact():
    payload = qr.epc_payload(EU, Decimal("123.4"), "Invoice 2026-0001")
    assert payload == (
        "BCD\n002\n1\nSCT\nCOBADEFFXXX\nTest Studio GmbH\nDE89370400440532013000\n"
        "EUR123.40\n\n\nInvoice 2026-0001"
    )


def test_epc_payload_needs_an_iban():
    assert (
        qr.epc_payload(qr.BankDetails("X", "40702810900000000001", "B", ""), Decimal(1), "r")
        is None
    )


def test_the_qr_code_renders_as_inline_svg():
    svg = qr.svg(qr.gost_payload(RU, Decimal("1"), "p"), title="QR")
    assert svg.startswith("<svg") and "<?xml" not in svg


def test_vat_on_top_and_included_and_none():
    amounts = [Decimal("1000.00"), Decimal("500.00")]
    assert compute_totals(
        amounts, tax_mode=Studio.TaxMode.NO_VAT, vat_rate=Decimal(20)
    ).total == Decimal("1500.00")
    on_top = compute_totals(amounts, tax_mode=Studio.TaxMode.VAT_ON_TOP, vat_rate=Decimal(20))
    assert (on_top.tax, on_top.total) == (Decimal("300.00"), Decimal("1800.00"))
    included = compute_totals(amounts, tax_mode=Studio.TaxMode.VAT_INCLUDED, vat_rate=Decimal(20))
    assert (included.tax, included.total) == (Decimal("250.00"), Decimal("1500.00"))


def test_tax_rounds_half_up_once_on_the_sum():
    totals = compute_totals(
        [Decimal("0.05")] * 3, tax_mode=Studio.TaxMode.VAT_ON_TOP, vat_rate=Decimal(10)
    )
    assert totals.tax == Decimal("0.02")  # 0.015 → 0.02


def test_amount_in_words_in_russian_and_english():
    assert (
        amount_in_words(Decimal("1231.45"), "RUB", "ru")
        == "Одна тысяча двести тридцать один рубль 45 копеек"
    )
    assert amount_in_words(Decimal("21.01"), "EUR", "en") == "Twenty-one euro and 01 cent"


def test_amount_in_words_for_a_currency_without_names_falls_back_to_its_code():
    assert amount_in_words(Decimal("5.50"), "CHF", "ru") == "Пять CHF 50"
    assert amount_in_words(Decimal("5.50"), "CHF", "en") == "Five CHF 50"


def test_an_invoice_names_an_amount_as_its_contract_does():
    assert amount_in_words(Decimal("1000001"), "UAH", "ru") == (
        "Один миллион одна гривна 00 копеек"
    )
    assert amount_in_words(Decimal("2.01"), "BYN", "en") == ("Two Belarusian roubles and 01 kopek")


@pytest.mark.django_db
def test_the_qr_on_an_invoice_asks_for_what_is_still_due(invoice):
    payload = qr_payload_for(invoice)
    assert "|Sum=100000|" in payload
    assert f"Purpose=Оплата по счёту № {invoice.number}" in payload
    assert payload.endswith("НДС не облагается|PayeeINN=7701234567")


@pytest.mark.django_db
def test_a_euro_invoice_gets_an_epc_code(deal, manager, studio):
    invoice = make_invoice(euro_deal(deal, studio), manager, "99.90")
    assert qr_payload_for(invoice).startswith("BCD\n002\n1\nSCT\nCOBADEFFXXX\nTest Studio GmbH\n")
    assert "\nEUR99.90\n" in qr_payload_for(invoice)


@pytest.mark.django_db
def test_the_russian_layout_is_a_proper_schet_na_oplatu(invoice):
    html = render_document(invoice)
    assert f'Счёт на оплату <span class="nowrap">№ {invoice.number}</span>' in html
    assert "Банк получателя" in html and "044525225" in html
    assert "Всего к оплате:" in html
    assert "Одна тысяча рублей 00 копеек" in html
    assert "Без налога (НДС)" in html
    assert "<svg" in html


@pytest.mark.django_db
def test_the_english_layout_is_an_international_invoice(deal, manager):
    from studiocrm.billing import services
    from studiocrm.billing.services import LineInput

    draft = services.create_invoice(
        deal,
        lines=[LineInput(description="Design", quantity=Decimal(2), unit_price=Decimal("250"))],
        actor=manager,
        language="en",
    )
    services.issue_invoice(draft, actor=manager)
    draft.refresh_from_db()
    html = render_document(draft)
    assert f'Invoice <span class="nowrap">{draft.number}</span>' in html
    assert "Bill to:" in html and "ООО «Ромашка»" in html
    assert "Amount in words: Five hundred roubles and 00 kopeks" in html


@pytest.mark.django_db
def test_the_pdf_carries_details_lines_total_in_words_and_due_date(invoice, settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path
    pdf = render_pdf(invoice)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert f"№ {invoice.number}" in text
    assert "40702810900000000001" in text
    assert "Work 1" in text
    assert "Одна тысяча рублей 00 копеек" in text
    assert f"Оплатить не позднее {invoice.due_date:%d.%m.%Y}" in text


@pytest.mark.django_db
def test_an_issued_invoices_pdf_is_rendered_once(invoice, settings, tmp_path, monkeypatch):
    settings.PRIVATE_ROOT = tmp_path
    first = render_pdf(invoice)
    monkeypatch.setattr("weasyprint.HTML.write_pdf", lambda self: b"rendered again")
    assert render_pdf(invoice) == first


@pytest.mark.django_db
def test_printing_an_invoice_logs_no_stylesheet_warnings(invoice, settings, tmp_path, caplog):
    settings.PRIVATE_ROOT = tmp_path

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_pdf(invoice)

    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []


def expected_gost(invoice, sum_kopecks: str) -> str:
    """The exact GOST R 56042 string a banking app must read off this invoice, spelled out
    here rather than built by the code under test."""
    return (
        "ST00012|Name=ООО «Тест Студия»|PersonalAcc=40702810900000000001|"
        "BankName=ПАО Сбербанк|BIC=044525225|CorrespAcc=30101810400000000225|"
        f"Sum={sum_kopecks}|Purpose=Оплата по счёту № {invoice.number} от "
        f"{invoice.issue_date:%d.%m.%Y}, НДС не облагается|PayeeINN=7701234567"
    )


def test_the_qr_svg_scales_whole_to_any_size():
    svg = qr.svg(qr.gost_payload(RU, Decimal("1"), "p"), title="QR")
    size = qr.segno.make(qr.gost_payload(RU, Decimal("1"), "p"), error="m").symbol_size(
        border=qr.QUIET_ZONE
    )[0]
    assert f'viewBox="0 0 {size} {size}"' in svg
    assert "<title>QR</title>" in svg and 'role="img"' in svg


@pytest.mark.django_db
def test_the_pdf_qr_decodes_to_the_exact_gost_payload(invoice, settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path
    png = pdf_page_png(render_pdf(invoice), dpi=150)
    (tmp_path / "invoice-ru.png").write_bytes(png)

    assert decode_qr(png) == [expected_gost(invoice, "100000")]


@pytest.mark.django_db
def test_the_pdf_qr_of_a_euro_invoice_decodes_to_the_exact_epc_payload(
    deal, manager, studio, settings, tmp_path
):
    settings.PRIVATE_ROOT = tmp_path
    invoice = make_invoice(euro_deal(deal, studio), manager, "99.90")

    png = pdf_page_png(render_pdf(invoice), dpi=150)

    assert decode_qr(png) == [
        "BCD\n002\n1\nSCT\nCOBADEFFXXX\nTest Studio GmbH\nDE89370400440532013000\nEUR99.90\n\n\n"
        f"Оплата по счёту № {invoice.number} от {invoice.issue_date:%d.%m.%Y}"
    ]
