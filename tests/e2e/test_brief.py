"""A client fills the brief on a phone in a real browser: answers autosave, survive leaving
the page, conditional questions appear, a file is attached, and the brief is submitted."""

import pytest

from studiocrm.briefs import services
from studiocrm.briefs.models import Brief, BriefTemplate
from studiocrm.deals.models import BRIEF_RECEIVED
from tests.briefs.conftest import clean_cache, deal, migration_data, private_root  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


@pytest.fixture
def client_link(live_server, deal, manager, migration_data, settings):  # noqa: F811
    settings.BASE_URL = live_server.url
    template = BriefTemplate.objects.get(default_key="corporate", language="en")
    brief = services.send_brief(deal, template, actor=manager)
    return brief, services.client_link(brief)


def saved(page, key):
    page.wait_for_selector(f"#status-{key} .saved", timeout=5000)


def test_a_client_fills_leaves_comes_back_and_submits_on_a_phone(browser, client_link, tmp_path):
    brief, link = client_link
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = phone.new_page()
    errors = []
    offline = {"now": False}
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        # 422 answers a rejected value, and htmx logs failed sends while offline: both are
        # provoked on purpose below.
        lambda message: (
            message.type == "error"
            and "status of 422" not in message.text
            and not offline["now"]
            and errors.append(message.text)
        ),
    )

    page.goto(link)
    page.fill("#id-company", "Bakery <script>alert(1)</script>")
    saved(page, "company")
    page.fill("#id-goal", "Orders for birthday cakes")
    saved(page, "goal")
    assert page.is_hidden("#q-languages_count")
    page.check("input[name=q_features][value=multilingual]")
    assert page.is_visible("#q-languages_count")  # shown at once, before the server answers
    saved(page, "features")
    page.fill("#id-languages_count", "two")
    page.wait_for_selector("#status-languages_count .error")
    page.fill("#id-languages_count", "2")
    saved(page, "languages_count")
    assert "Answered 4 of" in page.inner_text("#brief-progress")

    phone.set_offline(True)  # the connection drops: the page must not pretend it saved
    offline["now"] = True
    page.fill("#id-audience", "Parents")
    page.wait_for_selector("#status-audience .error:has-text('Not saved')")
    phone.set_offline(False)
    offline["now"] = False
    page.fill("#id-audience", "Parents planning a party")
    saved(page, "audience")

    page.goto("about:blank")  # the client leaves
    page = phone.new_page()
    page.goto(link)  # and comes back from the email later

    assert page.input_value("#id-company") == "Bakery <script>alert(1)</script>"
    assert page.input_value("#id-languages_count") == "2"
    assert page.input_value("#id-audience") == "Parents planning a party"
    assert page.is_checked("input[name=q_features][value=multilingual]")
    page.check("input[name=q_pages][value=home]")
    page.check("input[name=q_pages][value=contacts]")
    saved(page, "pages")
    page.check("input[name=q_has_brandbook][value=yes]")
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    page.set_input_files("#file-brand_files", str(logo))
    page.wait_for_selector("#files-brand_files a:has-text('logo.png')", timeout=5000)

    page.click("button[type=submit]")  # one required answer is still missing
    assert "needs your attention" in page.inner_text("#error-summary")
    assert "Is the content ready?" in page.inner_text("#error-summary")
    page.check("input[name=q_content_ready][value=partial]")
    saved(page, "content_ready")
    # The test database is SQLite in memory shared between server threads, where two
    # simultaneous writers fail instead of waiting (a file database waits): let the autosave
    # finish before the submit.
    page.wait_for_load_state("networkidle")
    page.click("button[type=submit]")

    page.wait_for_url("**/thanks/")
    assert "Thank you" in page.inner_text("h1")
    brief.refresh_from_db()
    brief.deal.refresh_from_db()
    assert brief.status == Brief.Status.SUBMITTED
    assert brief.deal.stage_id == BRIEF_RECEIVED
    assert brief.answers["company"] == "Bakery <script>alert(1)</script>"
    assert brief.answers["brand_files"] == [brief.files.get().pk]
    assert errors == []
