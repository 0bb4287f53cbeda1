"""A manager drags a deal to the next column of the pipeline board in a real browser."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from studiocrm.deals.models import BRIEF_SENT, NEW, Deal, StageChange
from tests.factories import DealFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    yield page
    page.close()


def test_manager_drags_a_card_to_the_next_column(live_server, browser_page, manager):
    deal = DealFactory(manager=manager, title="Garden shop")
    page = browser_page
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("deals:board"))

    card = page.locator(f"#deal-{deal.pk}")
    target = page.locator(f'.cards[data-stage="{BRIEF_SENT}"]')
    assert card.locator("xpath=..").get_attribute("data-stage") == NEW

    with page.expect_response(lambda r: r.url.endswith(f"/deals/{deal.pk}/move/")) as answer:
        box = card.locator(".deal-card-client").bounding_box()
        drop = target.bounding_box()
        page.mouse.move(box["x"] + 10, box["y"] + 5)
        page.mouse.down()
        for step in range(1, 11):
            page.mouse.move(
                box["x"] + 10 + (drop["x"] + 40 - box["x"] - 10) * step / 10,
                box["y"] + 5 + (drop["y"] + 40 - box["y"] - 5) * step / 10,
            )
        page.mouse.up()
    assert answer.value.status == 200
    # A locator assertion, not wait_for_function: the page's CSP refuses evaluated strings.
    expect(page.locator("#col-head-brief_sent .count")).to_have_text("1")

    page.reload()
    moved = page.locator(f'.cards[data-stage="{BRIEF_SENT}"] #deal-{deal.pk}')
    assert moved.count() == 1
    deal.refresh_from_db()
    assert deal.stage_id == BRIEF_SENT
    assert StageChange.objects.filter(
        deal=deal, from_stage=NEW, to_stage=BRIEF_SENT, by=manager
    ).exists()
    assert Deal.objects.count() == 1


def sign_in(page, live_server, manager):
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + reverse("deals:board"))


def test_a_long_column_loads_its_next_cards_on_scroll_and_by_keyboard(
    live_server, browser_page, manager
):
    """The board shows the first cards of a column; scrolling to its end loads the next ones
    (htmx, keyset cursor), and the "Show more" link does the same for a keyboard user.
    The "Move to…" select of a loaded card offers every stage."""
    for number in range(40):
        DealFactory(manager=manager, title=f"Lead {number:02}")
    page = browser_page
    sign_in(page, live_server, manager)
    column = page.locator(f'.cards[data-stage="{NEW}"]')
    cards = column.locator(".deal-card")
    expect(cards).to_have_count(8)
    expect(page.locator("#col-head-new .count")).to_have_text("40")

    # Scrolling the column to its end brings the "Show more" link into view: it loads.
    column.evaluate("list => list.scrollTo(0, list.scrollHeight)")
    expect(cards).to_have_count(28)
    # htmx has finished the swap (no request in flight, nothing settling), so the new link
    # carries its handler: a person cannot press Enter within htmx's settle delay either.
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)

    # The keyboard: focus the next link and press Enter.
    link = column.locator(".cards-more-link")
    link.focus()
    page.keyboard.press("Enter")
    expect(cards).to_have_count(40)
    expect(column.locator(".cards-more")).to_have_count(0)
    titles = cards.locator(".deal-card-title").all_text_contents()
    assert sorted(titles) == [f"Lead {number:02}" for number in range(40)]

    last = cards.last
    last.locator(".card-move summary").click()
    expect(last.locator("select[name=stage] option")).to_have_count(12)
    if os.environ.get("E2E_SCREENSHOTS"):
        Path("test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path="test-artifacts/board-loaded-column.png")
