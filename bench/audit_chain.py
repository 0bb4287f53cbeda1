"""What the hash-chained audit log costs: appends per second (chained vs a plain insert),
appends from 4 threads at once, and how fast `verify_audit_chain` walks the log.

Each append is its own transaction, as in a service. SQLite (a temp file, WAL) and, when
reachable, PostgreSQL on 127.0.0.1 (a throw-away database), each in a child process.

    .venv/bin/python bench/audit_chain.py --quick     # well under a minute
    .venv/bin/python bench/audit_chain.py             # more rows

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PROJECT_DIR,
    bench_environment,
    drop_postgres_database,
    postgres_unreachable_reason,
    postgres_url,
    print_table,
    recreate_postgres_database,
)

DATABASE = "studiocrm_bench_audit_chain"
THREADS = 4


def child(rows: int) -> dict[str, float]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from studiocrm.core import audit
    from studiocrm.core.models import AuditLog, Studio

    call_command("migrate", verbosity=0)
    studio = Studio.load()
    data = {"changes": {"name": {"from": "Old studio", "to": "New studio"}}}

    def timed(append) -> float:
        started = time.perf_counter()
        for _ in range(rows):
            with transaction.atomic():
                append()
        return rows / (time.perf_counter() - started)

    chained = timed(lambda: audit.record("studio.updated", studio, actor=None, data=data))

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(rows // THREADS):
                with transaction.atomic():
                    audit.record("studio.updated", studio, actor=None, data=data)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent = (rows // THREADS * THREADS) / (time.perf_counter() - started)
    if errors:
        raise errors[0]

    total = AuditLog.objects.count()
    started = time.perf_counter()
    report = audit.verify_chain()
    verify = total / (time.perf_counter() - started)
    if report.problem is not None:
        raise RuntimeError(report.problem.message)

    # The baseline last: a row outside the chain, as the log was written before it.
    plain = timed(
        lambda: AuditLog.objects.bulk_create(
            [
                AuditLog(
                    actor_label="system",
                    verb="studio.updated",
                    object_type="core.studio",
                    object_id="1",
                    data=data,
                )
            ]
        )
    )
    return {
        "plain_appends_per_s": round(plain),
        "chained_appends_per_s": round(chained),
        "chained_appends_4_threads_per_s": round(concurrent),
        "verify_rows_per_s": round(verify),
        "rows_verified": total,
    }


def run(database: str, rows: int, workdir: Path) -> dict[str, float]:
    overrides = {"DATA_DIR": str(workdir / database)}
    if database == "postgresql":
        recreate_postgres_database(DATABASE)
        overrides["DATABASE_URL"] = postgres_url(DATABASE)
    try:
        result = subprocess.run(
            [sys.executable, __file__, "--child", str(rows)],
            env=bench_environment(**overrides),
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        if database == "postgresql":
            drop_postgres_database(DATABASE)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(child(arguments.child)))
        return
    rows = 400 if arguments.quick else 4000
    databases = ["sqlite"]
    reason = postgres_unreachable_reason()
    if reason is None:
        databases.append("postgresql")
    else:
        print(f"PostgreSQL skipped: {reason}")
    figures: dict[str, float] = {}
    table = []
    with tempfile.TemporaryDirectory() as workdir:
        for database in databases:
            result = run(database, rows, Path(workdir))
            table.append(
                [
                    database,
                    result["plain_appends_per_s"],
                    result["chained_appends_per_s"],
                    result["chained_appends_4_threads_per_s"],
                    result["verify_rows_per_s"],
                ]
            )
            for key, value in result.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    figures[f"{database}_{key}"] = value
    print_table(
        ["database", "plain insert/s", "chained append/s", "chained, 4 threads/s", "verify rows/s"],
        table,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studiocrm.settings")
    main()
