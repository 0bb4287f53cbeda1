"""The per-process memory in front of the shared cache (documents.page_cache), against a real
Redis (db 14, a key prefix of this test's own) the way gunicorn's workers share it."""

import time
import uuid

import pytest
from django.core.cache import cache
from django.test import override_settings

from studiocrm.documents import page_cache

REDIS = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_cache():
    prefix = f"test-page-cache-{uuid.uuid4().hex[:8]}"
    settings = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": prefix,
        }
    }
    with override_settings(CACHES=settings):
        try:
            cache.get("probe")
        except Exception as error:  # noqa: BLE001
            pytest.skip(f"no Redis at {REDIS}: {error}")
        page_cache.clear()
        yield cache
        page_cache.clear()
        cache.clear()


def test_a_marker_is_added_once_and_remembered_for_as_long_as_it_lives(redis_cache):
    assert page_cache.add_once("visit:a", 2) is True
    assert page_cache.add_once("visit:a", 2) is False
    # Another process (here: this one, having forgotten) learns the marker exists and until
    # when, from one round trip.
    page_cache.clear()
    assert page_cache.add_once("visit:a", 2) is False
    time.sleep(2.1)
    # Gone from Redis and from memory: the next visit counts again.
    assert page_cache.add_once("visit:a", 2) is True


def test_html_comes_from_memory_but_is_shared_through_redis(redis_cache):
    html = "<p>x</p><i>@</i><b>@</b>"
    assert page_cache.get_parts("page:k", 60, "@") is None
    assert page_cache.set_parts("page:k", html, 60, "@") == (b"<p>x</p><i>", b"</i><b>", b"</b>")
    page_cache.clear()  # another worker: nothing in its memory
    parts = page_cache.get_parts("page:k", 60, "@")
    assert b"T".join(parts).decode() == "<p>x</p><i>T</i><b>T</b>"
    redis_cache.delete("page:k")
    assert page_cache.get_parts("page:k", 60, "@") == parts  # now remembered here


def test_a_key_is_remembered_for_its_exact_inputs_only(redis_cache):
    inputs = (("row", 1, "2026-01-01"), ("studio",), "ru", False, "[]")
    assert page_cache.known_key(inputs) is None
    page_cache.remember_key(inputs, "documents:page:abc", 60)
    assert page_cache.known_key(inputs) == "documents:page:abc"
    assert page_cache.known_key((*inputs[:2], "en", *inputs[3:])) is None
    # Inputs that cannot be hashed are simply not remembered.
    page_cache.remember_key(({"a": 1},), "documents:page:x", 60)
    assert page_cache.known_key(({"a": 1},)) is None
