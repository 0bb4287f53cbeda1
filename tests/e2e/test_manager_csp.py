"""A manager works through the main pages in Chromium under the Content-Security-Policy:
board drag, the deal page's htmx notes and tasks, the estimate editor's live totals, the
confirm dialogs and the language switcher, with not one policy violation reported."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from studiocrm.deals.models import BRIEF_SENT, Note, Task
from studiocrm.estimates import services
from studiocrm.estimates.models import PriceList
from tests.estimates.conftest import add_fixed_line
from tests.factories import DealFactory
from tests.migration_data import restore_migration_data

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Registered before any page script runs (by the browser, not the page, so the policy does
# not apply to it): every violation the page reports is kept on window.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") + " at " +
    event.sourceFile + ":" + event.lineNumber
  );
});
"""


class Watch:
    def __init__(self, page) -> None:
        self.page = page
        self.console: list[str] = []
        self.violations: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.console.append(f"{message.text} @ {self.page.url}")

    def collect(self) -> None:
        """Violations the current page recorded (call before leaving it)."""
        found = self.page.evaluate("window.__cspViolations || []")
        self.violations += [f"{item} @ {self.page.url}" for item in found]
        self.page.evaluate("window.__cspViolations = []")


def test_the_main_manager_pages_run_with_zero_policy_violations(live_server, browser, manager):
    restore_migration_data()
    deal = DealFactory(manager=manager, title="Garden shop", currency="RUB")
    price_list = PriceList.objects.get(default_key="default-rub")
    estimate = services.create_estimate(deal, actor=manager)
    option = estimate.options.get()
    services.add_page(option, price_list.page_types.get(slug="about"), actor=manager)
    line = add_fixed_line(option, name="Logo", price="10000")
    services.add_option(estimate, actor=manager)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    watch = Watch(page)
    base = live_server.url

    page.goto(base + reverse("login"))
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(base + reverse("deals:board"))

    # The board: drag the card one column on (Sortable + htmx).
    card = page.locator(f"#deal-{deal.pk}")
    target = page.locator(f'.cards[data-stage="{BRIEF_SENT}"]')
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
    # Locator assertions throughout: wait_for_function evaluates strings, which the policy
    # refuses (as it should).
    expect(page.locator("#col-head-brief_sent .count")).to_have_text("1")
    watch.collect()

    # The deal page: a note and a task through htmx, the task ticked off.
    page.goto(base + deal.get_absolute_url())
    page.locator("#notes textarea").fill("Called the client, brief next week")
    page.locator("#notes").get_by_role("button", name="Add note").click()
    expect(page.locator("#notes .notes")).to_contain_text("Called the client")
    page.locator("#tasks summary").click()
    page.locator("#tasks input[name=title]").fill("Send the brief")
    page.locator("#tasks").get_by_role("button", name="Add task").click()
    expect(page.locator("#tasks .tasks")).to_contain_text("Send the brief")
    page.locator("#tasks .tasks input[type=checkbox]").first.check()
    expect(page.locator("#tasks .tasks input[type=checkbox]").first).to_be_checked()
    watch.collect()
    assert Note.objects.filter(deal=deal).count() == 1
    assert Task.objects.filter(deal=deal, title="Send the brief").exists()

    # The estimate editor: totals follow a quantity; a refused confirm deletes nothing.
    page.goto(base + reverse("estimates:edit", args=[estimate.pk]))
    page.fill(f"#line-{line.pk}-quantity", "3")
    expect(page.locator(".est-total")).to_have_text(re.compile(r"^\s*66[\s,]?500"))
    expect(page.locator(".est-timeline .est-bar").first).to_be_attached()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete option").first.click()
    expect(page.locator(".est-tabs a")).to_have_count(2)
    watch.collect()

    # The language switcher submits itself.
    page.select_option("#lang-select", "ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator(".topbar nav")).to_contain_text(re.compile("Воронка|Сделки"))
    watch.collect()

    for url in (reverse("deals:list"), reverse("deals:my_day"), reverse("clients:list")):
        page.goto(base + url)
        watch.collect()

    assert watch.violations == []
    assert [line for line in watch.console if "Content Security Policy" in line] == []
    assert watch.console == []
    context.close()
