"""A visitor sends a lead in a real browser: the hosted form, the form framed on another
site, and the snippet pasted into another site."""

import pytest
from django.test import override_settings

from studiocrm.deals.models import Deal
from studiocrm.intake.views import snippet_html

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    yield page
    page.close()


def fill_lead(target):
    """Fill the lead fields inside a page or a frame locator."""
    target.locator("input[name=name]").fill("Anna Petrova")
    target.locator("input[name=email]").fill("anna@example.com")
    target.locator("textarea[name=message]").fill("A shop for garden goods")


def test_a_visitor_sends_the_hosted_form_and_sees_what_happens_next(
    live_server, browser_page, stages, manager
):
    page = browser_page
    page.goto(live_server.url + "/lead/?lang=en")
    fill_lead(page)

    page.click("button[type=submit]")

    page.wait_for_url("**/lead/thanks/?lang=en")
    assert "Your request has been sent" in page.text_content("h1")
    deal = Deal.objects.get()
    assert (deal.manager, deal.contact.email) == (manager, "anna@example.com")


def test_the_form_framed_on_another_site_loads_and_sends(
    live_server, browser_page, stages, manager
):
    page = browser_page
    page.set_content(
        f'<h1>Another site</h1><iframe name="lead" src="{live_server.url}/lead/?embed=1&lang=en"'
        ' style="width:100%;height:700px;border:0"></iframe>'
    )
    frame = page.frame_locator("iframe")
    frame.locator("input[name=name]").wait_for()
    fill_lead(frame)

    frame.locator("button[type=submit]").click()

    frame.locator("h1", has_text="Your request has been sent").wait_for()
    assert Deal.objects.count() == 1


def test_the_snippet_pasted_into_another_site_sends_one_lead(
    live_server, browser_page, stages, manager, studio
):
    with override_settings(BASE_URL=live_server.url):
        snippet = snippet_html(studio)
    page = browser_page
    page.set_content(f"<main><h1>Contact us</h1>{snippet}</main>")
    submission_id = page.input_value("input[name=submission_id]")
    assert len(submission_id) >= 8
    fill_lead(page)

    page.click("button[type=submit]")

    page.wait_for_url("**/lead/thanks/**")
    assert Deal.objects.count() == 1
