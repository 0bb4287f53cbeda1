"""Rate limits count in the cache: several web processes need one they share."""

import subprocess
import threading
import uuid

import pytest
import redis
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.core.real_server import GUNICORN, PROJECT_DIR, base_environment, gunicorn, run_python

REDIS_URL = "redis://127.0.0.1:6379/11"
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "x"}}


def test_check_refuses_several_web_processes_with_a_per_process_cache(settings):
    settings.CACHES = LOCMEM
    settings.WEB_CONCURRENCY = 2
    with pytest.raises(SystemCheckError, match="studiocrm.E001.*CACHE_URL=redis"):
        call_command("check")


@pytest.mark.parametrize(("caches", "processes"), [(REDIS, 4), (LOCMEM, 1)])
def test_check_accepts_a_shared_cache_or_one_process(settings, caches, processes):
    settings.CACHES = caches
    settings.WEB_CONCURRENCY = processes
    call_command("check")


def test_gunicorn_with_two_workers_and_a_per_process_cache_does_not_start(prepared_site, tmp_path):
    result = subprocess.run(
        [GUNICORN, "--workers", "2", "--bind", "127.0.0.1:0"],
        env=base_environment(prepared_site),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "2 web processes with a per-process cache" in result.stderr
    assert "Booting worker" not in result.stderr


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in a database number no other test uses; removed."""
    prefix = f"studiocrm-test-{uuid.uuid4().hex}"
    yield prefix
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)


def test_two_gunicorn_workers_sharing_redis_let_exactly_the_limit_through(
    prepared_site, tmp_path, redis_prefix
):
    limit = 5
    with gunicorn(
        prepared_site,
        tmp_path,
        workers=2,
        CACHE_URL=REDIS_URL,
        CACHE_KEY_PREFIX=redis_prefix,
        PASSWORD_RESET_IP_RATE=f"{limit}/h",
        PASSWORD_RESET_ADDRESS_RATE="1000/h",
    ) as server:
        cookies, token = server.form_session("/password-reset/")
        statuses: list[int] = []

        def ask(number: int) -> None:
            status, _headers, _body, _set = server.request(
                "POST",
                "/password-reset/",
                {"csrfmiddlewaretoken": token, "email": f"person{number}@x.test"},
                cookies=cookies,
            )
            statuses.append(status)

        threads = [threading.Thread(target=ask, args=(number,)) for number in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(statuses) == [302] * limit + [429] * (24 - limit)
        assert len(server.worker_pids()) == 2, "both workers must have answered"
        queued = run_python(
            server.data_dir,
            "from django_tasks_db.models import DBTaskResult\n"
            "print('@@' + json.dumps(DBTaskResult.objects.count()))",
        )
        assert queued == limit
