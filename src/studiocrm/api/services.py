"""API tokens (create, revoke, authenticate), idempotent creates and opaque cursors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from studiocrm.api.models import ApiToken, IdempotencyRecord
from studiocrm.core import audit
from studiocrm.core.models import User

TOKEN_TAG = "scrm"  # noqa: S105 - the public tag of a token, not a secret
_PREFIX_RE = re.compile(r"[0-9a-f]{12}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{43}")
IDEMPOTENCY_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


_NO_TOKEN_HASH = _hash("no such token")


def create_token(user: User, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its full value, which is never stored or shown again.

    The value is ``scrm_<prefix>_<secret>``: a 48-bit public prefix that finds the row and a
    256-bit secret of which only the SHA-256 is kept."""
    if scope not in ApiToken.Scope.values:
        raise ValueError(scope)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip()[:100] or prefix,
            prefix=prefix,
            secret_hash=_hash(secret),
            scope=scope,
        )
        audit.record("api.token_created", token, actor=user, data={"scope": scope})
    return token, f"{TOKEN_TAG}_{prefix}_{secret}"


def revoke_token(token: ApiToken, *, actor: User) -> ApiToken:
    """Stop accepting a token at once. Revoking twice changes nothing."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit.record("api.token_revoked", token, actor=actor)
    return token


def authenticate(presented: str) -> ApiToken | None:
    """The active token of an active user matching the value, or None (a missing, wrong,
    revoked token and a deactivated user are indistinguishable to the caller)."""
    parts = (presented or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_TAG:
        return None
    prefix, secret = parts[1], parts[2]
    if not _PREFIX_RE.fullmatch(prefix) or not _SECRET_RE.fullmatch(secret):
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    expected = token.secret_hash if token is not None else _NO_TOKEN_HASH
    matches = hmac.compare_digest(_hash(secret), expected)
    if token is None or not matches or token.revoked_at is not None:
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    # One write a minute at most: reads stay reads.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


class IdempotencyKeyReused(Exception):
    code = "idempotency_key_reused"


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotent(
    token: ApiToken,
    key: str | None,
    request_fingerprint: str,
    create: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run ``create`` once per (token, key) and return (status, body, replayed).

    The record is inserted first, in the same transaction as the create: a concurrent
    request with the same key waits on the unique index until the first commits, then
    finds its record and replays the answer. A failed create (an error status) is rolled
    back with its record, so the client may fix the body and retry with the same key."""
    if key is None:
        status, body = create()
        return status, body, False
    existing = IdempotencyRecord.objects.filter(token=token, key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    token=token,
                    key=key,
                    fingerprint=request_fingerprint,
                    status_code=0,
                    response={},
                )
                status, body = create()
                if status >= 400:
                    raise _Rollback(status, body)
                record.status_code = status
                record.response = json.loads(json.dumps(body, default=str))
                record.save(update_fields=["status_code", "response"])
                return status, body, False
        except _Rollback as failed:
            return failed.status, failed.body, False
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(token=token, key=key).first()
            if existing is None:  # pragma: no cover - the other request rolled back
                raise
    if not hmac.compare_digest(existing.fingerprint, request_fingerprint):
        raise IdempotencyKeyReused
    return existing.status_code, existing.response, True


def purge_idempotency_records(hours: int = 24) -> int:
    """Forget idempotency keys older than ``hours`` (a periodic job): a retry comes within
    minutes; a day later the same key is a new request."""
    cutoff = timezone.now() - timedelta(hours=hours)
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


class _Rollback(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status, self.body = status, body


class BadCursor(ValueError):
    pass


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"v": 1, "id": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a page starts after. Raises BadCursor for anything we did not hand out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        last_id = data["id"]
    except (ValueError, TypeError, KeyError) as error:
        raise BadCursor(cursor) from error
    if not isinstance(data, dict) or data.get("v") != 1 or type(last_id) is not int:
        raise BadCursor(cursor)
    if not 0 < last_id < 2**63:
        raise BadCursor(cursor)
    return last_id
