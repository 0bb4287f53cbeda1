"""Analytics dashboard on a large history, on SQLite and PostgreSQL.

Seeds deals with ten stage changes each (100k deals → 1M stage changes; COPY on PostgreSQL,
executemany on SQLite), plus invoices and payments for the won ones. One child process per
database migrates once, seeds the smaller size, measures, tops the data up to the larger
size and measures again, timing in the same process:

- the analytics facts and cells (analytics/facts.py, analytics/cells.py): caught up with
  the seeded rows, rebuilt from the whole history, and caught up after 100 new stage moves;
- the whole analytics dashboard page (every report) through Django's test client, cold
  (the report cache emptied before each request: every figure computed by the database)
  and warm (answered from the 60-second report cache, see analytics/cache.py);
- the funnel as the dashboard computes it (its query plus arranging the rows);
- the baseline: one hand-written SQL query computing the same funnel (reached counts per
  stage and cohort month), checked to give the same numbers.

Goals: the dashboard within 1.5× the baseline (reported cold and warm), and a dashboard
query count that is the same at both data sizes.

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

import _common as common  # noqa: E402

SCRIPT = Path(__file__).resolve()
GOAL_RATIO = 1.5
QUICK_SECONDS = 60
CHANGES_PER_DEAL = 10
POSTGRES_DATABASE = "studiocrm_bench_analytics"
# How far deals get along the path (new … paid): many stop early, a good share is won.
REACH_WEIGHTS = [8, 6, 6, 8, 10, 6, 4, 4, 4, 44]


def label(size: int) -> str:
    return f"{size // 1000}k" if size >= 1000 else str(size)


# --- child: one database, one size -------------------------------------------------------


def seed_base() -> dict:
    """The studio, an owner, three managers and two hundred clients."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from studiocrm.clients.models import Client
    from studiocrm.core.models import Studio, User
    from studiocrm.deals.models import LostReason

    Studio.load()
    password = make_password(None)
    User.objects.create(username="owner", role=User.Role.OWNER, password=password)
    managers = [
        User.objects.create(
            username=f"manager{number}", role=User.Role.MANAGER, password=password
        ).pk
        for number in (1, 2, 3)
    ]
    common.insert_rows(
        Client, [{"name": f"Client {n}", "created_at": timezone.now()} for n in range(200)]
    )
    return {
        "managers": managers,
        "reasons": list(LostReason.objects.values_list("pk", flat=True)),
        "clients": list(Client.objects.values_list("pk", flat=True)),
    }


def seed(total: int, first: int, base: dict, rng: random.Random) -> dict:
    """Deals number `first` … `total` - 1 with their history, invoices and payments."""
    from django.utils import timezone

    from studiocrm.billing.models import Invoice, Payment
    from studiocrm.deals.models import Deal, StageChange
    from studiocrm.demo.history import PATH as STAGES

    now = timezone.now()
    managers, reasons, client_ids = base["managers"], base["reasons"], base["clients"]
    year = timedelta(days=365)
    deals, plans = [], []
    for index in range(first, total):
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
    common.insert_rows(Deal, deals)
    deal_ids = list(Deal.objects.order_by("pk").values_list("pk", flat=True)[first:])
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
    common.insert_rows(StageChange, changes, batch_size=20_000)
    common.insert_rows(Invoice, invoices)
    seeded = {invoice["token_hash"] for invoice in invoices}
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
        for invoice_id, total, currency, issued, token in Invoice.objects.values_list(
            "pk", "total", "currency", "issued_at", "token_hash"
        )
        if token in seeded
    ]
    common.insert_rows(Payment, payments)
    return {"stage_changes": len(changes), "invoices": len(invoices)}


def new_moves(count: int, rng: random.Random) -> None:
    """`count` deals lost just now, as a manager's day of moves: their stage changes and
    the deals' new stage (what the catch-up of the analytics facts then folds in)."""
    from django.utils import timezone

    from studiocrm.deals.models import Deal, StageChange

    now = timezone.now()
    picked = rng.sample(
        list(Deal.objects.exclude(stage_id="lost").values_list("pk", "stage_id", "manager_id")),
        count,
    )
    common.insert_rows(
        StageChange,
        [
            {"deal_id": pk, "from_stage_id": stage, "to_stage_id": "lost", "at": now, "by_id": by}
            for pk, stage, by in picked
        ],
    )
    Deal.objects.filter(pk__in=[pk for pk, _stage, _by in picked]).update(
        stage_id="lost", stage_changed_at=now, closed_at=now
    )


def bring_facts_up_to_date(rng: random.Random) -> dict:
    """The analytics facts (analytics/facts.py) after seeding: caught up with the rows just
    seeded, then rebuilt from scratch, then caught up after 100 new stage changes; each
    timed. Left settled, so the dashboard samples only check the watermark."""
    from studiocrm.analytics import facts

    caught = facts.settle()
    rebuilt = facts.settle(rebuild=True)
    new_moves(100, rng)
    began = time.perf_counter()
    after_moves = facts.catch_up()
    catch_up_ms = (time.perf_counter() - began) * 1000
    facts.settle()
    return {
        "facts_catch_up_seconds": caught["seconds"],
        "facts_catch_up_deals": caught["deals"],
        "facts_rebuild_seconds": rebuilt["seconds"],
        "facts_catch_up_ms_100_moves": catch_up_ms,
        "facts_catch_up_deals_100_moves": after_moves["deals"],
    }


def funnel_positions() -> list[int]:
    from studiocrm.deals.models import Stage

    return list(
        Stage.objects.exclude(kind=Stage.Kind.LOST)
        .order_by("position")
        .values_list("position", flat=True)
    )


def hand_written_funnel(start, end) -> dict:
    """The funnel as someone would write it by hand: one query, reached counts per stage
    and cohort month (Moscow, UTC+3 all year), straight from the tables."""
    from django.db import connection

    if connection.vendor == "postgresql":
        month = "to_char(created_at AT TIME ZONE 'Europe/Moscow', 'YYYY-MM')"
    else:
        month = "strftime('%%Y-%%m', created_at, '+3 hours')"
    reached = ", ".join(f"SUM(CASE WHEN top >= {n} THEN 1 ELSE 0 END)" for n in funnel_positions())
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


def measure(arguments: argparse.Namespace, client, size: int) -> dict:
    """Time the dashboard (cold and warm), the app's funnel and the baseline at the data as
    it is now."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from studiocrm.analytics.reports import Filters

    today = timezone.localdate()
    start = today - timedelta(days=400)
    filters = Filters(start=start, end=today, tzname="Europe/Moscow")
    query = {"date_from": start.isoformat(), "date_to": today.isoformat()}
    url = reverse("analytics:dashboard")

    def page(cold: bool) -> None:
        if cold:
            cache.clear()
        response = client.get(url, query, secure=True)
        assert response.status_code == 200, response.status_code

    page(cold=True)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        page(cold=False)
    # Read now: the next request clears the connection's query log. What the login does
    # by the clock (the session's "last seen" refresh, the second factor's bookkeeping:
    # writes that come only between requests minutes apart) is not the dashboard's.
    queries = len(
        [
            query
            for query in captured
            if "django_session" not in query["sql"]
            and query["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        ]
    )

    hand = hand_written_funnel(filters.start_at, filters.end_at)
    app = app_funnel(filters)
    summed = [sum(row[n] for row in hand.values()) for n in range(len(app["reached"]))]
    assert summed == app["reached"], (summed, app["reached"])
    assert len(hand) == app["cohorts"]

    def timed(function, count: int) -> list[float]:
        samples = []
        for _ in range(count):
            began = time.perf_counter()
            function()
            samples.append((time.perf_counter() - began) * 1000)
        return samples

    samples: dict[str, list[float]] = {"hand": [], "funnel": [], "cold": [], "warm": []}
    timed(lambda: hand_written_funnel(filters.start_at, filters.end_at), 1)  # warm the pages
    for _round in range(arguments.rounds):  # interleaved, so load from elsewhere hits all
        samples["hand"] += timed(lambda: hand_written_funnel(filters.start_at, filters.end_at), 1)
        samples["funnel"] += timed(lambda: app_funnel(filters), 1)
        samples["cold"] += timed(lambda: page(cold=True), 1)
        samples["warm"] += timed(lambda: page(cold=False), 3)
    return {"deals": size, "queries": queries, "reached": app["reached"], **samples}


def child(arguments: argparse.Namespace) -> None:
    # The migrated schema is kept as a template per migration digest (a PostgreSQL template
    # database, a SQLite file in the temp folder): migrating every run is most of a quick
    # run's time, and says nothing about the reports.
    schema = common.schema_hash()
    url = arguments.database_url
    postgres = url.startswith("postgres")
    if postgres:
        database = url.rsplit("/", 1)[1]
        template = f"{POSTGRES_DATABASE}_schema_{schema}"
        reused = common.postgres_database_exists(template)
        if reused:
            common.copy_postgres_database(template, database)
        else:
            common.recreate_postgres_database(database)
    else:
        database_file = Path(url.removeprefix("sqlite:///"))
        template_file = Path(tempfile.gettempdir()) / f"studiocrm-bench-schema-{schema}.sqlite3"
        reused = template_file.exists()
        if reused:
            shutil.copyfile(template_file, database_file)
    os.environ["DATABASE_URL"] = url

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings, setup_test_environment

    from studiocrm.core.models import User

    setup_test_environment(debug=False)
    # Static URLs without the collected manifest: they do not touch the database.
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    began = time.perf_counter()
    if not reused:
        call_command("migrate", verbosity=0, interactive=False)
        connection.close()
        if postgres:
            common.copy_postgres_database(database, template)
        else:
            partial = template_file.with_suffix(".partial")
            shutil.copyfile(database_file, partial)
            partial.replace(template_file)
    migrate_seconds = time.perf_counter() - began
    base = seed_base()
    client = common.logged_in_client(User.objects.get(username="owner"))
    results, seeded, changes = [], 0, 0
    for size in arguments.sizes:
        began = time.perf_counter()
        if connection.vendor == "sqlite":
            # Room for the history's indexes while a million rows go in (random times
            # miss a 2 MB page cache on every insert); back to SQLite's default after.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -262144")
        made = seed(size, seeded, base, random.Random(size))
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -2000")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        seed_seconds = time.perf_counter() - began
        seeded, changes = size, changes + made["stage_changes"]
        print(
            f"{connection.vendor} {label(size)}: {changes} stage changes, "
            f"{seed_seconds:.1f} s to seed (schema {'copied' if reused else 'migrated'} "
            f"in {migrate_seconds:.1f} s)",
            flush=True,
        )
        kept = bring_facts_up_to_date(random.Random(size + 1))
        changes += 100
        print(
            f"{connection.vendor} {label(size)}: facts caught up with the seeded rows in "
            f"{kept['facts_catch_up_seconds']:.1f} s ({kept['facts_catch_up_deals']} deals), "
            f"rebuilt in {kept['facts_rebuild_seconds']:.1f} s, caught up after 100 moves in "
            f"{kept['facts_catch_up_ms_100_moves']:.0f} ms",
            flush=True,
        )
        result = measure(arguments, client, size)
        results.append({**result, **kept, "stage_changes": changes, "seed_seconds": seed_seconds})
    common.answer(
        {
            "vendor": connection.vendor,
            "results": results,
            "schema_reused": reused,
            "migrate_seconds": migrate_seconds,
        }
    )


# --- parent ------------------------------------------------------------------------------


def parent(arguments: argparse.Namespace) -> None:
    began = time.perf_counter()
    sizes = arguments.sizes or ([500, 2_000] if arguments.quick else [10_000, 100_000])
    rounds = 2 if arguments.quick else 5
    workdir = Path(tempfile.mkdtemp(prefix="studiocrm-bench-analytics-"))
    environment = common.bench_environment(
        DATA_DIR=str(workdir / "data"), STATIC_ROOT=str(workdir / "static")
    )
    (workdir / "static").mkdir(parents=True)
    databases = []
    if "sqlite" in arguments.databases:
        databases.append(("sqlite", f"sqlite:///{workdir / 'analytics.sqlite3'}"))
    if "postgresql" in arguments.databases:
        reason = common.postgres_unreachable_reason()
        if reason is None:
            databases.append(("postgresql", common.postgres_url(POSTGRES_DATABASE)))
        else:
            print(f"note: PostgreSQL skipped, not reachable ({reason})")
    results: dict[str, list[dict]] = {}
    schema: dict[str, bool] = {}
    try:
        # Both databases at once: each child is mostly waiting on its own database.
        children = [
            (
                database,
                common.Child(
                    SCRIPT,
                    [
                        "--child",
                        f"--database-url={url}",
                        f"--sizes={','.join(str(size) for size in sizes)}",
                        f"--rounds={rounds}",
                    ],
                    environment,
                ),
            )
            for database, url in databases
        ]
        try:
            for database, process in children:
                print(f"== {database}", flush=True)
                answered = process.receive()
                results[database] = answered["results"]
                schema[database] = answered["schema_reused"]
        finally:
            for _database, process in children:
                process.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if any(database == "postgresql" for database, _url in databases):
            common.drop_postgres_database(POSTGRES_DATABASE)
    report(results, sizes, time.perf_counter() - began, arguments.quick, schema)


def report(
    results: dict[str, list[dict]],
    sizes: list[int],
    elapsed: float,
    quick: bool,
    schema: dict[str, bool],
) -> None:
    def p(values: list[float], fraction: float) -> float:
        return round(common.percentile(values, fraction), 1)

    figures: dict[str, float | int | bool] = {}
    rows = []
    for database, measured in results.items():
        for result in measured:
            suffix = f"{database}_{label(result['deals'])}"
            baseline = p(result["hand"], 0.5)
            cold, warm = p(result["cold"], 0.5), p(result["warm"], 0.5)
            ratio_cold = round(cold / baseline, 2) if baseline else 0.0
            ratio_warm = round(warm / baseline, 2) if baseline else 0.0
            figures.update(
                {
                    f"stage_changes_{suffix}": result["stage_changes"],
                    f"seed_seconds_{suffix}": round(result["seed_seconds"], 1),
                    f"p50_ms_{suffix}": cold,
                    f"p95_ms_{suffix}": p(result["cold"], 0.95),
                    f"warm_p50_ms_{suffix}": warm,
                    f"warm_p95_ms_{suffix}": p(result["warm"], 0.95),
                    f"baseline_p50_ms_{suffix}": baseline,
                    f"baseline_p95_ms_{suffix}": p(result["hand"], 0.95),
                    f"funnel_p50_ms_{suffix}": p(result["funnel"], 0.5),
                    f"ratio_vs_baseline_{suffix}": ratio_cold,
                    f"warm_ratio_vs_baseline_{suffix}": ratio_warm,
                    f"queries_{suffix}": result["queries"],
                    f"facts_catch_up_seconds_{suffix}": round(result["facts_catch_up_seconds"], 2),
                    f"facts_rebuild_seconds_{suffix}": round(result["facts_rebuild_seconds"], 2),
                    f"facts_catch_up_ms_100_moves_{suffix}": round(
                        result["facts_catch_up_ms_100_moves"], 1
                    ),
                }
            )
            rows.append(
                [
                    database,
                    label(result["deals"]),
                    result["stage_changes"],
                    cold,
                    p(result["cold"], 0.95),
                    warm,
                    p(result["warm"], 0.95),
                    baseline,
                    p(result["funnel"], 0.5),
                    ratio_cold,
                    ratio_warm,
                    result["queries"],
                    round(result["facts_rebuild_seconds"], 1),
                    round(result["facts_catch_up_ms_100_moves"]),
                ]
            )
        largest = measured[-1]
        suffix = f"{database}_{label(largest['deals'])}"
        figures[f"goal_ratio_cold_{database}"] = (
            figures[f"ratio_vs_baseline_{suffix}"] <= GOAL_RATIO
        )
        figures[f"goal_ratio_warm_{database}"] = (
            figures[f"warm_ratio_vs_baseline_{suffix}"] <= GOAL_RATIO
        )
        figures[f"goal_queries_flat_{database}"] = len({r["queries"] for r in measured}) == 1
    print()
    common.print_table(
        [
            "database",
            "deals",
            "stage changes",
            "cold p50 ms",
            "p95 ms",
            "warm p50 ms",
            "p95 ms",
            "baseline p50 ms",
            "funnel p50 ms",
            "cold/base",
            "warm/base",
            "queries",
            "facts rebuild s",
            "catch-up ms",
        ],
        rows,
    )
    print(
        f"\ncold: every report computed by the database from its cells (report cache "
        f"emptied); warm: the 60-s report cache; baseline: one hand-written funnel query. "
        f"Goal <= {GOAL_RATIO}x.\n"
        f"facts: the per-deal analytics facts, values and cells rebuilt from the whole "
        f"history, and caught up after 100 new stage moves (analytics/facts.py, cells.py)."
    )
    for database, reused in schema.items():
        figures[f"schema_template_reused_{database}"] = reused
    figures["elapsed_seconds"] = round(elapsed, 1)
    figures["load_average_1m"] = round(os.getloadavg()[0], 1)
    if quick:
        figures["goal_quick_under_60_s"] = elapsed < QUICK_SECONDS
    print()
    print(json.dumps(figures))


def main() -> None:
    parser = common.database_bench_arguments(__doc__.split("\n\n")[0], "10000,100000", "500,2000")
    parser.add_argument("--rounds", type=int, default=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments)
    else:
        parent(arguments)


if __name__ == "__main__":
    main()
