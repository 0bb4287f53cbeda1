"""Pipeline pages at 1k and 100k deals, on SQLite and PostgreSQL.

Seeds a studio with N deals (most of them closed history, a working pipeline of open deals),
then requests the board, the deal list and one deal page as a logged-in manager through
Django's test client with DEBUG off, and reports p50/p95 latency, query count and the
ratio of the 100k figures to the 1k figures. Goal: the ratio stays at or below 1.5 —
pages cost what they show, not what the database holds.

    .venv/bin/python bench/pipeline.py --quick      # under a minute
    .venv/bin/python bench/pipeline.py              # more requests per page

The last line printed is one JSON object with every figure. Each (database, size) pair is
measured in a child process of this script (`--child`), because Django reads settings
once per process.
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
from urllib.parse import urlencode

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
PAGES = ("board", "list", "detail", "search")
# The search: the start of a client's name, as a manager types it; it matches clients
# 00000-00099, so the list has a full page (50 of the matches) at every size and the sizes
# compare equal pages.
SEARCH_QUERY = "client 000"
SIZES = (1_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
# --quick keeps under a minute: SQLite only, and the wide-open board at this many open deals.
QUICK_WIDE_OPEN = 5_000
FULL_SIZES = (1_000, 1_000_000)
# The board with a wide working pipeline: this many open deals (and a little history),
# against the usual 300 of the smallest size: the board must stay flat (goal ratio 1.5).
WIDE_OPEN = 30_000
OPEN_KEY = "open"
BOARD_VS_LIST_GOAL = 1.5
BOARD_BYTES_GOAL = 150_000
GOAL_RATIO = 1.5
POSTGRES_DATABASE = "studiocrm_bench"
FULL_POSTGRES_DATABASE = "studiocrm_perf_bench"

# The working pipeline: what three managers carry at once, whatever the history.
OPEN_PIPELINE = 300
RECENT_DAYS = 90
# Open deals by stage, weighted toward the early stages where most leads wait.
OPEN_STAGE_WEIGHTS = {
    "new": 20,
    "brief_sent": 14,
    "brief_received": 12,
    "estimated": 12,
    "proposal_sent": 14,
    "proposal_accepted": 8,
    "contract_sent": 7,
    "contract_signed": 7,
    "invoiced": 6,
}
OPEN_PATH = list(OPEN_STAGE_WEIGHTS)
PAID_SHARE = 0.3  # of closed deals; the rest are lost
LOST_REASONS = ["Budget", "Chose another studio", "No answer", "Timing", "Spam"]
SOURCES = ["website", "website", "website", "email", "phone", "referral", "messenger", "api"]
BATCH = 2000


def label(size: int | str) -> str:
    if isinstance(size, str):
        return size
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


# --- child: one database, one size -------------------------------------------------------


def history_days(total: int) -> int:
    """A studio with more deals has a longer history: 1 year at 1k up to 5 years at 100k."""
    return round(365 * min(5.0, max(1.0, total / 20_000)))


def seed(total: int, rng: random.Random, open_pipeline: int = 0) -> dict:
    """Fill an empty, migrated database. Returns what was made (for the printed summary)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from studiocrm.clients.models import Client, Contact
    from studiocrm.core.models import Studio, User
    from studiocrm.deals.models import LOST, NEW, PAID, Deal, Note, StageChange, Task
    from studiocrm.notifications.models import Outbox

    now = timezone.now()
    Studio.load()
    password = make_password(None)
    User.objects.create(username="owner", role=User.Role.OWNER, password=password)
    managers = [
        User.objects.create(
            username=f"manager{number}",
            first_name=f"Manager {number}",
            email=f"manager{number}@studio.test",
            role=User.Role.MANAGER,
            password=password,
        ).pk
        for number in (1, 2, 3)
    ]
    span = timedelta(days=history_days(total))
    recent = timedelta(days=RECENT_DAYS)

    client_count = min(2_000, max(200, total // 2))
    insert_rows(
        Client,
        [
            {
                "name": f"Client {number:05d}",
                "kind": Client.Kind.COMPANY if number % 4 else Client.Kind.PERSON,
                "created_at": now - span * rng.random(),
            }
            for number in range(client_count)
        ],
    )
    client_ids = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    insert_rows(
        Contact,
        [
            {
                "client_id": client_id,
                "name": f"Contact {index:05d}",
                "email": f"contact{index}@client.test",
                "phone": f"+7900{index:07d}",
                "phone_normalized": f"+7900{index:07d}",
                "created_at": now,
            }
            for index, client_id in enumerate(client_ids)
        ],
    )
    contact_of = dict(Contact.objects.values_list("client_id", "pk"))

    # Plan the deals oldest first so ids grow with time, as they would in real life.
    open_count = open_pipeline or min(OPEN_PIPELINE, int(total * 0.3))
    plans = []
    for _ in range(total - open_count):
        # Closings spread evenly over the history (a steady state: as many close a day
        # as come in), each deal open for 2 to 60 days before it closed.
        closed = now - span * rng.random()
        created = closed - timedelta(days=rng.uniform(2, 60))
        plans.append((created, PAID if rng.random() < PAID_SHARE else LOST, closed))
    weights = list(OPEN_STAGE_WEIGHTS.values())
    for stage in rng.choices(OPEN_PATH, weights=weights, k=open_count):
        plans.append((now - recent * rng.random(), stage, None))
    plans.sort(key=lambda plan: plan[0])

    deals = []
    for index, (created, stage, closed) in enumerate(plans):
        client_id = client_ids[index % len(client_ids)]
        amount = Decimal(rng.randrange(30_000, 900_000, 1_000))
        changed = closed or created + (now - created) * rng.random()
        deals.append(
            {
                "title": f"Website for client {client_id} #{index}",
                "client_id": client_id,
                "contact_id": contact_of[client_id],
                "manager_id": managers[index % len(managers)],
                "source": rng.choice(SOURCES),
                "stage_id": stage,
                "currency": "RUB",
                "expected_amount": amount,
                "estimated_amount": amount if stage not in (NEW, "brief_sent") else None,
                "description": "Landing page and a catalogue; needs a CRM integration.",
                "lost_reason": rng.choice(LOST_REASONS) if stage == LOST else "",
                "intake_key": None,
                "created_at": created,
                "updated_at": changed,
                "stage_changed_at": changed,
                "closed_at": closed,
            }
        )
    insert_rows(Deal, deals)
    deal_ids = list(Deal.objects.order_by("pk").values_list("pk", flat=True))

    # History: the whole path for recent deals, the first and the last step for old ones.
    changes = []

    def change(deal_id: int, from_stage: str | None, to_stage: str, at, by: int | None) -> None:
        changes.append(
            {
                "deal_id": deal_id,
                "from_stage_id": from_stage,
                "to_stage_id": to_stage,
                "at": at,
                "by_id": by,
            }
        )

    for deal_id, deal in zip(deal_ids, deals, strict=True):
        created, final, by = deal["created_at"], deal["stage_id"], deal["manager_id"]
        change(deal_id, None, NEW, created, None)
        if final == NEW:
            continue
        if created < now - recent:
            change(deal_id, NEW, final, deal["stage_changed_at"], by)
            continue
        last_open = final if final in OPEN_STAGE_WEIGHTS else rng.choice(OPEN_PATH)
        path = OPEN_PATH[: OPEN_PATH.index(last_open) + 1]
        if final in (PAID, LOST):
            path.append(final)
        step = (deal["stage_changed_at"] - created) / max(1, len(path) - 1)
        for number, (from_stage, to_stage) in enumerate(zip(path, path[1:], strict=False)):
            change(deal_id, from_stage, to_stage, created + step * (number + 1), by)
    insert_rows(StageChange, changes)

    # Tasks and notes on the working pipeline; the deal page deal gets a long story.
    open_deals = [
        (deal_id, deal)
        for deal_id, deal in zip(deal_ids, deals, strict=True)
        if deal["stage_id"] in OPEN_STAGE_WEIGHTS
    ]
    detail_id, detail_deal = open_deals[-1]
    detail_manager = detail_deal["manager_id"]
    tasks, notes = [], []

    def task(deal_id: int, assignee: int, title: str, due_at, done_at=None) -> None:
        tasks.append(
            {
                "deal_id": deal_id,
                "assignee_id": assignee,
                "created_by_id": assignee,
                "title": title,
                "due_at": due_at,
                "done": done_at is not None,
                "done_at": done_at,
                "created_at": now - timedelta(days=3),
            }
        )

    def note(deal_id: int, author: int, text: str, created_at) -> None:
        notes.append(
            {"deal_id": deal_id, "author_id": author, "text": text, "created_at": created_at}
        )

    for deal_id, deal in open_deals:
        due = now + timedelta(hours=rng.uniform(-72, 120))
        task(deal_id, deal["manager_id"], "Call the client back", due)
        note(deal_id, deal["manager_id"], "Talked on the phone; waits for the estimate.", now)
    for number in range(20):
        text = f"Note {number}: the client asked about the catalogue filters."
        note(detail_id, detail_manager, text, now - timedelta(hours=number * 7))
    for number in range(6):
        done_at = now - timedelta(days=1) if number < 3 else None
        due = now + timedelta(days=number - 2)
        task(detail_id, detail_manager, f"Follow-up {number}", due, done_at)
    insert_rows(Task, tasks)
    insert_rows(Note, notes)
    insert_rows(
        Outbox,
        [
            {
                "to": "contact@client.test",
                "subject": f"Message {number}",
                "body": "Hello",
                "dedupe_key": f"bench-{detail_id}-{number}",
                "deal_id": detail_id,
                "status": status,
                "attempts": 1,
                "last_error": "550 5.1.1 No such user" if status == Outbox.Status.FAILED else "",
                "created_at": now - timedelta(days=3 - number),
                "next_attempt_at": now - timedelta(days=3 - number),
            }
            for number, status in enumerate(
                [Outbox.Status.SENT, Outbox.Status.SENT, Outbox.Status.FAILED]
            )
        ],
    )
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load; measuring before it would be unfair.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    by_stage: dict[str, int] = {}
    for deal in deals:
        by_stage[deal["stage_id"]] = by_stage.get(deal["stage_id"], 0) + 1
    older = [deal for deal in deals if deal["created_at"] < now - recent]
    return {
        "detail_id": detail_id,
        "detail_manager": detail_manager,
        "clients": client_count,
        "stage_changes": len(changes),
        "tasks": len(tasks),
        "notes": len(notes),
        "by_stage": by_stage,
        "older_than_90_days": len(older),
        "older_than_90_days_open": sum(1 for deal in older if deal["stage_id"] not in (PAID, LOST)),
        "history_days": history_days(total),
        "closed_last_30_days": sum(
            1
            for deal in deals
            if deal["closed_at"] is not None and deal["closed_at"] >= now - timedelta(days=30)
        ),
    }


def get_ok(client, url: str):
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response


def child(arguments: argparse.Namespace) -> None:
    """Set up one database with one size, then time pages when the parent asks."""
    if arguments.database_url.startswith("postgres"):
        recreate_postgres_database(arguments.database_url.rsplit("/", 1)[1])
    os.environ["DATABASE_URL"] = arguments.database_url

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.urls import reverse

    from studiocrm.core.models import User

    assert not settings.DEBUG, "measure with DEBUG off"
    setup_test_environment(debug=False)

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    seeded = seed(arguments.deals, random.Random(arguments.deals), arguments.open_deals)
    seed_seconds = time.perf_counter() - started
    print(
        f"{connection.vendor} {label(arguments.deals)}: migrated in {migrate_seconds:.1f} s, "
        f"seeded in {seed_seconds:.1f} s",
        flush=True,
    )

    client = Client()
    client.force_login(User.objects.get(pk=seeded["detail_manager"]))
    urls = {
        "board": reverse("deals:board"),
        "list": reverse("deals:list"),
        "detail": reverse("deals:detail", args=[seeded["detail_id"]]),
        "search": reverse("deals:list") + "?" + urlencode({"q": SEARCH_QUERY}),
    }
    queries, sizes = {}, {}
    for page, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            response = get_ok(client, url)
        queries[page] = len(captured)
        sizes[page] = len(response.content)
        for _ in range(arguments.warmup):
            get_ok(client, url)
    answer(
        {
            "vendor": connection.vendor,
            "deals": arguments.deals,
            "seed_seconds": round(seed_seconds, 2),
            "seeded": seeded,
            "queries": queries,
            "bytes": sizes,
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        url = urls[request["page"]]
        get_ok(client, url)  # untimed: the other child just had the CPU caches
        timings = []
        for _ in range(request["count"]):
            started = time.perf_counter()
            get_ok(client, url)
            timings.append((time.perf_counter() - started) * 1000)
        answer({"timings_ms": timings})


# --- parent: every database, every size --------------------------------------------------


def measure_interleaved(children: dict, iterations: int, rounds: int) -> dict:
    """Time every page on every child in alternating batches; returns samples per size.
    The wide-pipeline child (key OPEN_KEY) answers only the board and the list."""
    samples: dict = {size: {page: [] for page in pages_of(size)} for size in children}
    batch = max(1, iterations // rounds)
    for _round in range(rounds):
        for page in PAGES:
            for size, process in children.items():
                if page not in pages_of(size):
                    continue
                reply = process.ask({"page": page, "count": batch})
                samples[size][page].extend(reply["timings_ms"])
    return samples


def pages_of(size: int | str) -> tuple[str, ...]:
    return ("board", "list") if size == OPEN_KEY else PAGES


def describe_distribution(result: dict) -> str:
    seeded = result["seeded"]
    by_stage = seeded["by_stage"]
    total = result["deals"]
    closed = by_stage.get("paid", 0) + by_stage.get("lost", 0)
    open_stages = ", ".join(f"{stage} {by_stage.get(stage, 0)}" for stage in OPEN_PATH)
    return (
        f"{label(total)}: {total} deals over {seeded['history_days']} days, "
        f"{seeded['older_than_90_days']} older than 90 days "
        f"({seeded['older_than_90_days_open']} of them open); "
        f"closed {closed} (paid {by_stage.get('paid', 0)}, lost {by_stage.get('lost', 0)}; "
        f"{seeded['closed_last_30_days']} closed in the last 30 days); "
        f"open {total - closed}: {open_stages}; "
        f"{seeded['clients']} clients, 3 managers, {seeded['stage_changes']} stage changes, "
        f"{seeded['tasks']} tasks, {seeded['notes']} notes"
    )


def parent(arguments: argparse.Namespace) -> None:
    iterations = arguments.iterations or (15 if arguments.quick else 100)
    rounds = 5 if arguments.quick else 20
    warmup = 3 if arguments.quick else 10
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="studiocrm-bench-"))
    environment = bench_environment(
        DATA_DIR=str(workdir / "data"), STATIC_ROOT=str(workdir / "static")
    )

    def sqlite_url(size: int | str) -> str:
        return f"sqlite:///{workdir / f'pipeline-{label(size)}.sqlite3'}"

    def postgres_database(size: int | str) -> str:
        base = FULL_POSTGRES_DATABASE if arguments.full else POSTGRES_DATABASE
        return f"{base}_{label(size)}"

    variants: list[tuple[int | str, int, int]] = [(size, size, 0) for size in arguments.sizes]
    if arguments.wide_open:
        variants.append((OPEN_KEY, arguments.wide_open + 1_000, arguments.wide_open))

    databases = []
    if "sqlite" in arguments.databases:
        databases.append(("sqlite", sqlite_url))
    if "postgresql" in arguments.databases:
        reason = postgres_unreachable_reason()
        if reason is None:
            databases.append(("postgresql", lambda size: postgres_url(postgres_database(size))))
        else:
            print(f"note: PostgreSQL skipped, not reachable at 127.0.0.1:5432 ({reason})")

    results: dict[tuple[str, int], dict] = {}
    samples: dict[tuple[str, int], dict[str, list[float]]] = {}
    try:
        collect_static(environment)
        for database, url_for in databases:
            children: dict[int, Child] = {}
            try:
                for size, deals, open_deals in variants:
                    print(f"== {database}, {label(size)} deals", flush=True)
                    children[size] = Child(
                        SCRIPT,
                        [
                            "--child",
                            f"--database-url={url_for(size)}",
                            f"--deals={deals}",
                            f"--open-deals={open_deals}",
                            f"--warmup={warmup}",
                        ],
                        environment,
                    )
                    results[database, size] = children[size].receive()
                print(f"== {database}: timing the pages, sizes interleaved", flush=True)
                for size, timings in measure_interleaved(children, iterations, rounds).items():
                    samples[database, size] = timings
            finally:
                for process in children.values():
                    process.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if any(database == "postgresql" for database, _url in databases):
            for size, _deals, _open in variants:
                drop_postgres_database(postgres_database(size))

    timed = len(next(iter(samples.values()))["board"]) if samples else 0
    print()
    print(
        f"Data ({timed} timed requests per page after {warmup} warm-up, in {rounds} "
        f"alternating rounds; DEBUG off; load average {load_before:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end):"
    )
    shown = set()
    for (_database, size), result in sorted(results.items(), key=lambda item: item[1]["deals"]):
        if size not in shown:
            shown.add(size)
            print("  " + describe_distribution(result))
    print()

    figures: dict[str, float | int] = {}
    rows = []
    smallest, largest = min(arguments.sizes), max(arguments.sizes)
    for database, _url in databases:
        for size in arguments.sizes:
            seconds = results[database, size]["seed_seconds"]
            figures[f"seed_seconds_{database}_{label(size)}"] = seconds
        for page in PAGES:
            measured = {}
            for size in arguments.sizes:
                timings = samples[database, size][page]
                measured[size] = {
                    "p50_ms": round(percentile(timings, 0.5), 1),
                    "p95_ms": round(percentile(timings, 0.95), 1),
                    "queries": results[database, size]["queries"][page],
                }
                suffix = f"{database}_{label(size)}"
                figures[f"{page}_p50_ms_{suffix}"] = measured[size]["p50_ms"]
                figures[f"{page}_p95_ms_{suffix}"] = measured[size]["p95_ms"]
                figures[f"{page}_queries_{suffix}"] = measured[size]["queries"]
            row: list[object] = [page, database]
            for size in arguments.sizes:
                row += [measured[size][key] for key in ("p50_ms", "p95_ms", "queries")]
            if smallest != largest:
                versus = f"{label(largest)}_vs_{label(smallest)}"
                ratio = round(measured[largest]["p50_ms"] / measured[smallest]["p50_ms"], 2)
                p95_ratio = round(measured[largest]["p95_ms"] / measured[smallest]["p95_ms"], 2)
                figures[f"{page}_ratio_{versus}_{database}"] = ratio
                figures[f"{page}_p95_ratio_{versus}_{database}"] = p95_ratio
                row += [ratio, p95_ratio, "ok" if ratio <= GOAL_RATIO else "MISSED"]
            rows.append(row)
    headers = ["page", "database"]
    for size in arguments.sizes:
        headers += [f"p50 ms {label(size)}", f"p95 ms {label(size)}", f"queries {label(size)}"]
    if smallest != largest:
        headers += ["p50 ratio", "p95 ratio", f"goal p50 ratio <= {GOAL_RATIO}"]
    print_table(headers, rows)
    print()
    goals: dict[str, bool] = {}
    for database, _url in databases:
        for page in PAGES:
            key = f"{page}_ratio_{label(largest)}_vs_{label(smallest)}_{database}"
            if key in figures:
                goals[f"goal_{page}_flat_{database}"] = figures[key] <= GOAL_RATIO
        print_board_figures(database, variants, results, samples, figures, goals)
    figures.update(goals)
    figures["goals_met"] = all(goals.values())
    figures["elapsed_seconds"] = round(time.perf_counter() - began, 1)
    print()
    print(json.dumps(figures))


def print_board_figures(database, variants, results, samples, figures, goals) -> None:
    """The board against the list of the same run, its size, and its flatness from the
    usual 300 open deals to a wide pipeline."""
    rows = []
    for size, _deals, _open in variants:
        board = percentile(samples[database, size]["board"], 0.5)
        deal_list = percentile(samples[database, size]["list"], 0.5)
        board_bytes = results[database, size]["bytes"]["board"]
        versus = round(board / deal_list, 2)
        suffix = f"{database}_{label(size)}"
        figures[f"board_vs_list_ratio_{suffix}"] = versus
        figures[f"board_bytes_{suffix}"] = board_bytes
        goals[f"goal_board_vs_list_{suffix}"] = versus <= BOARD_VS_LIST_GOAL
        goals[f"goal_board_bytes_{suffix}"] = board_bytes < BOARD_BYTES_GOAL
        opened = results[database, size]["seeded"]["by_stage"]
        open_deals = sum(count for stage, count in opened.items() if stage in OPEN_STAGE_WEIGHTS)
        rows.append(
            [
                database,
                label(size),
                open_deals,
                round(board, 1),
                round(deal_list, 1),
                versus,
                board_bytes,
                results[database, size]["queries"]["board"],
            ]
        )
    print_table(
        [
            "database",
            "data",
            "open deals",
            "board p50 ms",
            "list p50 ms",
            f"board/list (goal <= {BOARD_VS_LIST_GOAL})",
            f"board bytes (goal < {BOARD_BYTES_GOAL})",
            "board queries",
        ],
        rows,
    )
    smallest = min(size for size, _deals, _open in variants if isinstance(size, int))
    if (database, OPEN_KEY) in samples:
        open_deals = next(count for size, _deals, count in variants if size == OPEN_KEY)
        wide = percentile(samples[database, OPEN_KEY]["board"], 0.5)
        usual = percentile(samples[database, smallest]["board"], 0.5)
        ratio = round(wide / usual, 2)
        figures[f"board_ratio_wide_open_vs_{label(smallest)}_{database}"] = ratio
        goals[f"goal_board_flat_wide_open_{database}"] = ratio <= GOAL_RATIO
        print(
            f"board with {open_deals} open deals vs {label(smallest)}: p50 ratio {ratio} "
            f"(goal <= {GOAL_RATIO})"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests; under a minute")
    parser.add_argument(
        "--full",
        action="store_true",
        help=f"1k vs 1M deals on PostgreSQL (database {FULL_POSTGRES_DATABASE}_*)",
    )
    parser.add_argument(
        "--wide-open",
        type=int,
        default=-1,
        help=f"also time the board with this many open deals (default {WIDE_OPEN}; 0: skip)",
    )
    parser.add_argument("--iterations", type=int, default=0, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=None,
        help="deal counts, comma separated (default 1000,100000; --quick 1000,10000; "
        "--full 1000,1000000)",
    )
    parser.add_argument(
        "--databases",
        type=lambda text: text.split(","),
        default=None,
        help="sqlite,postgresql (default both; --quick sqlite; --full postgresql)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--deals", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--open-deals", type=int, default=0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.sizes is None:
        arguments.sizes = list(
            FULL_SIZES if arguments.full else QUICK_SIZES if arguments.quick else SIZES
        )
    if arguments.databases is None:
        arguments.databases = (
            ["postgresql"]
            if arguments.full
            else ["sqlite"]
            if arguments.quick
            else ["sqlite", "postgresql"]
        )
    if arguments.wide_open < 0:
        arguments.wide_open = QUICK_WIDE_OPEN if arguments.quick else WIDE_OPEN
    if arguments.child:
        child(arguments)
    else:
        parent(arguments)


if __name__ == "__main__":
    main()
