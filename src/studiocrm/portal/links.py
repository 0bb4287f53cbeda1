"""Client links: the secret a client holds instead of an account (DESIGN.md §5).

A model that a client reaches by link (a brief, a document, an invoice) inherits the abstract
``ClientLink``. The token is scoped to exactly one object, revocable and may expire.

How tokens are made and stored: each link has a random salt of 128 bits from ``secrets``
(``token_salt``); the token is HMAC-SHA256(SECRET_KEY, salt), URL-safe (43 characters). The
database keeps the salt and the token's SHA-256 (``token_hash``, unique, the lookup key) but
never the token, so a database dump alone opens no page. Because the token can be derived
again from the salt, the studio can send the same link later (reminders, "please add X",
"copy link") without storing it. Rotating SECRET_KEY keeps links working as long as the old key
stays in SECRET_KEY_FALLBACKS; ``issue_token`` gives a fresh link (the old one stops working).

Usage::

    class Brief(ClientLink):
        ...

    token = brief.issue_token()        # sets salt and hash; the caller saves, then sends
    brief.link_token()                 # the same token again, for a later email
    Brief.find_by_token(token)         # the usable object, or None (wrong, revoked, expired)
    revoke(brief)                      # the link stops working
    record_view(brief)                 # True on the first view only (notify the manager once)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# 16 bytes = 128 bits of randomness in every link.
SALT_BYTES = 16
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{22,128}$")

LinkT = TypeVar("LinkT", bound="ClientLink")


class LinkTokenLost(Exception):
    """The token cannot be derived any more (SECRET_KEY changed without a fallback)."""


def new_salt() -> str:
    """Fresh randomness for a link: SALT_BYTES from ``secrets``, as hex."""
    return secrets.token_hex(SALT_BYTES)


def derive_token(salt: str, key: str | bytes | None = None) -> str:
    """The link token for a salt: HMAC-SHA256 under the secret key, URL-safe base64."""
    key = settings.SECRET_KEY if key is None else key
    key_bytes = key.encode("utf-8") if isinstance(key, str) else key
    digest = hmac.new(key_bytes, f"studiocrm.clientlink:{salt}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode("ascii")


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256, lowercase hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def plausible_token(token: str) -> bool:
    """Cheap shape check so junk never reaches the database."""
    return bool(_TOKEN_SHAPE.match(token or ""))


class ClientLink(models.Model):
    """Abstract: fields and helpers for an object a client reaches by a link token."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_salt = models.CharField(max_length=64, editable=False, default="")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(_("link revoked at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    first_viewed_at = models.DateTimeField(_("first viewed at"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        abstract = True

    def issue_token(self) -> str:
        """Give the object a new token (the old one stops working once saved); return it."""
        self.token_salt = new_salt()
        token = derive_token(self.token_salt)
        self.token_hash = hash_token(token)
        return token

    def link_token(self) -> str:
        """The current token again (for a later email). Raises LinkTokenLost if no known key
        derives it; then ``issue_token`` a new one."""
        keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        for key in keys:
            token = derive_token(self.token_salt, key)
            if hmac.compare_digest(hash_token(token), self.token_hash):
                return token
        raise LinkTokenLost(f"{self._meta.label} {self.pk}: link token cannot be derived")

    @property
    def link_is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    @classmethod
    def find_by_token(
        cls: type[LinkT], token: str, queryset: models.QuerySet[LinkT] | None = None
    ) -> LinkT | None:
        """The usable object this token opens, or None. Wrong, revoked and expired tokens
        are indistinguishable to the caller."""
        if not plausible_token(token):
            return None
        wanted = hash_token(token)
        found = (
            (queryset if queryset is not None else cls._default_manager.all())
            .filter(token_hash=wanted)
            .first()
        )
        # The index lookup already matched; the explicit constant-time comparison keeps the
        # semantics obvious should the lookup ever become a prefix or case-insensitive match.
        if found is None or not hmac.compare_digest(found.token_hash, wanted):
            return None
        return found if found.link_is_usable else None


def revoke(link: ClientLink) -> None:
    """Stop the link from working. Idempotent: the first revocation time is kept."""
    now = timezone.now()
    type(link)._default_manager.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=now)
    link.revoked_at = link.revoked_at or now


def record_view(link: ClientLink) -> bool:
    """Count a view of the page behind the link. Returns True only for the very first view,
    decided by a conditional update so two simultaneous first views yield one True."""
    manager = type(link)._default_manager
    now = timezone.now()
    with transaction.atomic():
        first = bool(
            manager.filter(pk=link.pk, first_viewed_at__isnull=True).update(first_viewed_at=now)
        )
        manager.filter(pk=link.pk).update(view_count=F("view_count") + 1)
    if first:
        link.first_viewed_at = now
    link.view_count = (link.view_count or 0) + 1
    return first
