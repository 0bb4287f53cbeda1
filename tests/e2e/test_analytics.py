"""The owner opens Analytics in a real browser, sees the charts drawn beside their tables,
downloads a table, and the page fits a phone."""

import csv
import io
from pathlib import Path

import pytest
from django.urls import reverse

from tests.analytics import history

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user):
    """Signed in through the session (past the owner's second factor), on the board."""
    from django.conf import settings

    from tests.conftest import logged_in

    session = logged_in(user).cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page.goto(live_server.url + reverse("deals:board"))


def test_owner_opens_the_dashboard_and_downloads_the_funnel(live_server, browser, owner):
    history.build()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, owner)
    page.click("text=Analytics")
    page.wait_for_url(live_server.url + reverse("analytics:dashboard"))
    # The history lies in early 2026: ask for that period.
    page.fill("#id_date_from", "2026-01-01")
    page.fill("#id_date_to", "2026-03-31")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()

    funnel = page.locator("#table-funnel")
    assert funnel.locator("tbody tr").first.inner_text().split("\t")[:2] == ["New", "5"]
    # Chart.js drew on every chart's canvas.
    page.wait_for_function("window.Chart && Chart.getChart(document.querySelector('canvas'))")
    drawn = page.evaluate(
        "[...document.querySelectorAll('canvas')].filter(c => Chart.getChart(c)).length"
    )
    assert drawn == page.locator("canvas").count() >= 6
    assert errors == []

    with page.expect_download() as download_info:
        funnel.locator("a", has_text="CSV").click()
    download = download_info.value
    assert download.suggested_filename == "funnel-2026-01-01-2026-03-31.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][:2] == ["New", "5"] and rows[-1][:2] == ["Paid", "1"]
    page.close()


def test_the_dashboard_fits_a_phone_in_russian(live_server, browser, owner):
    history.build()
    owner.language = "ru"
    owner.save(update_fields=["language"])
    page = browser.new_page(viewport={"width": 390, "height": 800}, locale="ru-RU")
    log_in(page, live_server, owner)
    page.goto(
        live_server.url
        + reverse("analytics:dashboard")
        + "?date_from=2026-01-01&date_to=2026-03-31&unit=week"
    )
    assert page.locator("h1").inner_text() == "Аналитика"
    # Wide tables scroll inside their own box; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()
