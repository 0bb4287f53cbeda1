"""Show and read times in the studio's time zone on manager pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from studiocrm.core.models import Studio


def studio_time(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Activate Studio.time_zone for the view: due dates typed into forms and 'today'
    mean the studio's local time, and dates render in it."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(Studio.load().time_zone):
            return view(request, *args, **kwargs)

    return wrapper
