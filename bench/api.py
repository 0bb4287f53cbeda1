"""The REST API at 1k and 10k deals (100k without --quick), on PostgreSQL.

Seeds deals, then through Django's test client with DEBUG off and a read-write token:
lists a page of 50 deals, gets one deal, creates a deal (with an Idempotency-Key), and
lists the same 50 deals through a bare Django JSON view (no auth, no schema) in the same
run. Reports p50/p95 and the query count of each. Goals: the list's p50 at the largest size
is at most 1.5× the 1k figure, query counts do not grow with the data, and the API list
is at least half as fast as the bare view (bare p50 / API p50 ≥ 0.5).

    .venv/bin/python bench/api.py --quick      # under a minute
    .venv/bin/python bench/api.py              # 1k, 10k and 100k deals, more requests

The last line printed is one JSON object with every figure. The measurement runs in a
child process of this script (`--child`) with production settings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from _common import (  # noqa: E402
    PROJECT_DIR,
    bench_environment,
    drop_postgres_database,
    insert_rows,
    percentile,
    postgres_unreachable_reason,
    postgres_url,
    print_table,
    recreate_postgres_database,
)

SCRIPT = Path(__file__).resolve()
DATABASE = "studiocrm_api_bench"
GOAL_RATIO = 1.5
GOAL_BARE = 0.5
OPERATIONS = ("list_deals", "get_deal", "create_deal", "bare_list")


def label(size: int) -> str:
    return f"{size // 1000}k"


# --- child --------------------------------------------------------------------------------


def bare_deals(request):  # the baseline: the same page, no auth, no schema
    from django.http import JsonResponse

    from studiocrm.deals.models import Deal

    rows = list(
        Deal.objects.order_by("-pk").values(
            "id", "title", "client_id", "contact_id", "manager_id", "stage_id", "source"
        )[:50]
    )
    return JsonResponse({"data": rows})


def measure(http, auth: dict, deal_ids: list[int], client_id: int, requests: int) -> dict:
    """p50/p95 (ms) and the most queries of each operation, ``requests`` times each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def create_deal(_index: int):
        return http.post(
            "/api/v1/deals",
            data=json.dumps({"title": "Bench", "client_id": client_id}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            **auth,
        )

    calls = {
        "list_deals": lambda _index: http.get("/api/v1/deals?limit=50", **auth),
        "get_deal": lambda index: http.get(
            f"/api/v1/deals/{deal_ids[index % len(deal_ids)]}", **auth
        ),
        "create_deal": create_deal,
        "bare_list": lambda _index: http.get("/bench/bare-deals"),
    }
    timings: dict[str, list[float]] = {name: [] for name in calls}
    queries: dict[str, list[int]] = {name: [] for name in calls}
    for call in calls.values():
        call(0)  # warm
    # Round robin: a load spike from elsewhere on the machine hits every operation alike.
    for index in range(requests):
        for name, call in calls.items():
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = call(index)
                timings[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code in (200, 201), response.content[:300]
            queries[name].append(len(captured.captured_queries))
    results = {
        name: {
            "p50": percentile(timings[name], 0.5),
            "p95": percentile(timings[name], 0.95),
            "queries": max(queries[name]),
        }
        for name in calls
    }
    return results


def child(sizes: list[int], requests: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test import override_settings
    from django.urls import include, path
    from django.utils import timezone

    from studiocrm.api import services
    from studiocrm.clients.models import Client
    from studiocrm.core.models import User
    from studiocrm.deals.models import Deal

    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("bench-owner", "owner@bench.test", "x", role=User.Role.OWNER)
    _token, value = services.create_token(owner, "bench", "write")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {value}"}
    module = sys.modules[__name__]
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("bench/bare-deals", bare_deals),
        path("", include("studiocrm.urls")),
    ]
    http = HttpClient(HTTP_X_FORWARDED_PROTO="https")
    results: dict[str, dict[str, float]] = {}
    seeded = 0
    with override_settings(ROOT_URLCONF=module):
        for size in sizes:
            clients_needed = (size - seeded) // 10
            first_client = Client.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            insert_rows(
                Client,
                [{"name": f"Client {i}", "kind": "company"} for i in range(clients_needed)],
            )
            client_ids = list(
                Client.objects.filter(pk__gt=first_client).values_list("pk", flat=True)
            )
            now = timezone.now()
            insert_rows(
                Deal,
                [
                    {
                        "title": f"Deal {seeded + i}",
                        "client_id": client_ids[i % len(client_ids)],
                        "manager_id": owner.pk,
                        "stage_id": "new",
                        "source": "website",
                        "currency": "RUB",
                        "created_at": now,
                        "stage_changed_at": now,
                        "updated_at": now,
                    }
                    for i in range(size - seeded)
                ],
            )
            seeded = size
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute("ANALYZE")
            deal_ids = list(Deal.objects.order_by("?").values_list("pk", flat=True)[:requests])

            for name, figures in measure(http, auth, deal_ids, client_ids[0], requests).items():
                results[f"{name}:{size}"] = figures
            print(f"measured {label(size)}", flush=True)
    print("@@" + json.dumps(results), flush=True)


# --- parent -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k, 20 requests each")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=0, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child([int(size) for size in options.sizes.split(",")], options.requests)
        return
    sizes = [1_000, 10_000] if options.quick else [1_000, 10_000, 100_000]
    requests = 20 if options.quick else 60
    reason = postgres_unreachable_reason()
    if reason:
        sys.exit(f"PostgreSQL is needed: {reason}")
    recreate_postgres_database(DATABASE)
    environment = bench_environment(DATABASE_URL=postgres_url(DATABASE), API_RATE="1000000/m")
    started = time.monotonic()
    try:
        output = subprocess.run(
            [
                sys.executable,
                str(SCRIPT),
                "--child",
                f"--sizes={','.join(map(str, sizes))}",
                f"--requests={requests}",
            ],
            env=environment,
            cwd=PROJECT_DIR,
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        ).stdout
    finally:
        drop_postgres_database(DATABASE)
    line = next(row for row in reversed(output.splitlines()) if row.startswith("@@"))
    results = json.loads(line[2:])
    rows = []
    for size in sizes:
        for name in OPERATIONS:
            figures = results[f"{name}:{size}"]
            rows.append(
                [
                    label(size),
                    name,
                    round(figures["p50"], 1),
                    round(figures["p95"], 1),
                    figures["queries"],
                ]
            )
    print_table(["deals", "operation", "p50 ms", "p95 ms", "queries"], rows)
    small, large = sizes[0], sizes[-1]
    list_ratio = results[f"list_deals:{large}"]["p50"] / results[f"list_deals:{small}"]["p50"]
    bare_ratio = results[f"bare_list:{small}"]["p50"] / results[f"list_deals:{small}"]["p50"]
    flat = all(
        results[f"{name}:{size}"]["queries"] == results[f"{name}:{small}"]["queries"]
        for name in OPERATIONS
        for size in sizes
    )
    summary: dict[str, object] = {
        "database": "postgresql",
        "requests_per_operation": requests,
    }
    for size in sizes:
        for name in OPERATIONS:
            figures = results[f"{name}:{size}"]
            summary[f"{name}_p50_ms_{label(size)}"] = round(figures["p50"], 2)
            summary[f"{name}_p95_ms_{label(size)}"] = round(figures["p95"], 2)
            summary[f"{name}_queries_{label(size)}"] = figures["queries"]
    summary.update(
        {
            f"list_p50_ratio_{label(large)}_to_{label(small)}": round(list_ratio, 2),
            f"bare_to_api_list_ratio_{label(small)}": round(bare_ratio, 2),
            "goal_list_ratio_le_1_5": list_ratio <= GOAL_RATIO,
            "goal_bare_ratio_ge_0_5": bare_ratio >= GOAL_BARE,
            "goal_queries_flat": flat,
            "seconds": round(time.monotonic() - started, 1),
        }
    )
    print()
    print(
        f"list p50 {label(large)}/{label(small)}: {list_ratio:.2f}× (goal ≤ {GOAL_RATIO}); "
        f"bare view / API: {bare_ratio:.2f} (goal ≥ {GOAL_BARE}); queries flat: {flat}"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    os.chdir(PROJECT_DIR)
    main()
