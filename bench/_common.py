"""Shared pieces of the benchmarks in bench/: child processes, databases, statistics, tables.

Django reads its settings once per process, so a benchmark that measures several databases
runs itself again in a child process per database and collects the child's last output
line, a JSON object.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
SRC_DIR = PROJECT_DIR / "src"
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"
# Production settings need a field encryption key; this one is for benchmarks only.
BENCH_FIELD_ENCRYPTION_KEY = "YmVuY2gtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE="


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of the values fall (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain aligned text table: numbers right, words left."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [
        max(len(header), *(len(row[index]) for row in cells)) if cells else len(header)
        for index, header in enumerate(headers)
    ]

    def line(row: Sequence[str], raw: Sequence[object]) -> str:
        parts = []
        for index, cell in enumerate(row):
            numeric = isinstance(raw[index], int | float)
            parts.append(cell.rjust(widths[index]) if numeric else cell.ljust(widths[index]))
        return "  ".join(parts).rstrip()

    print(line(list(headers), list(headers)))
    print("  ".join("-" * width for width in widths))
    for row, raw in zip(cells, rows, strict=True):
        print(line(row, list(raw)))


def bench_environment(**overrides: str) -> dict[str, str]:
    """Environment for a child that runs the real settings with DEBUG off."""
    environment = dict(os.environ)
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "studiocrm.settings",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF",
            "FIELD_ENCRYPTION_KEY": BENCH_FIELD_ENCRYPTION_KEY,
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "BASE_URL": "https://testserver",
            "TASKS_BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "EMAIL_URL": "console://",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(
                [str(SRC_DIR), str(PROJECT_DIR), environment.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep),
        }
    )
    environment.pop("DATABASE_URL", None)
    environment.update(overrides)
    return environment


def collect_static(environment: dict[str, str]) -> None:
    """Production settings need the static manifest to render a page; build it once."""
    subprocess.run(
        [sys.executable, str(PROJECT_DIR / "manage.py"), "collectstatic", "--noinput", "-v0"],
        env=environment,
        check=True,
        cwd=PROJECT_DIR,
    )


class Child:
    """This script run again as a child that answers requests, one JSON line each way.

    The child prints protocol lines prefixed with `@@`; anything else it prints (progress)
    is passed through, indented. Keeping children alive lets the parent interleave the
    measurement of two datasets, so a load spike from elsewhere on the machine hits both
    alike instead of skewing their ratio.
    """

    PREFIX = "@@"

    def __init__(self, script: Path, arguments: Sequence[str], environment: dict[str, str]):
        self.name = " ".join(arguments)
        self.process = subprocess.Popen(
            [sys.executable, str(script), *arguments],
            env=environment,
            cwd=PROJECT_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def receive(self) -> dict:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith(self.PREFIX):
                return json.loads(line[len(self.PREFIX) :])
            if line.strip():
                print(f"    {line.rstrip()}", flush=True)
        code = self.process.wait()
        raise RuntimeError(f"child `{self.name}` stopped (exit {code}) before answering")

    def ask(self, request: dict) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        return self.receive()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
                self.process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def answer(message: dict) -> None:
    """Child side of `Child`: one protocol line on stdout."""
    print(Child.PREFIX + json.dumps(message), flush=True)


def postgres_url(database: str, server: str = POSTGRES_SERVER) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", "", ""))


def postgres_unreachable_reason(server: str = POSTGRES_SERVER) -> str | None:
    """None when a PostgreSQL server answers at `server`, else why not."""
    try:
        import psycopg
    except ImportError as error:
        return f"psycopg is not installed ({error})"
    try:
        with psycopg.connect(postgres_url("postgres", server), connect_timeout=3):
            return None
    except Exception as error:
        return str(error).strip().splitlines()[0]


def recreate_postgres_database(database: str, server: str = POSTGRES_SERVER) -> None:
    """Drop and create `database`: every run starts from an empty schema."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_url("postgres", server), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def drop_postgres_database(database: str, server: str = POSTGRES_SERVER) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_url("postgres", server), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def insert_rows(model: type, rows: list[dict], batch_size: int = 5_000) -> None:
    """Insert plain rows fast: COPY on PostgreSQL, executemany on SQLite.

    For seeding benchmark data only: it skips model instances and per-value field
    preparation (most of bulk_create's time at 100k rows). Every row has the same keys,
    field names or attnames (`client_id`); the other concrete fields get their default,
    computed once.
    """
    from datetime import UTC

    from django.db import connection, models, transaction
    from django.utils import timezone

    if not rows:
        return
    meta = model._meta
    given = list(rows[0])
    fields = [meta.get_field(name) for name in given]
    now = timezone.now()
    defaults = [
        (
            field,
            now
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            else field.get_default(),
        )
        for field in meta.concrete_fields
        if not field.primary_key and field.attname not in given and field.name not in given
    ]
    columns = [field.column for field in fields] + [field.column for field, _value in defaults]
    default_values = tuple(value for _field, value in defaults)
    quote = connection.ops.quote_name
    column_list = ", ".join(quote(column) for column in columns)

    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # Foreign keys are checked by triggers, one per row and key, most of the load
            # time; the rows are consistent by construction, so a superuser skips them.
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")
            copy_sql = f"COPY {quote(meta.db_table)} ({column_list}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(tuple(row[name] for name in given) + default_values)
        return

    # SQLite stores aware datetimes as naive UTC text, as Django's adapter does.
    def as_naive_utc(value: object) -> object:
        if value is None:
            return None
        return str(value.astimezone(UTC).replace(tzinfo=None))  # type: ignore[attr-defined]

    datetime_positions = [
        index
        for index, field in enumerate([*fields, *(field for field, _value in defaults)])
        if isinstance(field, models.DateTimeField)
    ]
    placeholders = ", ".join(["%s"] * len(columns))
    insert_sql = f"INSERT INTO {quote(meta.db_table)} ({column_list}) VALUES ({placeholders})"
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            values = []
            for row in rows[start : start + batch_size]:
                record = [row[name] for name in given]
                record.extend(default_values)
                for index in datetime_positions:
                    record[index] = as_naive_utc(record[index])
                values.append(record)
            cursor.executemany(insert_sql, values)


def logged_in_client(user):
    """A Django test client signed in as `user`, past the second factor: owners must have
    one, so an owner gets a confirmed authenticator and the session counts it as used."""
    from django.test import Client as HttpClient
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    http = HttpClient()
    http.force_login(user)
    if user.is_owner:
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"confirmed": True}
        )
        session = http.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return http


def schema_hash() -> str:
    """A digest of every migration file: a database migrated at this digest can stand in
    for migrating again (benchmarks keep one such template per database kind)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(SRC_DIR.glob("studiocrm/*/migrations/*.py")):
        digest.update(path.relative_to(SRC_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def postgres_database_exists(database: str, server: str = POSTGRES_SERVER) -> bool:
    import psycopg

    with psycopg.connect(postgres_url("postgres", server), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        return found.fetchone() is not None


def copy_postgres_database(source: str, target: str, server: str = POSTGRES_SERVER) -> None:
    """Drop `target` and create it as a copy of `source` (which must have no connections)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_url("postgres", server), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target))
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(target), sql.Identifier(source)
            )
        )


def database_bench_arguments(description: str, default_sizes: str, quick_sizes: str):
    """The command line of a benchmark that seeds deal counts on SQLite and PostgreSQL and
    measures each in a child process: --quick, --sizes, --databases, and the hidden
    --child/--database-url the parent passes its children. Add your own before parsing."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="smaller data; under a minute")
    parser.add_argument(
        "--sizes",
        type=lambda text: sorted(int(part) for part in text.split(",")),
        default=None,
        help=f"deal counts, comma separated (default {default_sizes}; --quick {quick_sizes})",
    )
    parser.add_argument(
        "--databases",
        type=lambda text: text.split(","),
        default=["sqlite", "postgresql"],
        help="sqlite,postgresql",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    return parser


def run_load_threads(
    worker: Callable[[int], None],
    threads: int,
    latencies: list[list[float]],
    errors: list[int],
) -> dict:
    """Run ``worker(index)`` in ``threads`` threads until each returns, and sum up what
    they recorded in their slot of ``latencies`` (seconds per good answer) and ``errors``."""
    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(index,)) for index in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.monotonic() - started
    flat = [value for chunk in latencies for value in chunk]
    return {"requests": len(flat), "errors": sum(errors), "seconds": elapsed, "latencies": flat}
