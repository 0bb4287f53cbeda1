"""CSRF protection for forms on client pages that send ``Referrer-Policy: no-referrer``.

Those pages deliberately leak nothing about their URL (it holds the link token), so the
browser posts their own forms with ``Origin: null`` and no ``Referer``. Django's check has
two halves: the origin/referer half cannot pass for such a request, the token half can. This
check keeps the token half (the ``csrftoken`` cookie must match the form's masked token,
which no other site can read) and accepts the opaque origin and the missing referer instead
of rejecting every signature. A real foreign ``Origin`` is still refused.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
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
