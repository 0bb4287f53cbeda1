"""The production topology on this machine (scripts/topology.py, DEBUG off): what a second
web process and a second worker buy on this machine.

1. Requests per second of the client's proposal page (bench/documents.py's seed: a sent
   proposal awaiting acceptance) served by 1 gunicorn web process (1 worker × 4 threads)
   against 2 such processes addressed in turn. The load comes from a separate process (a
   threaded Python client, http.client, keep-alive off), interleaved 1, 2, 1, 2… so a load
   spike elsewhere hits both alike. This machine has 2 CPU cores shared by the web processes,
   the load generator, PostgreSQL and Redis: the gain is bounded by that, not by studiocrm.
2. Outbox messages per second delivered to an SMTP sink (aiosmtpd) by 1 worker against 2:
   N emails queued while no worker runs, then the workers started; the rate is N over the
   time from the first to the last ``sent_at`` (worker start-up is not counted).

    .venv/bin/python bench/topology.py --quick     # under a minute
    .venv/bin/python bench/topology.py

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import subprocess
import sys
import time

from _common import PROJECT_DIR, percentile, print_table, run_load_threads
from documents import SEED

QUEUE = """
from django.db import transaction
from studiocrm.notifications.outbox import queue_email
with transaction.atomic():
    for number in range({count}):
        queue_email(to=f"client{{number}}@bench.test", subject=f"Bench {label} {{number}}",
                    body="Hello " * 40, dedupe_key=f"bench-{label}-{{number}}")
"""


def load_topology():
    spec = importlib.util.spec_from_file_location(
        "topology_script", PROJECT_DIR / "scripts" / "topology.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["topology_script"] = module
    spec.loader.exec_module(module)
    return module


def generate(ports: list[int], path: str, seconds: float, threads: int) -> dict:
    """The load generator (run in its own process): GET path from `threads` threads, each
    request to the next port in turn; count only 200 answers."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads
    stop_at = time.monotonic() + seconds

    def worker(index: int) -> None:
        turn = index
        while time.monotonic() < stop_at:
            port = ports[turn % len(ports)]
            turn += 1
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", path, headers={"X-Forwarded-Proto": "https"})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
            finally:
                connection.close()
            if ok:
                latencies[index].append(time.perf_counter() - started)
            else:
                errors[index] += 1

    return run_load_threads(worker, threads, latencies, errors)


def load(rounds: list[list[int]], path: str, seconds: float, threads: int) -> list[dict]:
    """Run the load generator in a child process, one round per list of ports in turn, and
    return each round's figures."""
    done = subprocess.run(
        [sys.executable, __file__, "--generate", json.dumps([rounds, path, seconds, threads])],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def summarise(rounds: list[dict]) -> dict:
    requests = sum(item["requests"] for item in rounds)
    seconds = sum(item["seconds"] for item in rounds)
    latencies = [value for item in rounds for value in item["latencies"]]
    return {
        "rps": requests / seconds if seconds else 0.0,
        "p50_ms": percentile(latencies, 0.5) * 1000 if latencies else float("nan"),
        "p95_ms": percentile(latencies, 0.95) * 1000 if latencies else float("nan"),
        "requests": requests,
        "errors": sum(item["errors"] for item in rounds),
    }


def deliver(topology, workers: int, count: int, label: str, *, queued: bool = False) -> dict:
    """Queue `count` emails with no worker running (unless they are), start `workers`, and
    time the deliveries."""
    if not queued:
        topology.manage("shell", "-c", QUEUE.format(count=count, label=label))
    ours = f"Bench {label} "
    for index in range(workers):
        topology.start_worker(index)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        [(left,)] = topology.sql(
            "SELECT count(*) FROM notifications_outbox WHERE dedupe_key LIKE %s"
            " AND status <> 'sent'",
            (f"bench-{label}-%",),
        )
        if not left:
            break
        time.sleep(0.2)
    for index in range(workers):
        topology.stop_process(f"worker{index + 1}")
    [(first, last)] = topology.sql(
        "SELECT min(sent_at), max(sent_at) FROM notifications_outbox WHERE dedupe_key LIKE %s",
        (f"bench-{label}-%",),
    )
    seconds = (last - first).total_seconds()
    received = sum(1 for message in topology.sink.received() if message["Subject"].startswith(ours))
    return {
        "workers": workers,
        "messages": count,
        "received": received,
        "seconds": seconds,
        "rate": (count - 1) / seconds if seconds else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short rounds (under a minute)")
    parser.add_argument("--threads", type=int, default=8, help="load generator threads")
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.generate:
        rounds, path, seconds, threads = json.loads(arguments.generate)
        print(json.dumps([generate(ports, path, seconds, threads) for ports in rounds]))
        return
    round_seconds = 2.0 if arguments.quick else 8.0
    rounds = 2 if arguments.quick else 3
    messages = 80 if arguments.quick else 500

    module = load_topology()
    began = time.monotonic()

    def step(text: str) -> None:
        print(f"[{time.monotonic() - began:5.1f} s] {text}", flush=True)

    step("Starting: database, migrate, static files, 2 web processes…")
    # No worker at first: the outbox rounds start their own.
    with module.Topology(web=2, workers=0, debug=False, env={"LOG_LEVEL": "WARNING"}) as topology:
        # The seed of bench/documents.py up to the sent proposal (its PDF is not needed).
        seed = SEED.split("state = page_state")[0] + (
            'print("@@" + json.dumps({"token": proposal.link_token()}))'
        )
        step("Seeding a sent proposal…")
        # The first outbox batch is queued in the same run (one Django start-up less).
        out = topology.manage("shell", "-c", seed + QUEUE.format(count=messages, label="one"))
        token = json.loads(next(line for line in out.splitlines() if line.startswith("@@"))[2:])
        path = f"/c/doc/{token['token']}/"
        one, two = topology.ports[:1], topology.ports
        step(
            f"Load: {rounds} rounds × {round_seconds:.0f} s each way, {arguments.threads} "
            "threads in a separate process"
        )
        for port in two:  # warm both: templates compiled, database connections open
            for _ in range(2):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", path, headers={"X-Forwarded-Proto": "https"})
                answer = connection.getresponse()
                answer.read()
                connection.close()
                if answer.status != 200:
                    raise RuntimeError(f"the document page answered {answer.status}")
        results = load([one, two] * rounds, path, round_seconds, arguments.threads)
        single, double = results[0::2], results[1::2]
        page_one, page_two = summarise(single), summarise(double)

        step(f"Outbox: {messages} emails, 1 worker then 2…")
        outbox_one = deliver(topology, 1, messages, "one", queued=True)
        outbox_two = deliver(topology, 2, messages, "two")
        step("Stopping…")
    step("Done.")

    page_gain = page_two["rps"] / page_one["rps"] if page_one["rps"] else 0.0
    outbox_gain = outbox_two["rate"] / outbox_one["rate"] if outbox_one["rate"] else 0.0
    print()
    print_table(
        ["client document page", "rps", "p50 ms", "p95 ms", "requests", "errors"],
        [
            [
                label,
                round(page["rps"], 1),
                round(page["p50_ms"], 1),
                round(page["p95_ms"], 1),
                page["requests"],
                page["errors"],
            ]
            for label, page in (("1 web process", page_one), ("2 web processes", page_two))
        ],
    )
    print()
    print_table(
        ["outbox", "messages", "received", "seconds", "messages/s"],
        [
            [
                f"{run['workers']} worker{'s' if run['workers'] > 1 else ''}",
                run["messages"],
                run["received"],
                round(run["seconds"], 2),
                round(run["rate"], 1),
            ]
            for run in (outbox_one, outbox_two)
        ],
    )
    print(
        f"\n2 web processes vs 1: {page_gain:.2f}×; 2 workers vs 1: {outbox_gain:.2f}× "
        "(2 CPU cores shared with the load generator, PostgreSQL and Redis)"
    )
    figures = {
        "benchmark": "topology",
        "quick": arguments.quick,
        "threads": arguments.threads,
        **{f"page_1_web_{key}": round(value, 2) for key, value in page_one.items()},
        **{f"page_2_web_{key}": round(value, 2) for key, value in page_two.items()},
        "page_gain_ratio": round(page_gain, 2),
        "outbox_1_worker_messages_per_s": round(outbox_one["rate"], 2),
        "outbox_2_workers_messages_per_s": round(outbox_two["rate"], 2),
        "outbox_gain_ratio": round(outbox_gain, 2),
        "outbox_all_received_once": outbox_one["received"] == outbox_one["messages"]
        and outbox_two["received"] == outbox_two["messages"],
        "page_errors_none": page_one["errors"] == page_two["errors"] == 0,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
