"""Per-process memory in front of the shared cache for the client's document page.

Every reload of a client page used to make four round trips to the shared cache (Redis in
production): the rate limit, the visit marker, the page's HTML. Two of them can be answered
from this process's memory without changing what any process sees:

- ``parts``: the page's HTML under its cache key, kept here as UTF-8 bytes already cut
  where each response's CSRF token goes (the shared cache holds the text). The key is a hash
  of everything the page shows (every stamp of the document, its deal, the studio, the
  language), so a key never names two different pages: whatever another process changes
  gives a new key, and an entry here can only be unused, never stale. Bounded in entries and
  kept no longer than the shared cache keeps it.
- ``remember_key``/``known_key``: the page key computed from a request's raw inputs (the
  document row with its stamps as the database returned it, the studio row, the language…),
  so a reload with the same inputs skips hashing them again. Same inputs, same key: an entry
  is never stale either.
- ``add_once``: ``cache.add`` for a marker that only has to exist for a while (one counted
  visit per reader per window). Once this process knows until when the marker exists in the
  shared cache, it answers "already there" without asking again until then.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

HTML_ENTRIES = 64
KEY_ENTRIES = 256
# Markers this process remembers; more are simply asked for again.
MARKER_ENTRIES = 4096


class _Expiring:
    """A small LRU of values with an expiry time (monotonic seconds), safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return entry[1]

    def set(self, key: Any, value: Any, seconds: float) -> None:
        with self.lock:
            self.entries[key] = (time.monotonic() + seconds, value)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


_html = _Expiring(HTML_ENTRIES)
_markers = _Expiring(MARKER_ENTRIES)
_keys = _Expiring(KEY_ENTRIES)


def _cut(html: str, marker: str) -> tuple[bytes, ...]:
    return tuple(html.encode().split(marker.encode()))


def get_parts(key: str, seconds: int, marker: str) -> tuple[bytes, ...] | None:
    """The page under ``key`` as bytes cut at each ``marker`` (``token.join(parts)`` puts a
    value where each marker was): from this process, else from the shared cache."""
    found = _html.get(key)
    if found is None:
        html = cache.get(key)
        if html is not None:
            found = _cut(html, marker)
            _html.set(key, found, seconds)
    return found


def set_parts(key: str, html: str, seconds: int, marker: str) -> tuple[bytes, ...]:
    """Keep the page ``html`` under ``key``; returns it as ``get_parts`` will."""
    cache.set(key, html, seconds)
    parts = _cut(html, marker)
    _html.set(key, parts, seconds)
    return parts


def known_key(inputs: tuple[Any, ...]) -> str | None:
    """The key ``remember_key`` kept for these inputs (None for unhashable inputs)."""
    try:
        return _keys.get(inputs)
    except TypeError:
        return None


def remember_key(inputs: tuple[Any, ...], key: str, seconds: int) -> None:
    with contextlib.suppress(TypeError):
        _keys.set(inputs, key, seconds)


def add_once(key: str, seconds: int) -> bool:
    """``cache.add(key, 1, seconds)``: True only if this call created the marker."""
    if _markers.get(key) is not None:
        return False
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # One round trip: create the marker if missing, and learn how long it lives.
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)
        pipeline = client.pipeline(transaction=False)
        pipeline.set(full_key, 1, nx=True, ex=seconds)
        pipeline.pttl(full_key)
        added, left_ms = pipeline.execute()
        added = bool(added)
    else:
        added, left_ms = cache.add(key, 1, seconds), None
        left_ms = seconds * 1000 if added else None
    if left_ms is not None and left_ms > 0:
        # The marker exists in the shared cache at least this long.
        _markers.set(key, True, left_ms / 1000 - 0.05)
    return added


def clear() -> None:
    """Forget everything this process remembers (tests)."""
    _html.clear()
    _markers.clear()
    _keys.clear()
