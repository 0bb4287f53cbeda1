"""One code presented twice at the same moment (a replay racing the real login): one wins."""

import base64
import threading
import time

import pyotp
import pytest
from django.db import connection, connections
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from studiocrm.core.accounts import services
from tests.factories import UserFactory, with_authenticator

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs real row locks between connections: run with DATABASE_URL=postgres://…",
    ),
]


def race(user, code, attempts=4):
    barrier = threading.Barrier(attempts)
    results, errors = [], []

    def present():
        try:
            barrier.wait(timeout=10)
            results.append(services.verify_code(user, code) is not None)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=present) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return sorted(results)


def test_one_authenticator_code_presented_four_times_at_once_is_accepted_once(studio):
    user = UserFactory(username="vera")
    device = with_authenticator(user)
    totp = pyotp.TOTP(base64.b32encode(device.bin_key).decode())
    assert race(user, totp.at(time.time() + 30)) == [False, False, False, True]


def test_one_recovery_code_presented_four_times_at_once_is_accepted_once(studio):
    user = UserFactory(username="vera")
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    StaticToken.objects.create(device=device, token="abcd2345")
    assert race(user, "abcd2345") == [False, False, False, True]
    assert not StaticToken.objects.exists()
