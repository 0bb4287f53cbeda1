"""Pages behind a client link: one decorator that finds the object, or answers 404.

::

    @client_link_page(Brief, on_first_view=record_first_view)
    def brief_page(request, brief): ...

    path("b/<str:token>/", brief_page, name="brief")

The decorator:

- looks the object up by the ``token`` URL argument; a wrong, revoked or expired token gets
  the same 404 page, byte for byte, so a response never tells which of them it was;
- counts those 404s per client IP (django-ratelimit on the cache) and answers 429 to an IP
  over ``PORTAL_NOT_FOUND_RATE`` for every token page, valid tokens included, so guessing
  cannot be continued by switching to a known-good link;
- on GET (not HEAD) of a page with ``count_views``, records the view; the first view calls
  ``on_first_view(obj)`` once (the notification itself should use an outbox dedupe key too);
  nothing else may change on GET;
- turns an Http404 raised by the view into the same 404 page;
- exempts the view from Django's CSRF check: the unguessable token in the URL is itself the
  anti-forgery secret (a site that does not know it cannot aim a request at the page), and
  with ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` on form posts, which
  Django's check would refuse; client pages therefore set no cookies at all;
- renders in the object's ``language`` (else the studio's) and the studio's time zone;
- adds ``Referrer-Policy: no-referrer``, ``X-Robots-Tag: noindex, nofollow``,
  ``Cache-Control: no-store`` and a Content-Security-Policy that allows only our origin.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django_ratelimit import core as ratelimit_core
from django_ratelimit.core import is_ratelimited

from studiocrm.core.models import Studio
from studiocrm.portal.links import ClientLink, record_view

LinkT = TypeVar("LinkT", bound=ClientLink)
View = Callable[..., HttpResponse]

RATELIMIT_GROUP = "portal-not-found"
DEFAULT_NOT_FOUND_RATE = "20/m"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def protect(response: HttpResponse) -> HttpResponse:
    """The headers every client-link response carries."""
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def render_portal(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    """Render a client page with the studio (name, logo) in the context."""
    return render(request, template, {"studio": Studio.load(), **(context or {})}, status=status)


def _rate() -> str:
    return getattr(settings, "PORTAL_NOT_FOUND_RATE", DEFAULT_NOT_FOUND_RATE)


# An address with no refused link in this window (its counter read as 0) is remembered in
# this process for this long, so a client reloading a page does not ask the cache every time
# (nor build the counter's key). A refused link counted in this process forgets them all at
# once; one counted in another process blocks the good links here at most this much later.
# Refused links themselves are always counted and checked in the cache. A new window starts
# its counter at 0, so remembering an address across a window's end changes nothing.
CLEAN_ADDRESS_SECONDS = 1.0
_clean_until: dict[Any, float] = {}


def _over_limit(request: HttpRequest, *, increment: bool) -> bool:
    if increment:
        _clean_until.clear()
    return is_ratelimited(
        request, group=RATELIMIT_GROUP, key="ip", rate=_rate(), increment=increment
    )


@functools.cache
def _import_address_function(path: str) -> Callable[[HttpRequest], str]:
    return import_string(path)


def _limiter_address(request: HttpRequest) -> str | None:
    """The address django-ratelimit keys this request on, before its netmask: the value of
    ``RATELIMIT_IP_META_KEY`` when that names a function (ours: ``core.http.client_ip``)."""
    setting = getattr(settings, "RATELIMIT_IP_META_KEY", None)
    if isinstance(setting, str) and "." in setting:
        return _import_address_function(setting)(request) or None
    return None


def _limit_reached(request: HttpRequest) -> bool:
    """``_over_limit(request, increment=False)`` in one cache read instead of two.

    django-ratelimit's read-only check first adds the counter (at 0) and then reads it: two
    round trips to the cache on every client page. Reading the counter it keeps (same key:
    group, rate, IP, window) answers the same question; a missing counter counts 0.
    """
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return False
    rate = _rate()
    now = time.monotonic()
    address = _limiter_address(request)
    if address is not None and _clean_until.get((rate, address), 0.0) > now:
        return False
    limit, period = ratelimit_core._split_rate(rate)
    value = ratelimit_core._SIMPLE_KEYS["ip"](request)
    key = ratelimit_core._make_cache_key(
        RATELIMIT_GROUP,
        ratelimit_core._get_window(value, period),
        rate,
        value,
        ratelimit_core.ALL,
    )
    if address is None and _clean_until.get(key, 0.0) > now:
        return False
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    count = cache.get(key) or 0
    if count == 0:
        if len(_clean_until) > 10_000:
            _clean_until.clear()
        _clean_until[(rate, address) if address is not None else key] = now + CLEAN_ADDRESS_SECONDS
    return count > limit


def not_found(request: HttpRequest, *, count: bool = True) -> HttpResponse:
    """The one 404 for every bad link. Counts toward the IP's limit unless ``count`` is
    False (a good token asking for something that is not there)."""
    if count and _over_limit(request, increment=True):
        return too_many(request)
    with translation.override(Studio.load().locale):
        return protect(render_portal(request, "portal/not_found.html", status=404))


def too_many(request: HttpRequest) -> HttpResponse:
    with translation.override(Studio.load().locale):
        response = render_portal(request, "portal/too_many.html", status=429)
    response["Retry-After"] = "60"
    return protect(response)


def client_link_page(
    model: type[LinkT],
    *,
    on_first_view: Callable[[LinkT], None] | None = None,
    count_views: bool = True,
    queryset: Callable[[], Any] | None = None,
    lookup: Callable[[str], LinkT | None] | None = None,
) -> Callable[[View], View]:
    """Decorate a view ``view(request, obj, **kwargs)`` reached by ``<str:token>`` in the URL.

    ``queryset`` (a callable returning a queryset of ``model``) narrows or prefetches the
    lookup. ``lookup`` (a callable token → usable object or None, with the semantics of
    ``ClientLink.find_by_token``) replaces the lookup, e.g. to read more in the same query.
    ``on_first_view`` runs once, the first time the page is shown, after the view
    record is written; it must be idempotent (use an outbox dedupe key) and must not raise
    for a missing recipient.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
            if _limit_reached(request):
                return too_many(request)
            link = (
                lookup(token)
                if lookup is not None
                else model.find_by_token(token, queryset() if queryset else None)
            )
            if link is None:
                return not_found(request)
            studio = Studio.load()
            language = getattr(link, "language", "") or studio.locale
            with translation.override(language), timezone.override(studio.time_zone):
                if count_views and request.method == "GET":
                    first = record_view(link)
                    if first and on_first_view is not None:
                        on_first_view(link)
                try:
                    response = view(request, link, **kwargs)
                except Http404:
                    return not_found(request, count=False)
            response.headers.setdefault("Content-Language", language)
            return protect(response)

        wrapper.csrf_exempt = True  # type: ignore[attr-defined]
        return wrapper

    return decorator
