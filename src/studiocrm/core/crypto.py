"""Encryption at rest for secrets kept in the database (provider keys, mail passwords).

Keys come from ``FIELD_ENCRYPTION_KEY`` (see settings): a list of Fernet keys, the first
encrypts, all decrypt, so a key can be rotated without downtime: put the new key first, keep
the old one after it, run ``manage.py reencrypt_fields``, then drop the old key.
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


class DecryptionFailed(Exception):
    """A stored value does not decrypt with any configured key."""


def derive_key(secret: str, purpose: str = "studiocrm field encryption") -> str:
    """A Fernet key derived from another secret with HKDF-SHA256 (development default)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw).decode("ascii")


def check_key(key: str) -> None:
    """Raise ValueError unless ``key`` is a valid Fernet key (32 url-safe base64 bytes)."""
    Fernet(key.encode("ascii"))


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode("ascii")) for key in settings.FIELD_ENCRYPTION_KEYS])


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: object) -> None:
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as error:
        raise DecryptionFailed(
            "a stored secret does not decrypt with any key in FIELD_ENCRYPTION_KEY "
            "(was a key removed before running manage.py reencrypt_fields?)"
        ) from error


def is_current(token: str) -> bool:
    """Whether ``token`` is encrypted with the first (current) key."""
    try:
        Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode("ascii")).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True
