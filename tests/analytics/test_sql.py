"""The report query runner: on PostgreSQL each report runs without JIT compilation (it cost
seconds per query at 100k deals), and only that query: the connection keeps its setting."""

from __future__ import annotations

import pytest
from django.db import connection

from studiocrm.analytics.sql import fetch


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_report_queries_run_without_jit_and_leave_the_connection_as_it_was():
    if connection.vendor != "postgresql":
        assert fetch("SELECT 1 + 1") == [(2,)]
        return
    before = setting("jit")
    assert fetch("SELECT current_setting('jit'), 1 + 1") == [("off", 2)]
    assert setting("jit") == before
    assert not connection.in_atomic_block


@pytest.mark.django_db
def test_percentiles_are_the_nearest_rank_with_ties_and_single_values():
    import math
    import random

    from studiocrm.analytics.sql import percentiles_cte

    rng = random.Random(4)
    groups = {
        "one": [7],
        "ties": [5, 5, 5, 1, 9, 9],
        "spread": [rng.randint(-50, 5000) for _ in range(301)],
        "repeats": [rng.choice([3600, 7200, 10800]) for _ in range(40)],
    }
    rows = ", ".join(["(%s, %s)"] * sum(len(v) for v in groups.values()))
    params = [value for key, values in groups.items() for v in values for value in (key, v)]
    found = fetch(
        f"WITH vals(k, v) AS (VALUES {rows}), {percentiles_cte()} SELECT k, n, p50, p90 FROM pct",  # noqa: S608
        params,
    )

    def rank(values, p):
        return sorted(values)[math.ceil(p * len(values)) - 1]

    assert {k: (int(n), p50, p90) for k, n, p50, p90 in found} == {
        key: (len(values), rank(values, 0.5), rank(values, 0.9)) for key, values in groups.items()
    }
