"""Documents on the client's phone and desktop: tables read as cards at 375 px (no number or
word broken across lines, amounts in one column), and the client fills in the company
details the contract needs. With E2E_SCREENSHOTS=1 every page is saved under
test-artifacts/documents/ (as the sales path test does under test-artifacts/sales-path/)."""

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from studiocrm.core.models import AuditLog
from studiocrm.documents import services
from studiocrm.documents.models import Kind
from studiocrm.estimates.models import Estimate
from tests.documents.conftest import (
    accept,
    make_english_deal,
    make_estimated_deal,
    restore_migration_data,
)
from tests.e2e.sales_path_support import fill_company_details

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "documents"
SAVE_SHOTS = os.environ.get("E2E_SCREENSHOTS") == "1"


def _shot(page, name):
    if SAVE_SHOTS:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


SIZES = {"phone": (375, 812), "desktop": (1280, 900)}


def _documents(manager, language="ru"):
    """A sent contract with its appendix, from a proposal accepted with a discount."""
    restored = restore_migration_data()
    deal = (
        make_estimated_deal(manager, restored) if language == "ru" else make_english_deal(manager)
    )
    estimate = Estimate.objects.get(deal=deal)
    main = estimate.options.order_by("position", "pk").first()
    main.discount_percent = Decimal("10")
    main.save(update_fields=["discount_percent"])
    from studiocrm.estimates import services as estimate_services

    estimate_services.save_estimate(estimate, actor=manager)
    proposal = services.create_proposal(deal, actor=manager)
    services.send_document(proposal, actor=manager)
    accept(proposal)
    contract = services.contract_of(deal)
    services.send_document(contract, actor=manager)
    contract.refresh_from_db()
    return proposal, contract, contract.children.get(kind=Kind.APPENDIX)


def _layout_problems(page):
    """What a phone reader would trip over, measured in the page."""
    return page.evaluate(
        """() => {
      const problems = [];
      if (document.documentElement.scrollWidth > window.innerWidth + 1)
        problems.push('the page scrolls sideways');
      for (const cell of document.querySelectorAll('.doc td.num, .doc td.line-number')) {
        const style = getComputedStyle(cell);
        const lines = cell.getBoundingClientRect().height / parseFloat(style.lineHeight || 20);
        if (cell.innerText.trim() && lines > 1.6) problems.push('wrapped: ' + cell.innerText);
      }
      const rights = new Set();
      for (const table of document.querySelectorAll('.doc table.cards:not(.extras)')) {
        for (const cell of table.querySelectorAll('td.num:last-child'))
          if (cell.innerText.trim()) rights.add(Math.round(cell.getBoundingClientRect().right));
      }
      if (rights.size > 1) problems.push('amounts not aligned: ' + [...rights].join(','));
      for (const clause of document.querySelectorAll('.doc .clause'))
        if (window.innerWidth < 600 && getComputedStyle(clause).textAlign === 'justify')
          problems.push('justified text on a phone');
      return problems;
    }"""
    )


@pytest.mark.parametrize("language", ["ru", "en"])
def test_documents_read_on_a_phone_and_on_a_desktop(live_server, browser, manager, language):
    proposal, contract, appendix = _documents(manager, language)
    for size, (width, height) in SIZES.items():
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        for document in (proposal, contract, appendix):
            url = reverse("documents_client:page", args=[document.link_token()])
            page.goto(live_server.url + url)
            assert _layout_problems(page) == [], (size, document.kind)
            _shot(page, f"{document.kind}-{language}-{size}")
        context.close()


def test_the_client_fills_in_the_company_details_and_the_contract_names_the_signatory(
    live_server, browser, manager
):
    from playwright.sync_api import expect

    _proposal, contract, _appendix = _documents(manager)
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(live_server.url + reverse("documents_client:page", args=[contract.link_token()]))
    article = page.locator("article.doc")
    expect(article).not_to_contain_text("в лице")
    # Name and email are known from the proposal the client accepted.
    expect(page.locator("#id_name")).to_have_value("Ирина Петрова")
    expect(page.locator("#id_email")).to_have_value("irina@client.test")
    details = page.locator("#details")
    expect(details).to_contain_text("не хватает")
    fill_company_details(
        page,
        {
            "legal_name": "ООО «Ромашка»",
            "tax_id": "7707083894",  # one digit off
            "address": "Москва, ул. Садовая, д. 5",
            "signatory_name": "Петрова Ирина Сергеевна",
            "signatory_position": "Генеральный директор",
            "signatory_basis": "Устав",
        },
    )
    expect(page.locator("#id_tax_id_error")).to_be_visible()
    _shot(page, "contract-details-error-phone")
    fill_company_details(
        page,
        {
            "tax_id": "7707083893",
            "kpp": "773601001",
            "registration_number": "1027700132195",
            "bank_name": "ПАО Сбербанк",
            "bank_code": "044525225",
            "bank_account": "40702819900000000001",
            "correspondent_account": "30101810400000000225",
        },
    )
    page.wait_for_url(re.compile(r"done=details"))
    expect(article).to_contain_text(
        "в лице Генерального директора Петровой Ирины Сергеевны, действующего на основании Устава"
    )
    expect(article).to_contain_text("ИНН 7707083893, КПП 773601001")
    _shot(page, "contract-details-saved-phone")
    assert AuditLog.objects.filter(verb="client.details_from_client").count() == 1
    page.close()
