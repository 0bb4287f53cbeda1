"""State changes of a user's own account: two-factor devices, sessions, password.

Two-factor authentication uses django-otp: one TOTP device (an authenticator app) and one
static device holding single-use recovery codes. Owners must have it, managers may. Codes are
checked under a row lock on the user's devices, so one code cannot be used twice at once.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from studiocrm.core import audit
from studiocrm.core.models import User

AUTHENTICATOR_NAME = "authenticator"
RECOVERY_NAME = "recovery"
RECOVERY_CODE_COUNT = 10


class TwoFactorError(Exception):
    """A two-factor change the user asked for cannot be made; the message says why."""


def has_two_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def two_factor_required(user: User) -> bool:
    """Owners configure payments and users: their accounts must have a second factor."""
    return user.is_owner


def normalise_code(code: str) -> str:
    """Codes as people type them: spaces and dashes dropped, letters lower-case."""
    return "".join(code.split()).replace("-", "").lower()


def pending_authenticator(user: User) -> TOTPDevice:
    """The authenticator being set up: the same secret until it is confirmed, so reloading
    the set-up page shows the QR code the user may already have scanned."""
    device = (
        TOTPDevice.objects.filter(user=user, confirmed=False, name=AUTHENTICATOR_NAME)
        .order_by("-id")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _index in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def enable_two_factor(user: User, device_id: int, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the authenticator being set up with a code from it; return the device and a
    fresh set of recovery codes (shown once). Raises TwoFactorError on a wrong code."""
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user=user, confirmed=False)
            .first()
        )
        if device is None or not device.verify_token(normalise_code(code)):
            raise TwoFactorError(_("That code is not valid. Check the time on your phone."))
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit.record("user.two_factor_enabled", user, actor=user)
    return device, codes


def verify_code(user: User, code: str) -> Device | None:
    """The device a code belongs to, consuming it, or None.

    Six digits are an authenticator code (each accepted once: a code already used, even
    within its 30 seconds, is refused); anything else is tried as a recovery code, which is
    deleted when used. Each device slows down after wrong codes (django-otp throttling)."""
    code = normalise_code(code)
    if not code or len(code) > 16:
        return None
    with transaction.atomic():
        # The user row is the lock every code check of this user queues on.
        User.objects.select_for_update().get(pk=user.pk)
        if code.isdigit() and len(code) == 6:
            devices: list[Device] = list(TOTPDevice.objects.filter(user=user, confirmed=True))
        else:
            devices = list(StaticDevice.objects.filter(user=user, confirmed=True))
        for device in devices:
            if device.verify_token(code):
                if isinstance(device, StaticDevice):
                    audit.record("user.recovery_code_used", user, actor=user)
                return device
    return None


def codes_on_hold(user: User) -> bool:
    """Whether wrong codes in a row made the user's devices wait before the next try
    (django-otp doubles the wait after each wrong code: 1 s, 2 s, 4 s…)."""
    devices: list[Device] = [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]
    return any(not device.verify_is_allowed()[0] for device in devices)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def regenerate_recovery_codes(user: User) -> list[str]:
    """A new set of recovery codes; the old ones stop working."""
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        if not has_two_factor(user):
            raise TwoFactorError(_("Two-factor authentication is not on."))
        codes = _new_recovery_codes(user)
        audit.record("user.recovery_codes_regenerated", user, actor=user)
    return codes


def disable_two_factor(user: User, code: str) -> None:
    """Turn two-factor authentication off, proven with a current code. Owners cannot."""
    if two_factor_required(user):
        raise TwoFactorError(_("Owners must keep two-factor authentication on."))
    if verify_code(user, code) is None:
        raise TwoFactorError(_("That code is not valid."))
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.record("user.two_factor_disabled", user, actor=user)


def log_out_everywhere(user: User) -> None:
    """End every session of the user, on every device (this one included)."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
        audit.record("user.logged_out_everywhere", user, actor=user)
    user.refresh_from_db(fields=["session_generation"])


def record_password_changed(user: User) -> None:
    audit.record("user.password_changed", user, actor=user)


def password_was_reset(user: User) -> None:
    """A new password set from the emailed link: the account's login lockout ends (its
    owner proved they read the account's mail); a lock on an address stays."""
    from axes.utils import reset as reset_failed_logins

    reset_failed_logins(username=user.get_username())
    audit.record("user.password_reset", user, actor=user)
