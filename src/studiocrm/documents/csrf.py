"""CSRF protection for forms on client pages that send ``Referrer-Policy: no-referrer``.

Those pages deliberately leak nothing about their URL (it holds the link token), so the
browser posts their own forms with ``Origin: null`` and no ``Referer``. Django's check has
two halves: the origin/referer half cannot pass for such a request, the token half can. This
check keeps the token half (the ``csrftoken`` cookie must match the form's masked token,
which no other site can read) and accepts the opaque origin and the missing referer instead
of rejecting every signature. A real foreign ``Origin`` is still refused.
"""

from __future__ import annotations

import os

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, CsrfViewMiddleware
from django.utils.decorators import decorator_from_middleware


class NoReferrerPageCsrf(CsrfViewMiddleware):
    def _origin_verified(self, request: HttpRequest) -> bool:
        if request.META.get("HTTP_ORIGIN") == "null":
            return True
        return super()._origin_verified(request)

    def _check_referer(self, request: HttpRequest) -> None:
        if not request.META.get("HTTP_REFERER"):
            return
        super()._check_referer(request)


no_referrer_csrf_protect = decorator_from_middleware(NoReferrerPageCsrf)


# Django's get_token draws every character with its own secrets.choice call (an os.urandom
# read each): 64 reads for a new cookie secret and its mask, the largest single cost of a
# reload of the client's page. The same tokens, from one read: bytes below 248 (4 × 62) map
# evenly onto the 62 allowed characters, the other 8 values are dropped.
_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {char: index for index, char in enumerate(_CHARS)}
_UNBIASED = 256 - 256 % len(_CHARS)
_TO_CHAR = bytes(ord(_CHARS[value % len(_CHARS)]) for value in range(256))
_DROPPED = bytes(range(_UNBIASED, 256))


def random_csrf_string(length: int = CSRF_SECRET_LENGTH) -> str:
    """``get_random_string(length, CSRF_ALLOWED_CHARS)``: uniform, from os.urandom."""
    found = b""
    while len(found) < length:
        found += os.urandom(length + 16).translate(_TO_CHAR, _DROPPED)
    return found[:length].decode("ascii")


def get_token(request: HttpRequest) -> str:
    """``django.middleware.csrf.get_token``: this request's masked CSRF token, with a new
    cookie secret when the browser sent none (the middleware then sets the cookie)."""
    if "CSRF_COOKIE" in request.META:
        secret = request.META["CSRF_COOKIE"]
    else:
        secret = random_csrf_string()
        request.META["CSRF_COOKIE"] = secret
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_csrf_string()
    size = len(_CHARS)
    return mask + "".join(
        _CHARS[(_INDEX[char] + _INDEX[key]) % size] for char, key in zip(secret, mask, strict=True)
    )
