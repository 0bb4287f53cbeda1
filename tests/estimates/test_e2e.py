"""A manager edits an estimate in a real browser: the totals follow every change, and the
editor stays usable at phone width."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from studiocrm.estimates import services
from tests.estimates.conftest import add_fixed_line

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migration_data"),
]


def log_in(page, live_server, user):
    page.goto(live_server.url + reverse("login"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def test_changing_a_quantity_updates_the_line_and_the_totals_without_a_reload(
    live_server, browser, manager, option, rub_list
):
    services.add_page(option, rub_list.page_types.get(slug="about"), actor=manager)  # 36 500
    line = add_fixed_line(option, name="Logo", price="10000")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, live_server, manager)
    page.goto(live_server.url + reverse("estimates:edit", args=[option.estimate.pk]))
    assert "46,500\u00a0₽" in page.locator(".est-total").inner_text()

    page.fill(f"#line-{line.pk}-quantity", "3")
    # Locator assertions, not wait_for_function: the page's CSP refuses evaluated strings.
    expect(page.locator(".est-total")).to_have_text(re.compile(r"^\s*66[\s,]?500"))
    assert "30,000\u00a0₽" in page.locator(f"#line-{line.pk}-sum").inner_text()
    line.refresh_from_db()
    assert line.quantity == Decimal("3")

    page.fill(f"#line-{line.pk}-quantity", "-1")
    expect(page.locator(f"#line-{line.pk}-errors")).not_to_have_text(re.compile(r"^\s*$"))
    line.refresh_from_db()
    assert line.quantity == Decimal("3")


def test_the_editor_fits_a_phone_screen(live_server, browser, manager, option, rub_list):
    services.add_page(option, rub_list.page_types.get(slug="catalog"), actor=manager)
    add_fixed_line(option, name="A service with a rather long name for a small screen")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    log_in(page, live_server, manager)
    page.goto(live_server.url + reverse("estimates:edit", args=[option.estimate.pk]))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#mini-total").is_visible()
