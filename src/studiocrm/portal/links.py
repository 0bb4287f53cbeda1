"""Client links: the secret a client holds instead of an account (DESIGN.md §5).

A model that a client reaches by link (a brief, a document, an invoice) inherits the abstract
``ClientLink``. The raw token exists only in the link we hand out; the database keeps its
SHA-256, so a leaked database dump does not open any page. A token is ≥ 128 bits from
``secrets``, scoped to exactly one object, revocable, and may expire.

Usage::

    class Brief(ClientLink):
        ...

    token = brief.issue_token()        # sets token_hash; the caller saves and sends the link
    Brief.find_by_token(token)         # the usable object, or None (wrong, revoked, expired)
    revoke(brief)                      # the link stops working
    record_view(brief)                 # True on the first view (notify the manager once)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TypeVar

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# 24 bytes = 192 bits of randomness, 32 URL-safe characters.
TOKEN_BYTES = 24
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{22,128}$")

LinkT = TypeVar("LinkT", bound="ClientLink")


def new_token() -> str:
    """A fresh URL-safe link token with TOKEN_BYTES of randomness."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a token: SHA-256, lowercase hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def plausible_token(token: str) -> bool:
    """Cheap shape check so junk never reaches the database."""
    return bool(_TOKEN_SHAPE.match(token or ""))


class ClientLink(models.Model):
    """Abstract: fields and helpers for an object a client reaches by a link token."""

    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(_("link revoked at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires at"), null=True, blank=True)
    first_viewed_at = models.DateTimeField(_("first viewed at"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0)

    class Meta:
        abstract = True

    def issue_token(self) -> str:
        """Give the object a new token (the old one stops working once saved); return it."""
        token = new_token()
        self.token_hash = hash_token(token)
        return token

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
