"""Sections other apps add to the deal page, without deals importing those apps.

``settings.DEAL_PANELS`` lists dotted paths to callables ``panel(request, deal) -> str | None``.
A panel is called while the deal page renders, once per request, in the listed order. It
returns rendered HTML (escape what it interpolates: the result is inserted as is) or None to
show nothing for this deal. It must not change anything: the page is a GET. Keep it to a
bounded number of queries; it runs on every view of the deal page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString, mark_safe

from studiocrm.deals.models import Deal

log = logging.getLogger(__name__)

Panel = Callable[[HttpRequest, Deal], "str | None"]


@cache
def _load(paths: tuple[str, ...]) -> tuple[Panel, ...]:
    loaded = []
    for path in paths:
        try:
            loaded.append(import_string(path))
        except ImportError:
            log.exception("deal panel %r cannot be imported; the deal page shows without it", path)
    return tuple(loaded)


def panels() -> tuple[Panel, ...]:
    """The configured panel callables (imported once per distinct setting value)."""
    return _load(tuple(getattr(settings, "DEAL_PANELS", ())))


def render_panels(request: HttpRequest, deal: Deal) -> list[SafeString]:
    """Call every configured panel and return the non-empty HTML fragments in order.

    A panel that cannot be imported or that raises is logged and left out, so one broken
    app does not take the deal page down with it; the rest of the page and the other
    panels still show.
    """
    rendered: list[SafeString] = []
    for panel in panels():
        try:
            html = panel(request, deal)
        except Exception:
            log.exception("deal panel %r failed for deal %s", panel, deal.pk)
            continue
        if html:
            rendered.append(mark_safe(html))  # noqa: S308 - panels return rendered, escaped HTML
    return rendered
