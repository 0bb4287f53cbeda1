import os
import subprocess
import sys
from pathlib import Path

import pytest

from studiocrm import env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw, expected", [("true", True), ("false", False), ("TRUE", True)])
def test_booleans_parse_only_true_or_false(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env.boolean("FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["1", "yes", "on", "ture"])
def test_anything_else_for_a_boolean_fails_loudly(monkeypatch, raw):
    monkeypatch.setenv("FLAG", raw)
    with pytest.raises(env.ImproperlyConfiguredEnv, match="FLAG"):
        env.boolean("FLAG", False)


def test_integers_are_checked(monkeypatch):
    monkeypatch.setenv("N", "12x")
    with pytest.raises(env.ImproperlyConfiguredEnv):
        env.integer("N", 1)
    monkeypatch.setenv("N", "-3")
    with pytest.raises(env.ImproperlyConfiguredEnv):
        env.integer("N", 1, minimum=0)
    monkeypatch.setenv("N", "7")
    assert env.integer("N", 1) == 7


def test_secret_can_come_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("API_SECRET_FILE", str(secret))
    monkeypatch.setenv("API_SECRET", "ignored")
    assert env.string("API_SECRET") == "s3cret"


def test_unreadable_secret_file_fails_loudly(monkeypatch, tmp_path):
    monkeypatch.setenv("API_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(env.ImproperlyConfiguredEnv, match="API_SECRET_FILE"):
        env.string("API_SECRET")


def test_lists_split_on_commas(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env.string_list("HOSTS", []) == ["a.example", "b.example"]


def _manage(*args, **extra_env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DEBUG", "SECRET_KEY", "BASE_URL", "HOST", "PORT"))
    }
    environment.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    result = _manage("check", DEBUG="false", DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_malformed_boolean_stops_start_up(tmp_path):
    result = _manage("check", DEBUG="maybe", DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG must be 'true' or 'false'" in result.stderr


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x" * 20 + "-production-like-secret-key-for-the-test-0123456789",
        FIELD_ENCRYPTION_KEY="Y2ktY2hlY2stZGVwbG95LWtleS0wMDAwMDAwMDAwMDA=",
        ALLOWED_HOSTS="crm.example.com",
        BASE_URL="https://crm.example.com",
        DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_secret_is_generated_once_outside_the_repo(tmp_path):
    key_path = tmp_path / "conf" / "secret"
    first = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        DEV_SECRET_KEY_PATH=str(key_path),
        DATA_DIR=str(tmp_path),
    )
    second = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        DEV_SECRET_KEY_PATH=str(key_path),
        DATA_DIR=str(tmp_path),
    )
    assert first.returncode == 0, first.stderr
    first_key = first.stdout.strip().splitlines()[-1]
    second_key = second.stdout.strip().splitlines()[-1]
    assert first_key == second_key == key_path.read_text().strip()
    assert len(first_key) >= 50


def _base_url(**variables):
    result = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; print(settings.BASE_URL)",
        **variables,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_links_follow_the_port_make_run_serves_on():
    assert _base_url(HOST="127.0.0.1", PORT="8123") == "http://127.0.0.1:8123"


def test_a_public_base_url_wins_over_host_and_port():
    assert _base_url(PORT="8123", BASE_URL="https://crm.example.com/") == "https://crm.example.com"
