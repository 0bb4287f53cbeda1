import hashlib

import pytest

from studiocrm.core.models import AuditLog
from studiocrm.intake import services
from studiocrm.intake.models import ApiKey

pytestmark = pytest.mark.django_db


def test_a_new_key_authenticates_and_only_its_hash_is_stored(api_key):
    key, secret = api_key

    assert services.authenticate_api_key(secret) == key
    stored = ApiKey.objects.get()
    assert secret not in (stored.secret_hash, stored.prefix, stored.name)
    assert stored.secret_hash == hashlib.sha256(secret.split("_", 2)[2].encode()).hexdigest()
    assert secret.startswith(f"sck_{stored.prefix}_")


def test_the_secret_part_carries_at_least_128_random_bits(owner):
    _key, secret = services.create_api_key("x", actor=owner)
    _other, another = services.create_api_key("y", actor=owner)

    random_part = secret.split("_", 2)[2]
    assert len(random_part) * 6 >= 128  # URL-safe base64: 6 bits per character
    assert random_part != another.split("_", 2)[2]


def test_authenticating_marks_the_key_as_used(api_key):
    key, secret = api_key
    assert key.last_used_at is None

    services.authenticate_api_key(secret)

    key.refresh_from_db()
    assert key.last_used_at is not None


def test_a_wrong_secret_with_a_real_prefix_does_not_authenticate(api_key):
    key, secret = api_key
    wrong = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")

    assert services.authenticate_api_key(wrong) is None
    key.refresh_from_db()
    assert key.last_used_at is None


def test_a_revoked_key_does_not_authenticate(api_key, owner):
    key, secret = api_key

    services.revoke_api_key(key, actor=owner)

    assert services.authenticate_api_key(secret) is None
    assert AuditLog.objects.filter(verb="intake.api_key_revoked", object_id=str(key.pk)).exists()


def test_revoking_twice_keeps_the_first_revocation_time(api_key, owner):
    key, _secret = api_key
    first = services.revoke_api_key(key, actor=owner).revoked_at

    again = services.revoke_api_key(key, actor=owner)

    assert again.revoked_at == first
    assert AuditLog.objects.filter(verb="intake.api_key_revoked").count() == 1


@pytest.mark.parametrize(
    "presented",
    [
        "",
        "   ",
        "sck",
        "sck__",
        "Bearer",
        "sck_zzzzzzzzzzzz_" + "a" * 43,
        "x" * 5000,
        "sck_\u00e9_\ud800",
    ],
)
def test_garbage_never_authenticates(api_key, presented):
    assert services.authenticate_api_key(presented) is None
