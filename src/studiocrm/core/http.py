"""Request helpers shared by public endpoints."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def client_ip(request: HttpRequest) -> str:
    """The client's address.

    Behind a reverse proxy (USE_X_FORWARDED_FOR=true) the proxy appends the address it saw
    to X-Forwarded-For; earlier entries come from the client and can be forged, so the
    rightmost entry is the one to trust (a single trusted proxy in front of the app).
    """
    if settings.USE_X_FORWARDED_FOR:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")


def safe_next(request: HttpRequest, default: str) -> str:
    """Where to go back to after a POST: the ``next`` parameter if it points at this site,
    else ``default`` (never an open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
