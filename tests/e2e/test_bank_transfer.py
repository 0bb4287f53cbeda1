"""A client pays by bank transfer in a real Chromium, on a 390 px phone and a 1280 px
desktop, in Russian (roubles, GOST R 56042 code) and English (euro, EPC code): the code on
the page decodes from a screenshot to the exact payload, a reload records nothing, and the
copy buttons put the right text on the clipboard and say so.

Screenshots: E2E_SCREENSHOTS=1 keeps them in test-artifacts/bank-transfer/.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from studiocrm.billing import services
from studiocrm.billing.models import Payment, ProviderAccount
from studiocrm.billing.services import LineInput
from tests.billing.conftest import ensure_stages
from tests.billing.qr_scan import decode_qr
from tests.factories import ClientFactory, ContactFactory, DealFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "bank-transfer"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shot(page, name: str) -> bytes:
    image = page.screenshot(full_page=True)
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        (SHOTS / f"{name}.png").write_bytes(image)
    return image


@pytest.fixture
def rouble_studio(studio):
    studio.name = "Студия «Кварц»"
    studio.legal_name = "ООО «Кварц»"
    studio.tax_id = "7701234567"
    studio.bank_name = "ПАО Сбербанк"
    studio.bank_account = "40702810900000000001"
    studio.bank_code = "044525225"
    studio.correspondent_account = "30101810400000000225"
    studio.email = "hello@quartz.test"
    studio.save()
    ProviderAccount.objects.create(provider="bank_transfer", enabled=True)
    return studio


def issue(manager, *, currency: str, language: str, amount: str):
    ensure_stages()
    client = ClientFactory(name="Ромашка", legal_name="ООО «Ромашка»")
    deal = DealFactory(
        client=client,
        contact=ContactFactory(client=client, email="buyer@client.test"),
        manager=manager,
        stage_id="contract_signed",
        currency=currency,
    )
    invoice = services.create_invoice(
        deal,
        lines=[LineInput("Дизайн и вёрстка сайта", Decimal(1), Decimal(amount))],
        actor=manager,
        language=language,
        purpose="Предоплата по договору 7/2026" if language == "ru" else "Deposit, contract 7",
    )
    token = services.issue_invoice(invoice, actor=manager, notify_client=False)
    invoice.refresh_from_db()
    return invoice, token


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_paying_by_bank_transfer_in_roubles(live_server, browser, manager, rouble_studio, viewport):
    invoice, token = issue(manager, currency="RUB", language="ru", amount="45000.50")
    expected = (
        "ST00012|Name=ООО «Кварц»|PersonalAcc=40702810900000000001|BankName=ПАО Сбербанк|"
        "BIC=044525225|CorrespAcc=30101810400000000225|Sum=4500050|"
        "Purpose=Предоплата по договору 7/2026, НДС не облагается|PayeeINN=7701234567"
    )
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    width = viewport["width"]

    page.goto(f"{live_server.url}/c/pay/{token}/")
    assert decode_qr(shot(page, f"invoice-ru-{width}")) == [expected]
    page.get_by_role("button", name="Оплатить переводом по реквизитам").click()
    page.wait_for_url(f"{live_server.url}/c/pay/{token}/bank-transfer/")
    assert decode_qr(shot(page, f"transfer-ru-{width}")) == [expected]

    page.reload()
    page.reload()
    assert Payment.objects.filter(invoice=invoice).count() == 1

    page.get_by_role("button", name="Копировать: Сумма").click()
    assert page.evaluate("navigator.clipboard.readText()") == "45000,50"
    expect(page.locator(".copy-amount .copy-label")).to_have_text("Скопировано")
    expect(page.get_by_role("status")).to_have_text("Сумма: скопировано")
    page.get_by_role("button", name="Копировать: Расчётный счёт").click()
    assert page.evaluate("navigator.clipboard.readText()") == "40702810900000000001"
    # Nothing wider than the screen: the page does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"transfer-ru-{width}-copied")
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_paying_by_bank_transfer_in_euro(live_server, browser, manager, rouble_studio, viewport):
    rouble_studio.legal_name = "Quartz Studio GmbH"
    rouble_studio.bank_name = "Commerzbank"
    rouble_studio.bank_account = "DE89 3704 0044 0532 0130 00"
    rouble_studio.bank_code = "COBADEFFXXX"
    rouble_studio.correspondent_account = ""
    rouble_studio.save()
    invoice, token = issue(manager, currency="EUR", language="en", amount="1250")
    expected = (
        "BCD\n002\n1\nSCT\nCOBADEFFXXX\nQuartz Studio GmbH\nDE89370400440532013000\n"
        "EUR1250.00\n\n\nDeposit, contract 7"
    )
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    width = viewport["width"]

    page.goto(f"{live_server.url}/c/pay/{token}/")
    assert decode_qr(shot(page, f"invoice-en-{width}")) == [expected]
    page.get_by_role("button", name="Pay by bank transfer").click()
    page.wait_for_url(f"{live_server.url}/c/pay/{token}/bank-transfer/")
    assert decode_qr(shot(page, f"transfer-en-{width}")) == [expected]

    page.get_by_role("button", name="Copy: Account / IBAN").click()
    assert page.evaluate("navigator.clipboard.readText()") == "DE89 3704 0044 0532 0130 00"
    expect(page.get_by_role("status")).to_have_text("Account / IBAN copied")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
