"""The template editor in a real browser: a placeholder inserted at the cursor appears in the
live preview; a mistake shows its line number, marks the line and jumps to it. Screenshots
(desktop and phone, English and Russian) go to test-artifacts/template-editor with
E2E_SCREENSHOTS=1."""

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse

from studiocrm.documents import defaults, services
from studiocrm.documents.models import DocumentTemplate, Kind
from tests.documents.conftest import make_estimated_deal, restore_migration_data

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "template-editor"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shot(page, name):
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=False)


def _open(browser, live_server, user, path, *, viewport, language="en"):
    context = browser.new_context(viewport=viewport)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    # Signed in through the session (past the owner's second factor), not the login form.
    from django.conf import settings

    from tests.conftest import logged_in

    session = logged_in(user).cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page = context.new_page()
    page.goto(live_server.url + path)
    return context, page


def _preview_text(page):
    return page.frame_locator("#preview iframe").locator("body")


def test_insert_a_placeholder_see_it_in_the_preview_then_an_error_points_at_its_line(
    live_server, browser, owner
):
    from playwright.sync_api import expect

    restore_migration_data()
    defaults.ensure_default_templates()
    template = DocumentTemplate.objects.get(kind=Kind.PROPOSAL, language="en")
    context, page = _open(
        browser,
        live_server,
        owner,
        reverse("documents:template_edit", args=[template.pk]),
        viewport=DESKTOP,
    )
    source = page.locator("#id_source")
    expect(page.locator("#preview iframe")).to_be_visible()
    expect(page.locator("#preview-progress")).to_have_text("Preview up to date")
    _shot(page, "desktop-en-template")

    # Start a fresh text, put the cursor between two paragraphs, insert the client's name.
    source.fill("<p>Dear client,</p>\n\n<p>Thank you.</p>")
    page.evaluate(
        "() => { const s = document.querySelector('#id_source');"
        " s.focus(); s.setSelectionRange(20, 20); }"
    )
    page.locator("#placeholder-filter").fill("client name")
    button = page.locator('button[data-insert="{{ client.name }}"]')
    expect(button).to_be_visible()
    button.click()
    assert source.input_value() == "<p>Dear client,</p>\n{{ client.name }}\n<p>Thank you.</p>"
    sample_client = defaults.sample_context(Kind.PROPOSAL, "en")["client"]["name"]
    expect(_preview_text(page)).to_contain_text(sample_client)
    expect(page.locator("#preview-progress")).to_have_text("Preview up to date")
    expect(page.locator("#cursor-position")).to_contain_text("Line 2")

    # A mistake on line 3: the preview names the line, the editor marks it.
    source.fill("<p>Dear client,</p>\n<p>{{ client.name }}</p>\n<p>{{ client.nmae }}</p>")
    problem = page.locator(".template-problem")
    expect(problem).to_contain_text("Line 3")
    expect(problem.locator(".problem-line")).to_contain_text("{{ client.nmae }}")
    expect(page.locator("[data-line-mark]")).to_be_visible()
    mark_top = page.locator("[data-line-mark]").evaluate("element => element.offsetTop")
    assert mark_top == pytest.approx(8 + 2 * 19, abs=2)
    _shot(page, "desktop-en-error")
    problem.get_by_role("button", name="Go to line 3").click()
    selected = page.evaluate(
        "() => { const s = document.querySelector('#id_source');"
        " return s.value.slice(s.selectionStart, s.selectionEnd); }"
    )
    assert selected == "<p>{{ client.nmae }}</p>"
    expect(source).to_be_focused()

    # Fixed: the mark goes away.
    source.fill("<p>{{ client.name }}</p>")
    expect(_preview_text(page)).to_contain_text(sample_client)
    expect(page.locator("[data-line-mark]")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_editor_reads_on_a_phone_and_a_desktop(live_server, browser, owner, language):
    from playwright.sync_api import expect

    data = restore_migration_data()
    defaults.ensure_default_templates()
    template = DocumentTemplate.objects.get(kind=Kind.CONTRACT, language=language)
    path = reverse("documents:template_edit", args=[template.pk])
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context, page = _open(
            browser, live_server, owner, path, viewport=viewport, language=language
        )
        expect(page.locator("#preview iframe")).to_be_visible()
        grid = page.locator("[data-editor]").bounding_box()
        preview = page.locator("#preview-column").bounding_box()
        form = page.locator("#editor-form").bounding_box()
        if name == "desktop":
            assert preview["x"] > form["x"] + form["width"] - 1  # side by side
            assert preview["height"] > 0.8 * viewport["height"]  # full height
        else:
            assert preview["y"] > form["y"] + form["height"] - 1  # stacked
            assert grid["width"] <= viewport["width"]
        # Nothing sticks out sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        _shot(page, f"{name}-{language}-contract-template")
        if name == "phone":
            page.locator("#id_source").fill("<p>{{ client.name }\n</p>")
            expect(page.locator(".template-problem")).to_contain_text(
                "Строка 1" if language == "ru" else "Line 1"
            )
            page.locator(".template-problem").scroll_into_view_if_needed()
            _shot(page, f"{name}-{language}-error")
        context.close()

    # A document's editor is the same editor on the deal's own data.
    deal = make_estimated_deal(owner, data)
    proposal = services.create_proposal(deal, actor=owner)
    context, page = _open(
        browser,
        live_server,
        owner,
        reverse("documents:detail", args=[proposal.pk]),
        viewport=DESKTOP,
        language=language,
    )
    expect(_preview_text(page)).to_contain_text("Ромашка")
    page.locator("#id_source").press("End")
    page.locator('button[data-insert="{{ deal.title }}"]').first.click()
    expect(_preview_text(page)).to_contain_text(re.compile(re.escape(deal.title)))
    _shot(page, f"desktop-{language}-document")
    context.close()
