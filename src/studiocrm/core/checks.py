"""Start-up checks of the deployment shape."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def cache_is_shared() -> bool:
    return settings.CACHES["default"]["BACKEND"] not in LOCAL_CACHES


def shared_cache_problem(processes: int) -> str | None:
    """Why `processes` web processes cannot run with this cache, or None."""
    if processes <= 1 or cache_is_shared():
        return None
    return (
        f"{processes} web processes with a per-process cache: every process would count "
        "rate limits (lead form, client links, password resets) on its own, letting "
        f"{processes}× the limit through. Set CACHE_URL=redis://host:6379/0 (a cache all "
        "processes share), or run one process."
    )


@checks.register(checks.Tags.caches)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    problem = shared_cache_problem(settings.WEB_CONCURRENCY)
    if problem is None:
        return []
    return [
        checks.Error(
            f"WEB_CONCURRENCY={settings.WEB_CONCURRENCY}: {problem}",
            id="studiocrm.E001",
        )
    ]
