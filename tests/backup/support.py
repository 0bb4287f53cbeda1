"""Helpers for tests that run the app as separate processes (``manage.py``) against their own
database: a fresh SQLite file or a fresh database on the PostgreSQL server of the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.conf import settings

PROJECT = Path(__file__).resolve().parents[2]
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"


def suite_engine() -> str:
    return (
        "postgresql" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "sqlite"
    )


def pg_server_url() -> str:
    """The suite's PostgreSQL server (from DATABASE_URL), at its maintenance database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = PG_DEFAULT
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


def with_database(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


class PgDatabases:
    """Fresh databases on the shared server, dropped at the end (never the server itself)."""

    def __init__(self) -> None:
        self.server = pg_server_url()
        self.names: list[str] = []

    def create(self) -> str:
        name = f"opsdata_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            self.server.replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return with_database(self.server, name)

    def drop_all(self) -> None:
        with psycopg.connect(
            self.server.replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            for name in self.names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "STORAGE_S3_", "PYTEST"))
    }
    env.update(
        DATABASE_URL=database_url,
        DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="studiocrm.settings",
        PYTHONPATH=f"{PROJECT / 'src'}{os.pathsep}{PROJECT}",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        EMAIL_URL="dummy://",
        DEBUG="true",
    )
    env.pop("MEDIA_ROOT", None)
    env.pop("PRIVATE_ROOT", None)
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, check: bool = True, timeout: float = 300):
    result = subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), *args],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"manage.py {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def shell(env: dict[str, str], code: str, **kwargs):
    return manage(env, "shell", "-v", "0", "-c", code, **kwargs)
