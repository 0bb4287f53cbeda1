"""Sessions: the idle timeout, "log out everywhere" and the password-change page."""

import time

import pytest
from django.urls import reverse

from studiocrm.core.accounts.middleware import LAST_SEEN_KEY
from studiocrm.core.models import AuditLog, User
from tests.conftest import logged_in
from tests.core.real_server import PASSWORD

pytestmark = pytest.mark.django_db


def idle_for(http, minutes: float) -> None:
    session = http.session
    session[LAST_SEEN_KEY] = int(time.time() - minutes * 60)
    session.save()


def test_a_session_idle_longer_than_the_timeout_is_logged_out(manager_client, settings):
    settings.SESSION_IDLE_MINUTES = 30
    assert manager_client.get(reverse("deals:board")).status_code == 200
    idle_for(manager_client, 31)
    answer = manager_client.get(reverse("deals:board"), follow=True)
    assert answer.redirect_chain[-1][0].startswith(reverse("login"))
    assert "after 30 minutes without activity" in answer.content.decode()
    assert "_auth_user_id" not in manager_client.session


def test_activity_within_the_timeout_keeps_the_session(manager_client, settings):
    settings.SESSION_IDLE_MINUTES = 30
    manager_client.get(reverse("deals:board"))
    idle_for(manager_client, 29)
    assert manager_client.get(reverse("deals:board")).status_code == 200
    # The request counted as activity: the clock starts again.
    assert time.time() - manager_client.session[LAST_SEEN_KEY] < 5


def test_log_out_everywhere_ends_every_session_of_the_user_only(manager, other_manager):
    laptop, phone, colleague = logged_in(manager), logged_in(manager), logged_in(other_manager)
    answer = laptop.post(reverse("accounts:logout_everywhere"))
    assert answer["Location"] == reverse("login")
    for http in (laptop, phone):
        assert http.get(reverse("deals:board"))["Location"].startswith(reverse("login"))
    assert colleague.get(reverse("deals:board")).status_code == 200
    assert AuditLog.objects.filter(verb="user.logged_out_everywhere", actor=manager).count() == 1
    # Logging in again works and is not ended by the old generation.
    fresh = type(laptop)()
    fresh.post(reverse("login"), {"username": "manager", "password": PASSWORD})
    assert fresh.get(reverse("deals:board")).status_code == 200


def test_log_out_everywhere_takes_a_post_from_the_user_and_nothing_else(
    anonymous_client, manager, manager_client
):
    assert manager_client.get(reverse("accounts:logout_everywhere")).status_code == 405
    anonymous_client.post(reverse("accounts:logout_everywhere"))
    manager.refresh_from_db()
    assert manager.session_generation == 0
    assert manager_client.get(reverse("deals:board")).status_code == 200


def change(http, old, new, repeat=None):
    return http.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": repeat or new},
    )


def test_changing_the_password_ends_the_other_sessions_but_keeps_this_one(manager):
    laptop, phone = logged_in(manager), logged_in(manager)
    answer = change(laptop, PASSWORD, "a new long passphrase 7")
    assert answer["Location"] == reverse("accounts:security")
    manager.refresh_from_db()
    assert manager.check_password("a new long passphrase 7")
    assert laptop.get(reverse("deals:board")).status_code == 200
    assert phone.get(reverse("deals:board"))["Location"].startswith(reverse("login"))
    assert AuditLog.objects.filter(verb="user.password_changed", actor=manager).count() == 1


@pytest.mark.parametrize(
    ("old", "new", "repeat", "message"),
    [
        ("wrong old one", "a new long passphrase 7", None, "old password was entered incorrectly"),
        (PASSWORD, "short", None, "too short"),
        (PASSWORD, "password123", None, "too common"),
        (PASSWORD, "a new long passphrase 7", "another one entirely", "didn’t match"),
    ],
)
def test_a_refused_password_change_changes_nothing(manager, old, new, repeat, message):
    laptop, phone = logged_in(manager), logged_in(manager)
    answer = change(laptop, old, new, repeat)
    assert answer.status_code == 200
    assert message in answer.content.decode()
    assert User.objects.get(pk=manager.pk).check_password(PASSWORD)
    assert phone.get(reverse("deals:board")).status_code == 200
    assert not AuditLog.objects.filter(verb="user.password_changed").exists()


def test_the_security_page_shows_the_account_settings_in_russian(manager_client):
    manager_client.cookies["django_language"] = "ru"
    page = manager_client.get(reverse("accounts:security")).content.decode()
    assert "Двухфакторная аутентификация" in page
    assert "Выйти на всех устройствах" in page
