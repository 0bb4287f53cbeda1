"""Estimate recalculation at 20, 200 and 2,000 lines.

Two figures per size:

- ``calc``: the pure calculation (``estimates.calc.calculate``) of one option with N lines,
  in this process, no database;
- ``recalc``: the full live-recalculation request the editor sends when a manager changes a
  line (htmx POST to ``estimates:update_line``): validation, the locked update, loading and
  pricing the option's N lines, rendering the line's figures and the totals panel. Measured
  through Django's test client with DEBUG off, on SQLite (and PostgreSQL when it answers).

Goals: the 2,000/20 ratio of the pure calculation stays near linear (at most 150×), and a
200-line recalculation stays under 100 ms, about when a person starts to notice a delay.

    .venv/bin/python bench/estimate.py --quick      # under a minute
    .venv/bin/python bench/estimate.py              # more iterations, PostgreSQL too

The last line printed is one JSON object with every figure. Database figures come from a
child process of this script per database (``--child``), because Django reads settings once.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_FIELD_ENCRYPTION_KEY  # noqa: E402

PROJECT_DIR = Path(__file__).resolve().parent.parent
SRC_DIR = PROJECT_DIR / "src"
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    """A plain aligned text table: numbers right, words left."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]

    def line(row: list[str], raw: list[object]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if isinstance(raw[i], int | float) else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()

    print(line(headers, list(headers)))
    print("  ".join("-" * width for width in widths))
    for row, raw in zip(cells, rows, strict=True):
        print(line(row, raw))


def child_environment(workdir: Path) -> dict[str, str]:
    """The real settings with DEBUG off, a throw-away data directory, no outside services."""
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
            "DATA_DIR": str(workdir / "data"),
            "STATIC_ROOT": str(workdir / "static"),
            "PYTHONPATH": os.pathsep.join([str(SRC_DIR), str(PROJECT_DIR)]),
        }
    )
    environment.pop("DATABASE_URL", None)
    return environment


def run_child(arguments: list[str], environment: dict[str, str]) -> dict:
    """Run this script again as a child; pass its lines through, return its last (JSON) line."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__)), *arguments],
        env=environment,
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    last = ""
    for line in process.stdout:
        if line.strip():
            last = line.strip()
            if not last.startswith("{"):
                print(f"    {last}", flush=True)
    if process.wait() != 0:
        raise RuntimeError(f"child {' '.join(arguments)} exited {process.returncode}")
    return json.loads(last)


def postgres_url(database: str) -> str:
    return f"{POSTGRES_SERVER}/{database}"


def postgres_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url("postgres"), autocommit=True, connect_timeout=3) as admin:
        admin.execute(statement)


def postgres_unreachable_reason() -> str | None:
    try:
        postgres_admin("SELECT 1")
    except Exception as error:  # any failure means: measure SQLite only
        return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return None


sys.path[:0] = [str(SRC_DIR)]

SIZES = (20, 200, 2000)
NOTICEABLE_MS = 100
MAX_RATIO = 150
# The editor page (GET, every section) at 200 lines against 20, and at 2,000 lines.
EDITOR_MAX_RATIO = 2.0
EDITOR_MAX_MS = 1000
POSTGRES_DATABASE = "studiocrm_bench_estimate"
ROLE_CODES = ("analyst", "designer", "frontend", "backend", "copywriter", "qa", "pm")


def line_specs(count: int, rng: random.Random) -> list[dict]:
    """A realistic mix: a third pages priced from hours, the rest services (some fixed-price,
    some from hours, a few optional), discounts and tax rates here and there."""
    specs = []
    for index in range(count):
        is_page = index % 3 == 0
        hours = {code: Decimal(rng.randint(1, 24)) for code in rng.sample(ROLE_CODES, 3)}
        specs.append(
            {
                "kind": "page" if is_page else "service",
                "quantity": Decimal(rng.randint(1, 12)),
                "unit_price": None if is_page or index % 2 else Decimal(rng.randint(1000, 90000)),
                "work": hours,
                "discount_percent": Decimal(rng.choice([0, 0, 0, 5, 10])),
                "tax_rate": Decimal(20),
                "is_optional": index % 17 == 0,
            }
        )
    return specs


def timed_rounds(functions: dict[int, object], rounds: int, warmup: int) -> dict[int, list[float]]:
    """Time each function once per round, sizes interleaved, so that a burst of load from
    elsewhere on the machine hits every size alike; garbage collection off while timing."""
    for _ in range(warmup):
        for function in functions.values():
            function()
    timings: dict[int, list[float]] = {size: [] for size in functions}
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for size, function in functions.items():
                started = time.perf_counter()
                function()
                timings[size].append((time.perf_counter() - started) * 1000)
            gc.collect()
    finally:
        if collecting:
            gc.enable()
    return timings


def measure_calc(quick: bool) -> dict[int, dict]:
    from studiocrm.estimates import calc

    roles = [
        calc.RoleRate(code, Decimal(3000), Decimal(1500), Decimal(6), 1, stage)
        for code, stage in zip(
            ROLE_CODES,
            (
                "analysis",
                "design",
                "development",
                "development",
                "content",
                "testing",
                "management",
            ),
            strict=True,
        )
    ]
    functions = {}
    for size in SIZES:
        specs = line_specs(size, random.Random(size))
        option = calc.OptionInput(
            key=1,
            discount_percent=Decimal(5),
            role_multipliers={"copywriter": Decimal(2)},
            lines=[
                calc.LineInput(
                    key=index,
                    quantity=spec["quantity"],
                    unit_price=spec["unit_price"],
                    hours=spec["work"],
                    discount_percent=spec["discount_percent"],
                    tax_rate=spec["tax_rate"],
                    optional=spec["is_optional"],
                    selected=False,
                )
                for index, spec in enumerate(specs)
            ],
        )
        estimate = calc.EstimateInput(roles=roles, options=[option], tax_mode=calc.VAT_ON_TOP)
        functions[size] = lambda estimate=estimate: calc.calculate(estimate)
    rounds = 40 if quick else 200
    timings = timed_rounds(functions, rounds, 3)
    return {
        size: {
            "p50_ms": round(percentile(timings[size], 0.5), 3),
            "p95_ms": round(percentile(timings[size], 0.95), 3),
            "iterations": rounds,
        }
        for size in SIZES
    }


# --- child: one database -------------------------------------------------------------------


def seed_estimate(size: int, manager) -> tuple[int, int]:
    """A deal with an estimate of `size` lines in one option; returns (estimate, line) ids."""
    from studiocrm.clients.models import Client
    from studiocrm.deals.services import create_deal
    from studiocrm.estimates import services
    from studiocrm.estimates.models import EstimateLine

    client = Client.objects.create(name=f"Bench client {size}")
    deal = create_deal(
        title=f"Bench {size}", client=client, contact=None, actor=None, manager=manager
    )
    estimate = services.create_estimate(deal, actor=manager)
    option = estimate.options.get()
    rows = []
    for index, spec in enumerate(line_specs(size, random.Random(size))):
        rows.append(
            EstimateLine(
                option=option,
                kind=spec["kind"],
                position=index,
                name=f"{spec['kind'].title()} {index}",
                quantity=spec["quantity"],
                unit_price=spec["unit_price"],
                work={code: str(hours) for code, hours in spec["work"].items()},
                discount_percent=spec["discount_percent"],
                tax_rate=spec["tax_rate"],
                is_optional=spec["is_optional"],
                is_selected=not spec["is_optional"],
                unit="page" if spec["kind"] == "page" else "fixed",
            )
        )
    EstimateLine.objects.bulk_create(rows, batch_size=500)
    # Nest every tenth page under the page before it, as a real structure would.
    pages = list(option.lines.filter(kind="page").order_by("position").values_list("pk", flat=True))
    for parent, child in zip(pages[::10], pages[1::10], strict=False):
        EstimateLine.objects.filter(pk=child).update(parent_id=parent)
    line = option.lines.filter(kind="service").order_by("position").first()
    return estimate.pk, line.pk


def child(arguments: argparse.Namespace) -> None:
    if arguments.database_url.startswith("postgres"):
        postgres_admin(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')
        postgres_admin(f'CREATE DATABASE "{POSTGRES_DATABASE}"')
    os.environ["DATABASE_URL"] = arguments.database_url

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    from studiocrm.core.models import User

    assert not settings.DEBUG, "measure with DEBUG off"
    setup_test_environment(debug=False)
    call_command("migrate", verbosity=0, interactive=False)
    manager = User.objects.create_user("bench-manager", role=User.Role.MANAGER)
    http = Client()
    http.force_login(manager)
    posts, queries, editor_urls = {}, {}, {}
    for size in SIZES:
        estimate_id, line_id = seed_estimate(size, manager)
        editor_urls[size] = reverse("estimates:edit", args=[estimate_id])
        quantities = iter(range(1, 1_000_000))

        def post(line_id: int = line_id, quantities=quantities) -> None:
            prefix = f"line-{line_id}-"
            response = http.post(
                reverse("estimates:update_line", args=[line_id]),
                {
                    prefix + "name": "Changed line",
                    prefix + "quantity": str(next(quantities) % 50 + 1),
                    prefix + "unit_price": "1500",
                    prefix + "discount_percent": "5",
                    prefix + "tax_rate": "20",
                    prefix + "is_selected": "on",
                },
                HTTP_HX_REQUEST="true",
                secure=True,
            )
            if response.status_code != 200 or b'id="totals"' not in response.content:
                raise RuntimeError(f"update_line answered {response.status_code}")

        posts[size] = post
        executed: list[str] = []

        def count(execute, sql, params, many, context, executed=executed):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            post()
        queries[size] = len(executed)
    rounds = 12 if arguments.quick else 60
    timings = timed_rounds(posts, rounds, 2)
    editor = timed_rounds(
        {size: (lambda url=url: http.get(url, secure=True)) for size, url in editor_urls.items()},
        5 if arguments.quick else 10,
        1,
    )
    results = {}
    for size in SIZES:
        results[size] = {
            "p50_ms": round(percentile(timings[size], 0.5), 2),
            "p95_ms": round(percentile(timings[size], 0.95), 2),
            "queries": queries[size],
            "iterations": rounds,
            "editor_p50_ms": round(statistics.median(editor[size]), 1),
        }
        print(
            f"{connection.vendor}: {size} lines, recalculation p50 {results[size]['p50_ms']} ms",
            flush=True,
        )
    print(json.dumps({"vendor": connection.vendor, "sizes": results}))


# --- parent --------------------------------------------------------------------------------


def parent(arguments: argparse.Namespace) -> None:
    started = time.perf_counter()
    calc_results = measure_calc(arguments.quick)
    workdir = Path(tempfile.mkdtemp(prefix="studiocrm-bench-estimate-"))
    environment = child_environment(workdir)
    databases = [("sqlite", f"sqlite:///{workdir / 'estimate.sqlite3'}")]
    wants_postgres = "postgresql" in arguments.databases or not arguments.quick
    if wants_postgres:
        reason = postgres_unreachable_reason()
        if reason is None:
            databases.append(("postgresql", postgres_url(POSTGRES_DATABASE)))
        else:
            print(f"note: PostgreSQL skipped, not reachable ({reason})")
    try:
        # Production settings need the static manifest to render a page; build it once.
        subprocess.run(
            [sys.executable, str(PROJECT_DIR / "manage.py"), "collectstatic", "--noinput", "-v0"],
            env=environment,
            check=True,
            cwd=PROJECT_DIR,
        )
        request_results = {}
        for name, url in databases:
            print(f"measuring the recalculation request on {name}…", flush=True)
            child_arguments = ["--child", "--database-url", url]
            if arguments.quick:
                child_arguments.append("--quick")
            request_results[name] = run_child(child_arguments, environment)["sizes"]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if any(name == "postgresql" for name, _url in databases):
            postgres_admin(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')

    print()
    print("Pure calculation (estimates.calc), one option, VAT on top:")
    print_table(
        ["lines", "p50 ms", "p95 ms", "iterations"],
        [
            [
                size,
                calc_results[size]["p50_ms"],
                calc_results[size]["p95_ms"],
                calc_results[size]["iterations"],
            ]
            for size in SIZES
        ],
    )
    print()
    print("Live recalculation request (htmx POST of one changed line: DB + calc + render):")
    rows = []
    for name, sizes in request_results.items():
        for size in SIZES:
            figures = sizes[str(size)]
            rows.append(
                [
                    name,
                    size,
                    figures["p50_ms"],
                    figures["p95_ms"],
                    figures["queries"],
                    figures["editor_p50_ms"],
                ]
            )
    print_table(
        ["database", "lines", "p50 ms", "p95 ms", "queries", "full editor page p50 ms"], rows
    )

    calc_ratio = calc_results[2000]["p50_ms"] / calc_results[20]["p50_ms"]
    summary: dict[str, object] = {
        f"calc_p50_ms_{size}_lines": calc_results[size]["p50_ms"] for size in SIZES
    }
    summary["calc_ratio_2000_vs_20"] = round(calc_ratio, 1)
    for name, sizes in request_results.items():
        for size in SIZES:
            summary[f"recalc_{name}_p50_ms_{size}_lines"] = sizes[str(size)]["p50_ms"]
            summary[f"recalc_{name}_p95_ms_{size}_lines"] = sizes[str(size)]["p95_ms"]
            summary[f"recalc_{name}_queries_{size}_lines"] = sizes[str(size)]["queries"]
            summary[f"editor_page_{name}_p50_ms_{size}_lines"] = sizes[str(size)]["editor_p50_ms"]
        summary[f"recalc_{name}_ratio_2000_vs_20"] = round(
            sizes["2000"]["p50_ms"] / sizes["20"]["p50_ms"], 1
        )
    headline = request_results["sqlite"]["200"]["p50_ms"]
    summary["recalc_p50_ms_200_lines"] = headline
    summary["ratio_2000_vs_20"] = round(calc_ratio, 1)
    summary["goal_ratio_max"] = MAX_RATIO
    summary["goal_noticeable_ms"] = NOTICEABLE_MS
    summary["ratio_within_goal"] = calc_ratio <= MAX_RATIO
    summary["recalc_200_lines_under_noticeable"] = headline < NOTICEABLE_MS
    editor = request_results["sqlite"]
    editor_ratio = editor["200"]["editor_p50_ms"] / editor["20"]["editor_p50_ms"]
    summary["editor_page_ratio_200_vs_20"] = round(editor_ratio, 2)
    summary["goal_editor_ratio_200_vs_20_max"] = EDITOR_MAX_RATIO
    summary["goal_editor_2000_lines_max_ms"] = EDITOR_MAX_MS
    summary["editor_ratio_within_goal"] = editor_ratio <= EDITOR_MAX_RATIO
    summary["editor_2000_lines_within_goal"] = editor["2000"]["editor_p50_ms"] <= EDITOR_MAX_MS
    summary["bench_seconds"] = round(time.perf_counter() - started, 1)
    print()
    print(
        f"editor page: 200/20 lines {editor_ratio:.2f}× (goal ≤ {EDITOR_MAX_RATIO}×), "
        f"2,000 lines {editor['2000']['editor_p50_ms']} ms (goal ≤ {EDITOR_MAX_MS} ms)"
    )
    print(
        f"calc 2,000/20 lines: {calc_ratio:.1f}× (goal ≤ {MAX_RATIO}×); "
        f"200-line recalculation request: {headline} ms p50 (goal < {NOTICEABLE_MS} ms)"
    )
    print(json.dumps(summary))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations, under a minute")
    parser.add_argument(
        "--databases",
        default="sqlite",
        help="comma-separated: sqlite,postgresql (the full run adds PostgreSQL when it answers)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments)
    else:
        parent(arguments)


if __name__ == "__main__":
    main()
