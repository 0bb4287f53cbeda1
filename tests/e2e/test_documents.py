"""The client opens the proposal link, compares options, adds an extra and accepts."""

import re

import pytest
from django.urls import reverse

from studiocrm.deals.models import PROPOSAL_ACCEPTED
from studiocrm.documents import services
from studiocrm.documents.models import Acceptance, Document, Kind
from studiocrm.estimates.models import EstimateLine
from tests.documents.conftest import make_estimated_deal, restore_migration_data

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    yield page
    page.close()


def _digits(text):
    return int(re.sub(r"\D", "", text))


def test_client_picks_an_option_adds_an_extra_and_accepts(live_server, browser_page, manager):
    from playwright.sync_api import expect

    deal = make_estimated_deal(manager, restore_migration_data())
    proposal = services.create_proposal(deal, actor=manager)
    services.send_document(proposal, actor=manager)
    extra = EstimateLine.objects.get(option__estimate__deal=deal, name="Поддержка 3 месяца")
    page = browser_page
    page.goto(live_server.url + reverse("documents_client:page", args=[proposal.link_token()]))
    expect(page.locator("article.doc")).to_contain_text("Варианты и стоимость")

    total = page.locator("#picker-total")
    main_text = total.inner_text()
    main_total = _digits(main_text)
    landing = deal.estimates.get().options.get(name="Лендинг")
    page.locator(f'input[name=option][value="{landing.pk}"]').check()
    expect(total).not_to_have_text(main_text)
    landing_total = _digits(total.inner_text())
    assert landing_total < main_total

    page.locator(f'input[name=option][value="{extra.option_id}"]').check()
    optional = page.locator(f'input[name=optional][value="{extra.pk}"]')
    expect(optional).to_be_visible()
    optional.check()
    expect(total).to_have_text(re.compile(r"896\D?800"))
    assert _digits(total.inner_text()) == main_total + 30000

    page.fill("#id_name", "Ирина Петрова")
    page.fill("#id_email", "irina@client.test")
    page.check("#id_consent")
    page.click("#accept-button")
    page.wait_for_url(re.compile(r"done=accepted"))
    expect(page.locator("#accepted-banner")).to_contain_text("Вы приняли версию 1")

    deal.refresh_from_db()
    assert deal.stage_id == PROPOSAL_ACCEPTED
    acceptance = Acceptance.objects.get(document=proposal)
    assert acceptance.selection["optional"] == [str(extra.pk)]
    assert int(acceptance.selection["total"].split(".")[0]) == main_total + 30000
    assert Document.objects.filter(deal=deal, kind=Kind.CONTRACT).count() == 1
    assert Document.objects.filter(deal=deal, kind=Kind.APPENDIX).count() == 1
