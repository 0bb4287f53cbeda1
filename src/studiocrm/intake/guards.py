"""Checks every public intake endpoint runs before it looks at a submission: the rate limit
(per client address, and per API key) and the body size, both before anything is parsed.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from studiocrm.core.http import client_ip

# One per-address budget for all three channels, so a bot cannot multiply it by switching.
IP_GROUP = "intake:ip"
KEY_GROUP = "intake:key"


class BodyTooLarge(Exception):
    pass


class BadBody(Exception):
    pass


def _rate(group: str, request: HttpRequest) -> str:
    # Read on every call so a changed setting (and override_settings in tests) applies.
    return settings.INTAKE_RATE


def address_key(group: str, request: HttpRequest) -> str:
    """The client address (settings.RATELIMIT_IP_META_KEY decides how it is found), IPv6
    reduced to its /64. A value that is not an address (a forged X-Forwarded-For) counts
    in one shared bucket instead of failing the request."""
    raw = client_ip(request)
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unparseable"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _wait(request: HttpRequest, group: str, key: object) -> int:
    usage = get_usage(request, group=group, key=key, rate=_rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return 0
    return max(int(usage["time_left"]), 1)


def throttle_address(request: HttpRequest) -> int:
    """Count this request against the client address. Returns 0 while under
    settings.INTAKE_RATE, else the seconds until the window resets (for Retry-After)."""
    return _wait(request, IP_GROUP, address_key)


def throttle_api_key(request: HttpRequest, api_key_id: int) -> int:
    """Count this request against an API key, like throttle_address."""
    return _wait(request, KEY_GROUP, lambda group, request: str(api_key_id))


def read_body(request: HttpRequest) -> bytes:
    """The request body, refusing (BodyTooLarge) anything over INTAKE_MAX_BODY_BYTES by the
    declared Content-Length before reading and by the actual size after."""
    limit = settings.INTAKE_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(declared)
    except ValueError:
        raise BadBody("Content-Length is not a number.") from None
    if length > limit:
        raise BodyTooLarge
    try:
        body = request.body
    except RequestDataTooBig:
        raise BodyTooLarge from None
    if len(body) > limit:
        raise BodyTooLarge
    return body
