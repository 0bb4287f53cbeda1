"""Failed logins lock the account and the client address (django-axes), with a clear page."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from studiocrm.core.models import AuditLog
from studiocrm.notifications.models import Outbox
from tests.core.real_server import PASSWORD, gunicorn, make_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = 10


def attempt(client, username, password, address="203.0.113.5", **headers):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def test_the_tenth_wrong_password_locks_the_account_and_the_right_one_is_then_refused(
    anonymous_client, manager
):
    answers = [attempt(anonymous_client, "manager", f"guess {n}") for n in range(LIMIT)]
    assert [answer.status_code for answer in answers] == [200] * (LIMIT - 1) + [429]
    assert "Too many failed logins" in answers[-1].content.decode()
    assert "15 minutes" in answers[-1].content.decode()

    locked = attempt(anonymous_client, "manager", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in anonymous_client.session


def test_a_locked_account_stays_locked_from_another_address(client, manager):
    for n in range(LIMIT):
        attempt(client, "manager", f"guess {n}", address=f"198.51.100.{n}")
    assert attempt(client, "manager", PASSWORD, address="192.0.2.77").status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_address_guessing_many_accounts_is_locked_for_every_account(client, manager):
    for n in range(LIMIT):
        attempt(client, f"someone{n}", "guess", address="203.0.113.9")
    assert attempt(client, "manager", PASSWORD, address="203.0.113.9").status_code == 429
    assert "_auth_user_id" not in client.session
    # The account itself is not locked: from elsewhere its owner logs in.
    assert attempt(client, "manager", PASSWORD, address="192.0.2.1").status_code == 302


def test_a_forged_forwarded_for_does_not_escape_the_address_lock(client, manager, settings):
    settings.USE_X_FORWARDED_FOR = False
    for n in range(LIMIT):
        attempt(client, f"someone{n}", "guess", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    answer = attempt(client, "manager", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert answer.status_code == 429


def test_behind_the_trusted_proxy_the_rightmost_forwarded_address_is_the_client(
    client, manager, settings
):
    settings.USE_X_FORWARDED_FOR = True
    proxy = "127.0.0.1"
    for n in range(LIMIT):
        attempt(
            client,
            f"someone{n}",
            "guess",
            address=proxy,
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 9.9.9.9",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"9.9.9.9"}
    blocked = attempt(client, "manager", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9")
    assert blocked.status_code == 429
    other = attempt(client, "manager", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="8.8.4.4")
    assert other.status_code == 302


def test_the_lock_ends_after_the_cool_off(client, manager):
    for n in range(LIMIT):
        attempt(client, "manager", f"guess {n}")
    assert attempt(client, "manager", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert attempt(client, "manager", PASSWORD).status_code == 302


def test_a_new_password_from_the_emailed_link_lifts_the_account_lock(client, manager):
    for n in range(LIMIT):
        attempt(client, "manager", f"guess {n}", address=f"198.51.100.{n}")
    assert attempt(client, "manager", PASSWORD).status_code == 429

    default_task_backend.clear()
    client.post(reverse("password_reset"), {"email": manager.email})
    [result] = default_task_backend.results
    result.task.call(*result.args)
    body = Outbox.objects.get(to=manager.email).body
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "a brand new passphrase 9"
    client.post(form_url, {"new_password1": new, "new_password2": new})

    assert attempt(client, "manager", new).status_code == 302
    assert AuditLog.objects.filter(verb="user.password_reset", object_id=str(manager.pk))


def test_failures_below_the_limit_do_not_lock(client):
    UserFactory(username="vera")
    for n in range(LIMIT - 1):
        attempt(client, "vera", f"guess {n}")
    assert attempt(client, "vera", PASSWORD).status_code == 302


def test_thirty_wrong_passwords_on_a_real_server_lock_the_account(prepared_site, tmp_path):
    """The attack from the report, against gunicorn with DEBUG off."""
    with gunicorn(prepared_site, tmp_path) as server:
        make_user(server.data_dir, "victim", "victim@studio.test")
        statuses = []
        for n in range(30):
            cookies, token = server.form_session("/login/")
            status, _headers, body, _set = server.request(
                "POST",
                "/login/",
                {"csrfmiddlewaretoken": token, "username": "victim", "password": f"guess{n}"},
                cookies=cookies,
            )
            statuses.append(status)
        assert statuses == [200] * (LIMIT - 1) + [429] * (30 - LIMIT + 1)
        assert "Too many failed logins" in body

        cookies, token = server.form_session("/login/")
        status, _headers, body, set_cookies = server.request(
            "POST",
            "/login/",
            {"csrfmiddlewaretoken": token, "username": "victim", "password": PASSWORD},
            cookies=cookies,
        )
        assert status == 429
        assert "sessionid" not in set_cookies
