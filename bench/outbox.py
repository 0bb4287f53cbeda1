"""Outbox delivery against a plain smtplib loop, and one automation-timer pass at 1k and 100k
pending timers, on SQLite.

1. Messages per second to a local SMTP server (aiosmtpd on 127.0.0.1, started here): a plain
   smtplib loop (a connection per message, as the outbox's email channel opens one), then
   the outbox (`deliver_due`: claim the row, build the MIME message with its HTML
   alternative, send, mark it sent) with one worker and with two workers (threads, each
   claiming rows), in interleaved rounds (median). Goal: the outbox reaches at least 0.5 of
   the plain loop.
2. One scheduler pass (`flow.rules.fire_due`) that fires the same 20 due timers while 1k,
   then 100k, other timers wait for later. Goal: the 100k pass costs at most 1.5x the 1k
   pass and stays under 1 s.

    .venv/bin/python bench/outbox.py --quick     # under a minute
    .venv/bin/python bench/outbox.py             # more messages and repeats

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from _common import bench_environment, insert_rows, print_table  # noqa: E402

DUE_TIMERS = 20
GOAL_THROUGHPUT = 0.5
GOAL_RATIO = 1.5
GOAL_PASS_SECONDS = 1.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Counter:
    """An SMTP handler that only counts what it accepts."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.count += 1
        return "250 OK"


def setup_django(database: Path, port: int) -> None:
    environment = bench_environment(
        DATABASE_URL=f"sqlite:///{database}", EMAIL_URL=f"smtp://127.0.0.1:{port}"
    )
    os.environ.update(environment)
    sys.path[:0] = [path for path in environment["PYTHONPATH"].split(os.pathsep) if path]
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def smtplib_loop(port: int, count: int, tag: str) -> float:
    """A plain loop; ``tag`` only names the round in the subjects."""
    started = time.perf_counter()
    for number in range(count):
        message = EmailMessage()
        message["From"] = "Студия <hello@studio.test>"
        message["To"] = f"client{number}@example.test"
        message["Subject"] = f"Письмо {tag}-{number}"
        message.set_content("Здравствуйте!\n\nЭто письмо из цикла smtplib.\n")
        # A fixed EHLO name: smtplib would otherwise look up this host's FQDN per connection
        # (Django caches it), which measures DNS, not sending.
        with smtplib.SMTP("127.0.0.1", port, timeout=10, local_hostname="localhost") as connection:
            connection.send_message(message)
    return count / (time.perf_counter() - started)


def outbox_run(count: int, workers: int, tag: str) -> float:
    from django.db import connection

    from studiocrm.notifications.outbox import deliver_due, queue_email

    for number in range(count):
        queue_email(
            to=f"client{number}@example.test",
            subject=f"Письмо {number}",
            body="Здравствуйте!\n\nЭто письмо из outbox.\n",
            body_html="<p>Здравствуйте!</p><p>Это письмо из outbox.</p>",
            dedupe_key=f"bench:{tag}:{number}",
        )

    def work() -> None:
        try:
            while deliver_due(limit=50):
                pass
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.perf_counter() - started)


def seed_timers(total: int, already: int) -> None:
    """Add timers waiting a month (each on its own event, as in life) up to ``total``."""
    from django.utils import timezone

    from studiocrm.deals.models import Deal, Event
    from studiocrm.flow.models import Rule, Timer

    deal = Deal.objects.order_by("pk").first()
    rule = Rule.objects.get(code="stale-deal")
    later = timezone.now() + timedelta(days=30)
    first_event = (Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    wanted = total - already
    insert_rows(
        Event,
        [
            {"deal_id": deal.pk, "name": "deal.stage_changed", "payload": "{}"}
            for _number in range(wanted)
        ],
    )
    events = Event.objects.filter(pk__gte=first_event).order_by("pk").values_list("pk", flat=True)
    insert_rows(
        Timer,
        [
            {"rule_id": rule.pk, "deal_id": deal.pk, "event_id": event, "due_at": later}
            for event in events
        ],
    )


def one_pass(due: list[int]) -> float:
    """Make the fixed set of timers due again and time one pass of the periodic job."""
    from django.utils import timezone

    from studiocrm.flow.models import Timer
    from studiocrm.flow.rules import fire_due

    Timer.objects.filter(pk__in=due).update(
        status="pending", due_at=timezone.now() - timedelta(minutes=1), claimed_until=None
    )
    started = time.perf_counter()
    results = fire_due()
    elapsed = time.perf_counter() - started
    assert sum(results.values()) == len(due), results
    return elapsed


def scheduler(repeats: int) -> dict[str, float]:
    from django.utils import timezone

    from studiocrm.clients.models import Client
    from studiocrm.core.models import User
    from studiocrm.deals.models import Deal, Event
    from studiocrm.flow.models import Rule, Timer

    manager = User.objects.create(username="bench", email="bench@studio.test")
    client = Client.objects.create(name="Bench")
    deal = Deal.objects.create(title="Bench", client=client, manager=manager, stage_id="new")
    rule = Rule.objects.get(code="stale-deal")
    due = []
    for _number in range(DUE_TIMERS):
        event = Event.objects.create(deal=deal, name="deal.stage_changed", at=timezone.now())
        due.append(
            Timer.objects.create(rule=rule, deal=deal, event=event, due_at=timezone.now()).pk
        )
    figures = {}
    seeded = DUE_TIMERS
    for size in (1_000, 100_000):
        seed_timers(size, seeded)
        seeded = size
        one_pass(due)  # warm caches
        times = [one_pass(due) for _repeat in range(repeats)]
        figures[size] = statistics.median(times)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages and repeats")
    arguments = parser.parse_args()
    count = 50 if arguments.quick else 100  # messages per sender and round
    rounds = 5 if arguments.quick else 15
    repeats = 7 if arguments.quick else 15

    from aiosmtpd.controller import Controller

    port = free_port()
    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            setup_django(Path(folder) / "bench.sqlite3", port)
            # Rounds interleave the three senders, so a load spike from elsewhere on the
            # machine hits all of them alike; each figure is the median of its rounds.
            rates: dict[str, list[float]] = {"smtplib": [], "one": [], "two": []}
            for round_number in range(rounds):
                rates["smtplib"].append(smtplib_loop(port, count, f"s{round_number}"))
                rates["one"].append(outbox_run(count, 1, f"one{round_number}"))
                rates["two"].append(outbox_run(count, 2, f"two{round_number}"))
            baseline, one_worker, two_workers = (
                statistics.median(rates[name]) for name in ("smtplib", "one", "two")
            )
            passes = scheduler(repeats)
    finally:
        controller.stop()
    expected = 3 * count * rounds
    assert handler.count == expected, f"server counted {handler.count} of {expected}"

    print_table(
        ["sender", "messages/s", "of smtplib"],
        [
            ["plain smtplib loop", round(baseline, 1), "1.00"],
            ["outbox, 1 worker", round(one_worker, 1), f"{one_worker / baseline:.2f}"],
            ["outbox, 2 workers", round(two_workers, 1), f"{two_workers / baseline:.2f}"],
        ],
    )
    print()
    ratio = passes[100_000] / passes[1_000]
    print_table(
        ["pending timers", f"pass firing {DUE_TIMERS}, ms"],
        [[f"{size:,}", round(seconds * 1000, 1)] for size, seconds in passes.items()],
    )
    print(
        f"\nthroughput goal >= {GOAL_THROUGHPUT}: "
        f"{'met' if min(one_worker, two_workers) / baseline >= GOAL_THROUGHPUT else 'MISSED'}; "
        f"scheduler ratio {ratio:.2f} (goal <= {GOAL_RATIO}), 100k pass "
        f"{passes[100_000]:.3f} s (goal < {GOAL_PASS_SECONDS} s)"
    )
    print(
        json.dumps(
            {
                "messages_per_round": count,
                "rounds": rounds,
                "smtplib_messages_per_s": round(baseline, 1),
                "outbox_1_worker_messages_per_s": round(one_worker, 1),
                "outbox_2_workers_messages_per_s": round(two_workers, 1),
                "outbox_1_worker_ratio": round(one_worker / baseline, 3),
                "outbox_2_workers_ratio": round(two_workers / baseline, 3),
                "scheduler_pass_1k_ms": round(passes[1_000] * 1000, 1),
                "scheduler_pass_100k_ms": round(passes[100_000] * 1000, 1),
                "scheduler_ratio_100k_to_1k": round(ratio, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
