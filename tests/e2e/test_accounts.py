"""In a real browser: a manager turns on two-factor authentication by typing the code of the
shown key, logs out and back in with a code; an owner is walked through set-up first.

Screenshots of each page: E2E_SCREENSHOTS=1 → test-artifacts/accounts/."""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from studiocrm.core.models import User
from tests.core.real_server import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "accounts"
WORDS = {
    "en": {"log_in": "Log in", "turn_on": "Turn on", "saved": "I have saved them"},
    "ru": {"log_in": "Войти", "turn_on": "Включить", "saved": "Я их сохранил(а)"},
}


def shot(page, name):
    if os.environ.get("E2E_SCREENSHOTS") == "1":
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)


# A phone and a desktop in both languages for the screenshots; two of them otherwise.
SCREENS = [(390, "ru"), (1280, "en")]
if os.environ.get("E2E_SCREENSHOTS") == "1":
    SCREENS += [(390, "en"), (1280, "ru")]


@pytest.fixture(params=SCREENS, ids=str)
def screen(request, browser, live_server):
    width, language = request.param
    context = browser.new_context(viewport={"width": width, "height": 860})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    yield page, f"{width}-{language}", WORDS[language]
    context.close()


@pytest.fixture
def stranger(browser, screen):
    """Another browser (no shared cookies) with the same screen."""
    page = screen[0]
    context = browser.new_context(viewport=page.viewport_size)
    for cookie in page.context.cookies():
        if cookie["name"] == "django_language":
            context.add_cookies([cookie])
    yield context.new_page()
    context.close()


def log_in(page, base, username):
    page.goto(base + reverse("login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form.card button[type=submit]").click()


def test_a_manager_turns_on_two_factor_and_logs_in_with_a_code(
    live_server, screen, studio, tmp_path
):
    page, tag, words = screen
    UserFactory(username="anna")
    base = live_server.url
    log_in(page, base, "anna")
    page.wait_for_url(base + reverse("deals:board"))

    page.goto(base + reverse("accounts:security"))
    shot(page, f"{tag}-security-off")
    page.goto(base + reverse("accounts:two_factor_setup"))
    expect(page.locator(".qr svg")).to_be_visible()
    shot(page, f"{tag}-setup")
    # The code fits its column whole, its white margin (quiet zone) included, at any width.
    code, column = page.locator(".qr svg").bounding_box(), page.locator(".qr").bounding_box()
    assert column["x"] <= code["x"]
    assert code["x"] + code["width"] <= column["x"] + column["width"] + 0.5
    assert 150 <= code["width"] <= 240 and abs(code["width"] - code["height"]) < 1
    # Scan the QR code as a phone would: a picture of the screen, read by a QR decoder.
    picture = tmp_path / "qr.png"
    page.locator(".qr svg").screenshot(path=str(picture))
    scanned = subprocess.run(
        [shutil.which("zbarimg"), "-q", "--raw", str(picture)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert scanned.startswith("otpauth://totp/")
    secret = parse_qs(urlsplit(scanned).query)["secret"][0]
    assert secret == page.locator("code.secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)
    page.fill("#id_code", totp.now())
    page.get_by_role("button", name=words["turn_on"]).click()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    shot(page, f"{tag}-recovery-codes")
    page.get_by_role("link", name=words["saved"]).click()
    shot(page, f"{tag}-security-on")
    page.goto(base + reverse("accounts:password_change"))
    shot(page, f"{tag}-password-change")

    if page.locator(".nav-toggle-label").is_visible():  # the phone menu
        page.locator(".nav-toggle-label").click()
    page.locator(".topbar-right form button").click()
    page.wait_for_url(re.compile(r"/login/"))
    log_in(page, base, "anna")
    page.wait_for_url(base + reverse("login_verify"))
    shot(page, f"{tag}-code")
    page.fill("#id_code", totp.at(time.time() + totp.interval))
    page.get_by_role("button", name=words["log_in"]).click()
    page.wait_for_url(base + reverse("deals:board"))


def test_an_owner_is_walked_through_set_up_and_a_lockout_is_explained(
    live_server, screen, stranger, studio
):
    page, tag, _words = screen
    UserFactory(username="olga", role=User.Role.OWNER)
    base = live_server.url
    log_in(page, base, "olga")
    page.goto(base + reverse("core:settings"))
    page.wait_for_url(base + reverse("accounts:two_factor_setup"))
    expect(page.locator(".notice")).to_be_visible()
    shot(page, f"{tag}-owner-setup")

    page.goto(base + reverse("accounts:password_change"))
    page.wait_for_url(base + reverse("accounts:two_factor_setup"))

    other = stranger
    for attempt in range(10):
        other.goto(base + reverse("login"))
        other.fill("#id_username", "olga")
        other.fill("#id_password", f"guess {attempt}")
        other.locator("form.card button[type=submit]").click()
    expect(other.locator(".errors[role=alert]")).to_be_visible()
    shot(other, f"{tag}-locked")
