"""Two-factor authentication: managers may turn it on, owners must; codes are real TOTP."""

import re
import time
from io import StringIO

import pyotp
import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from studiocrm.core.accounts import services
from studiocrm.core.accounts.views import PENDING_KEY
from studiocrm.core.models import AuditLog, User
from tests.conftest import logged_in
from tests.core.real_server import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def secret_on(page: str) -> str:
    """The base32 key the set-up page shows for typing into an app."""
    match = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)
    assert match, page
    return match.group(1).replace(" ", "")


def enable(http) -> tuple[pyotp.TOTP, list[str]]:
    page = http.get(reverse("accounts:two_factor_setup")).content.decode()
    totp = pyotp.TOTP(secret_on(page))
    answer = http.post(reverse("accounts:two_factor_setup"), {"code": totp.now()})
    assert answer.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", answer.content.decode())
    return totp, codes


def password_step(http, username="manager"):
    return http.post(reverse("login"), {"username": username, "password": PASSWORD})


def next_code(totp: pyotp.TOTP) -> str:
    """A code of the next time step (accepted within the one-step tolerance), so a test does
    not collide with a code already used in this step."""
    return totp.at(time.time() + totp.interval)


def seconds_pass():
    """Wrong codes make a device wait (1 s, 2 s, 4 s…) before the next try: skip the wait."""
    TOTPDevice.objects.update(throttling_failure_timestamp=None)
    StaticDevice.objects.update(throttling_failure_timestamp=None)


def test_a_manager_turns_on_two_factor_with_a_scanned_qr_code(manager_client, manager):
    page = manager_client.get(reverse("accounts:two_factor_setup")).content.decode()
    assert "<svg" in page
    config = TOTPDevice.objects.get(user=manager).config_url
    assert "issuer=Test%20Studio%20%28studiocrm%29" in config

    totp, codes = enable(manager_client)

    device = TOTPDevice.objects.get(user=manager)
    assert device.confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(codes)
    assert AuditLog.objects.filter(verb="user.two_factor_enabled", object_id=str(manager.pk))
    assert manager_client.get(reverse("deals:board")).status_code == 200


def test_a_wrong_code_at_set_up_turns_nothing_on(manager_client, manager):
    manager_client.get(reverse("accounts:two_factor_setup"))
    answer = manager_client.post(reverse("accounts:two_factor_setup"), {"code": "000000"})
    assert answer.status_code == 200
    assert "not valid" in answer.content.decode()
    assert not TOTPDevice.objects.filter(user=manager, confirmed=True).exists()
    assert not StaticDevice.objects.exists()
    assert not AuditLog.objects.filter(verb="user.two_factor_enabled").exists()


def test_login_with_two_factor_needs_the_code_after_the_password(manager_client, client, manager):
    totp, _codes = enable(manager_client)

    answer = password_step(client)
    assert answer["Location"] == reverse("login_verify")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("deals:board")).status_code == 302

    wrong = client.post(reverse("login_verify"), {"code": "123456"})
    assert wrong.status_code == 200 and "not valid" in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    held = client.post(reverse("login_verify"), {"code": next_code(totp)})
    assert "Wait a few seconds" in held.content.decode()
    assert "_auth_user_id" not in client.session

    seconds_pass()
    right = client.post(reverse("login_verify"), {"code": next_code(totp)})
    assert right["Location"] == reverse("deals:board")
    assert client.session["_auth_user_id"] == str(manager.pk)
    assert client.get(reverse("deals:board")).status_code == 200


def test_a_code_already_used_is_refused(manager_client, client, manager):
    totp, _codes = enable(manager_client)
    code = next_code(totp)
    password_step(client)
    assert client.post(reverse("login_verify"), {"code": code}).status_code == 302

    replay = logged_out_client = type(client)()
    password_step(logged_out_client)
    replay = logged_out_client.post(reverse("login_verify"), {"code": code})
    assert replay.status_code == 200
    assert "_auth_user_id" not in logged_out_client.session


def test_a_recovery_code_logs_in_once(manager_client, client, manager):
    _totp, codes = enable(manager_client)
    password_step(client)
    used = client.post(reverse("login_verify"), {"code": codes[0].upper()})
    assert used.status_code == 302
    assert StaticToken.objects.count() == 9
    assert AuditLog.objects.filter(verb="user.recovery_code_used").count() == 1

    again = type(client)()
    password_step(again)
    answer = again.post(reverse("login_verify"), {"code": codes[0]})
    assert answer.status_code == 200
    assert "_auth_user_id" not in again.session
    assert StaticToken.objects.count() == 9


def test_new_recovery_codes_replace_the_old_ones(manager_client, manager):
    _totp, old = enable(manager_client)
    answer = manager_client.post(reverse("accounts:recovery_codes"))
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", answer.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)


def test_five_wrong_codes_end_the_login_attempt(manager_client, client, manager):
    enable(manager_client)
    password_step(client)
    for _attempt in range(4):
        assert client.post(reverse("login_verify"), {"code": "111111"}).status_code == 200
    last = client.post(reverse("login_verify"), {"code": "111111"})
    assert last["Location"] == reverse("login")
    assert PENDING_KEY not in client.session
    assert client.get(reverse("login_verify"))["Location"] == reverse("login")


def test_the_code_page_expires(manager_client, client, manager):
    totp, _codes = enable(manager_client)
    password_step(client)
    session = client.session
    session[PENDING_KEY] = {**session[PENDING_KEY], "at": time.time() - 301}
    session.save()
    answer = client.post(reverse("login_verify"), {"code": next_code(totp)})
    assert answer["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_an_owner_without_two_factor_is_walked_through_set_up_first(client, studio):
    UserFactory(username="olga", role=User.Role.OWNER)
    assert client.post(reverse("login"), {"username": "olga", "password": PASSWORD}).status_code
    setup = reverse("accounts:two_factor_setup")
    for page in ("deals:board", "core:settings", "core:users", "accounts:security"):
        answer = client.get(reverse(page))
        assert (answer.status_code, answer["Location"]) == (302, setup), page
    assert "Owners need two-factor" in client.get(setup).content.decode()

    enable(client)
    assert client.get(reverse("core:settings")).status_code == 200


def test_an_owner_cannot_turn_two_factor_off(client, studio):
    olga = UserFactory(username="olga", role=User.Role.OWNER)
    client.force_login(olga)
    totp, _codes = enable(client)
    client.post(reverse("accounts:two_factor_disable"), {"code": next_code(totp)})
    assert TOTPDevice.objects.filter(user=olga, confirmed=True).exists()
    assert not AuditLog.objects.filter(verb="user.two_factor_disabled").exists()


def test_a_manager_turns_two_factor_off_only_with_a_valid_code(manager_client, manager):
    totp, _codes = enable(manager_client)
    manager_client.post(reverse("accounts:two_factor_disable"), {"code": "999999"})
    assert TOTPDevice.objects.filter(user=manager, confirmed=True).exists()
    seconds_pass()

    manager_client.post(reverse("accounts:two_factor_disable"), {"code": next_code(totp)})
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()
    assert AuditLog.objects.filter(verb="user.two_factor_disabled").count() == 1


def test_a_session_opened_before_two_factor_was_turned_on_is_logged_out(manager, studio):
    laptop, phone = logged_in(manager), logged_in(manager)
    enable(laptop)
    assert laptop.get(reverse("deals:board")).status_code == 200
    answer = phone.get(reverse("deals:board"))
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in phone.session


def test_wrong_codes_count_towards_the_login_lockout(manager_client, client, manager):
    totp, _codes = enable(manager_client)
    for _round in range(2):
        password_step(client)
        for _attempt in range(5):
            client.post(reverse("login_verify"), {"code": "222222"})
    seconds_pass()
    assert password_step(client).status_code == 429
    client.post(reverse("login_verify"), {"code": next_code(totp)})
    assert "_auth_user_id" not in client.session


def test_an_owner_who_lost_the_phone_logs_in_with_a_server_code_and_moves_to_a_new_one(
    client, studio
):
    olga = UserFactory(username="olga", role=User.Role.OWNER)
    client.force_login(olga)
    old_phone, _codes = enable(client)
    client.logout()

    out = StringIO()
    call_command("addstatictoken", "olga", stdout=out)
    password_step(client, "olga")
    assert client.post(reverse("login_verify"), {"code": out.getvalue().strip()}).status_code == 302

    page = client.get(reverse("accounts:two_factor_setup")).content.decode()
    new_phone = pyotp.TOTP(secret_on(page))
    assert new_phone.secret != old_phone.secret
    client.post(reverse("accounts:two_factor_setup"), {"code": new_phone.now()})
    assert TOTPDevice.objects.filter(user=olga).count() == 1
    assert services.verify_code(olga, next_code(old_phone)) is None
    seconds_pass()
    assert services.verify_code(olga, next_code(new_phone)) is not None
