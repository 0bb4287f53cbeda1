"""Analytics dashboard on a large history, on SQLite and PostgreSQL.

Seeds N deals with ten stage changes each (100k deals → 1M stage changes; COPY on
PostgreSQL, executemany on SQLite), plus invoices and payments for the won ones, then
measures in the same process:

- the whole analytics dashboard page (every report) through Django's test client;
- the funnel as the dashboard computes it (its query plus arranging the rows);
- one hand-written SQL query computing the same funnel (reached counts per stage and
  cohort month), checked to give the same numbers.

Goal: the dashboard's funnel within 1.5× the hand-written query, and a dashboard query count
that is the same at both data sizes.

    .venv/bin/python bench/analytics.py --quick     # 500 and 2k deals, under a minute
    .venv/bin/python bench/analytics.py             # 10k and 100k deals (1M stage changes)

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from _common import (  # noqa: E402
    Child,
    answer,
    bench_environment,
    collect_static,
    drop_postgres_database,
    insert_rows,
    percentile,
    postgres_unreachable_reason,
    postgres_url,
    print_table,
    recreate_postgres_database,
)

SCRIPT = Path(__file__).resolve()
GOAL_RATIO = 1.5
CHANGES_PER_DEAL = 10
POSTGRES_DATABASE = "studiocrm_bench_analytics"
STAGES = [
    "new",
    "brief_sent",
    "brief_received",
    "estimated",
    "proposal_sent",
    "proposal_accepted",
    "contract_sent",
    "contract_signed",
    "invoiced",
    "paid",
]
# How far deals get: many stop early, a good share is won.
REACH_WEIGHTS = [8, 6, 6, 8, 10, 6, 4, 4, 4, 44]


def label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 else str(size)


# --- child: one database, one size -------------------------------------------------------


def seed(total: int, rng: random.Random) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from studiocrm.billing.models import Invoice, Payment
    from studiocrm.clients.models import Client
    from studiocrm.core.models import Studio, User
    from studiocrm.deals.models import Deal, LostReason, StageChange

    now = timezone.now()
    Studio.load()
    password = make_password(None)
    User.objects.create(username="owner", role=User.Role.OWNER, password=password)
    managers = [
        User.objects.create(
            username=f"manager{number}", role=User.Role.MANAGER, password=password
        ).pk
        for number in (1, 2, 3)
    ]
    reasons = list(LostReason.objects.values_list("pk", flat=True))
    insert_rows(Client, [{"name": f"Client {n}", "created_at": now} for n in range(200)])
    client_ids = list(Client.objects.values_list("pk", flat=True))
    year = timedelta(days=365)
    deals, plans = [], []
    for index in range(total):
        created = now - year * rng.random()
        reach = rng.choices(range(len(STAGES)), weights=REACH_WEIGHTS)[0]
        lost = reach < len(STAGES) - 1 and rng.random() < 0.7
        # A path through the stages (some skipped), then lost-and-reopened cycles until the
        # deal has about ten changes: revisits are what make analytics work hard.
        reached = [stage for stage in STAGES[1:reach] if rng.random() > 0.1]
        path = ["new", *reached, STAGES[reach]] if reach else ["new"]
        won = path[-1] == "paid"
        base = path[:-1] if won else path
        tail = ["paid"] if won else (["lost"] if lost else [])
        while len(base) + len(tail) < CHANGES_PER_DEAL:
            base += ["lost", base[-1]]
        path = base + tail
        step = timedelta(hours=rng.randint(2, 72))
        moments = [created + step * position for position in range(len(path))]
        closed = moments[-1] if path[-1] in ("paid", "lost") else None
        deals.append(
            {
                "title": f"Deal {index}",
                "client_id": client_ids[index % len(client_ids)],
                "manager_id": managers[index % 3],
                "source": ("website", "email", "referral", "phone")[index % 4],
                "stage_id": path[-1],
                "currency": "RUB" if index % 5 else "EUR",
                "expected_amount": Decimal(rng.randrange(50_000, 900_000)),
                "created_at": created,
                "updated_at": moments[-1],
                "stage_changed_at": moments[-1],
                "closed_at": closed,
                "lost_reason_choice_id": rng.choice(reasons) if path[-1] == "lost" else None,
            }
        )
        plans.append((path, moments))
    insert_rows(Deal, deals)
    deal_ids = list(Deal.objects.order_by("pk").values_list("pk", flat=True))
    changes, invoices = [], []
    for deal_id, (path, moments), deal in zip(deal_ids, plans, deals, strict=True):
        previous = None
        for stage, moment in zip(path, moments, strict=True):
            by = (
                deal["manager_id"] if previous and stage not in ("brief_received", "paid") else None
            )
            changes.append(
                {
                    "deal_id": deal_id,
                    "from_stage_id": previous,
                    "to_stage_id": stage,
                    "at": moment,
                    "by_id": by,
                }
            )
            previous = stage
        if path[-1] == "paid":
            invoices.append(
                {
                    "deal_id": deal_id,
                    "currency": deal["currency"],
                    "status": "paid",
                    "total": deal["expected_amount"],
                    "subtotal": deal["expected_amount"],
                    "paid_amount": deal["expected_amount"],
                    "issued_at": moments[-2],
                    "issue_date": moments[-2].date(),
                    "due_date": (moments[-2] + timedelta(days=7)).date(),
                    "token_hash": f"bench-{deal_id}",
                    "seller": "{}",
                    "buyer": "{}",
                    "created_at": moments[-2],
                }
            )
    insert_rows(StageChange, changes, batch_size=20_000)
    insert_rows(Invoice, invoices)
    payments = [
        {
            "invoice_id": invoice_id,
            "provider": "bank_transfer",
            "reference": f"b{invoice_id}",
            "amount": total,
            "currency": currency,
            "status": "succeeded",
            "created_at": issued + timedelta(days=2),
            "confirmed_at": issued + timedelta(days=2),
        }
        for invoice_id, total, currency, issued in Invoice.objects.values_list(
            "pk", "total", "currency", "issued_at"
        )
    ]
    insert_rows(Payment, payments)
    return {"deals": total, "stage_changes": len(changes), "invoices": len(invoices)}


def hand_written_funnel(start, end) -> dict:
    """The funnel as someone would write it by hand: one query, reached counts per stage
    and cohort month (Moscow, UTC+3 all year), straight from the tables."""
    from django.db import connection

    if connection.vendor == "postgresql":
        month = "to_char(created_at AT TIME ZONE 'Europe/Moscow', 'YYYY-MM')"
    else:
        month = "strftime('%%Y-%%m', created_at, '+3 hours')"
    reached = ", ".join(f"SUM(CASE WHEN top >= {n} THEN 1 ELSE 0 END)" for n in range(10))
    sql = f"""
        WITH r AS (
          SELECT d.id, d.created_at, MAX(s.position) AS top
          FROM deals_deal d
          JOIN deals_stagechange c ON c.deal_id = d.id
          JOIN deals_stage s ON s.code = c.to_stage_id AND s.kind <> 'lost'
          WHERE d.created_at >= %s AND d.created_at < %s
          GROUP BY d.id, d.created_at
        )
        SELECT {month} AS cohort, {reached} FROM r GROUP BY 1 ORDER BY 1"""
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                connection.ops.adapt_datetimefield_value(start),
                connection.ops.adapt_datetimefield_value(end),
            ],
        )
        rows = cursor.fetchall()
    return {row[0]: [int(value) for value in row[1:]] for row in rows}


def app_funnel(filters) -> dict:
    """The dashboard's funnel: its tables, as the page builds them."""
    from studiocrm.analytics.reports import Report

    report = Report(filters)
    funnel = report.funnel_table()
    cohorts = report.cohort_table()
    return {"reached": [row[1] for row in funnel.rows], "cohorts": len(cohorts.rows)}


def child(arguments: argparse.Namespace) -> None:
    if arguments.database_url.startswith("postgres"):
        recreate_postgres_database(arguments.database_url.rsplit("/", 1)[1])
    os.environ["DATABASE_URL"] = arguments.database_url

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse
    from django.utils import timezone

    from studiocrm.analytics.reports import Filters
    from studiocrm.core.models import User

    setup_test_environment(debug=False)
    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    seeded = seed(arguments.deals, random.Random(arguments.deals))
    seed_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"{connection.vendor} {label(arguments.deals)}: {seeded['stage_changes']} stage "
        f"changes seeded in {seed_seconds:.1f} s",
        flush=True,
    )
    today = timezone.localdate()
    start = today - timedelta(days=400)
    filters = Filters(start=start, end=today, tzname="Europe/Moscow")
    query = {"date_from": start.isoformat(), "date_to": today.isoformat()}
    client = Client()
    client.force_login(User.objects.get(username="owner"))
    url = reverse("analytics:dashboard")
    client.get(url, query, secure=True)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query, secure=True)
    assert response.status_code == 200, response.status_code
    # Read now: the next request clears the connection's query log.
    queries = len(captured)

    hand = hand_written_funnel(filters.start_at, filters.end_at)
    app = app_funnel(filters)
    summed = [sum(row[n] for row in hand.values()) for n in range(10)]
    assert summed == app["reached"], (summed, app["reached"])
    assert len(hand) == app["cohorts"]

    def timed(function, count: int) -> list[float]:
        function()
        samples = []
        for _ in range(count):
            began = time.perf_counter()
            function()
            samples.append((time.perf_counter() - began) * 1000)
        return samples

    funnel_app, funnel_hand = [], []
    for _round in range(arguments.rounds):  # interleaved, so load from elsewhere hits both
        funnel_hand += timed(lambda: hand_written_funnel(filters.start_at, filters.end_at), 2)
        funnel_app += timed(lambda: app_funnel(filters), 2)
    dashboard = timed(lambda: client.get(url, query, secure=True), arguments.dashboard_runs)
    answer(
        {
            "vendor": connection.vendor,
            "deals": arguments.deals,
            "stage_changes": seeded["stage_changes"],
            "seed_seconds": round(seed_seconds, 1),
            "queries": queries,
            "reached": app["reached"],
            "dashboard": dashboard,
            "funnel_app": funnel_app,
            "funnel_hand": funnel_hand,
        }
    )


# --- parent ------------------------------------------------------------------------------


def parent(arguments: argparse.Namespace) -> None:
    began = time.perf_counter()
    sizes = arguments.sizes or ([500, 2_000] if arguments.quick else [10_000, 100_000])
    rounds = 2 if arguments.quick else 5
    dashboard_runs = 2 if arguments.quick else 5
    workdir = Path(tempfile.mkdtemp(prefix="studiocrm-bench-analytics-"))
    environment = bench_environment(
        DATA_DIR=str(workdir / "data"), STATIC_ROOT=str(workdir / "static")
    )
    databases = []
    if "sqlite" in arguments.databases:
        databases.append(("sqlite", lambda size: f"sqlite:///{workdir / f'a-{size}.sqlite3'}"))
    if "postgresql" in arguments.databases:
        reason = postgres_unreachable_reason()
        if reason is None:
            databases.append(
                ("postgresql", lambda size: postgres_url(f"{POSTGRES_DATABASE}_{label(size)}"))
            )
        else:
            print(f"note: PostgreSQL skipped, not reachable ({reason})")
    results: dict[tuple[str, int], dict] = {}
    try:
        collect_static(environment)
        for database, url_for in databases:
            for size in sizes:
                print(f"== {database}, {label(size)} deals", flush=True)
                process = Child(
                    SCRIPT,
                    [
                        "--child",
                        f"--database-url={url_for(size)}",
                        f"--deals={size}",
                        f"--rounds={rounds}",
                        f"--dashboard-runs={dashboard_runs}",
                    ],
                    environment,
                )
                try:
                    results[database, size] = process.receive()
                finally:
                    process.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if any(database == "postgresql" for database, _url in databases):
            for size in sizes:
                drop_postgres_database(f"{POSTGRES_DATABASE}_{label(size)}")

    figures: dict[str, float | int | bool] = {}
    rows = []
    for (database, size), result in results.items():
        suffix = f"{database}_{label(size)}"
        dashboard_p50 = round(percentile(result["dashboard"], 0.5), 1)
        dashboard_p95 = round(percentile(result["dashboard"], 0.95), 1)
        app_p50 = round(percentile(result["funnel_app"], 0.5), 1)
        app_p95 = round(percentile(result["funnel_app"], 0.95), 1)
        hand_p50 = round(percentile(result["funnel_hand"], 0.5), 1)
        hand_p95 = round(percentile(result["funnel_hand"], 0.95), 1)
        ratio = round(app_p50 / hand_p50, 2) if hand_p50 else 0.0
        figures.update(
            {
                f"stage_changes_{suffix}": result["stage_changes"],
                f"seed_seconds_{suffix}": result["seed_seconds"],
                f"dashboard_p50_ms_{suffix}": dashboard_p50,
                f"dashboard_p95_ms_{suffix}": dashboard_p95,
                f"dashboard_queries_{suffix}": result["queries"],
                f"funnel_p50_ms_{suffix}": app_p50,
                f"funnel_p95_ms_{suffix}": app_p95,
                f"hand_sql_funnel_p50_ms_{suffix}": hand_p50,
                f"hand_sql_funnel_p95_ms_{suffix}": hand_p95,
                f"funnel_vs_hand_sql_ratio_{suffix}": ratio,
                f"dashboard_vs_hand_sql_ratio_{suffix}": round(dashboard_p50 / hand_p50, 1)
                if hand_p50
                else 0.0,
            }
        )
        rows.append(
            [
                database,
                label(size),
                result["stage_changes"],
                dashboard_p50,
                dashboard_p95,
                result["queries"],
                app_p50,
                app_p95,
                hand_p50,
                hand_p95,
                ratio,
                "ok" if ratio <= GOAL_RATIO else "MISSED",
            ]
        )
    for database, _url in databases:
        counts = {results[database, size]["queries"] for size in sizes}
        figures[f"dashboard_queries_flat_{database}"] = len(counts) == 1
    print()
    print_table(
        [
            "database",
            "deals",
            "stage changes",
            "dashboard p50 ms",
            "p95 ms",
            "queries",
            "funnel p50 ms",
            "p95 ms",
            "hand SQL p50 ms",
            "p95 ms",
            "funnel/hand",
            f"goal <= {GOAL_RATIO}",
        ],
        rows,
    )
    figures["elapsed_seconds"] = round(time.perf_counter() - began, 1)
    print()
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller data; under a minute")
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=None,
        help="deal counts, comma separated (default 10000,100000; --quick 500,2000)",
    )
    parser.add_argument(
        "--databases", type=lambda text: text.split(","), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--deals", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument("--dashboard-runs", type=int, default=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments)
    else:
        parent(arguments)


if __name__ == "__main__":
    main()
