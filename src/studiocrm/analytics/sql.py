"""The few spots where SQLite and PostgreSQL spell a query differently.

Reports are plain SQL with window functions and aggregates that both databases run; these
helpers give the dialect-specific pieces (local-time buckets, seconds between two
timestamps, exact money sums) so a report reads the same on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction

CENT = Decimal("0.01")


def seconds_between(start: str, end: str) -> str:
    """Whole seconds from `start` to `end`, rounded half away from zero by the database, as
    an integer (PostgreSQL's EXTRACT gives numeric, several times slower to add up)."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS BIGINT)"
    return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400.0) AS INTEGER)"


def cents(expression: str) -> str:
    """A money expression as whole cents, so sums are exact on both databases (SQLite keeps
    decimals as floating point; summing cents as integers loses nothing)."""
    return f"CAST(ROUND(({expression}) * 100) AS BIGINT)"


def from_cents(value: Any, divisor: int = 1) -> Decimal:
    """Turn a sum of cents (optionally of cent-percents etc.) back into money, half up."""
    if value is None:
        return Decimal("0.00")
    return (Decimal(int(value)) / Decimal(100 * divisor)).quantize(CENT, rounding=ROUND_HALF_UP)


def param(value: Any) -> Any:
    """Adapt a Python value for a raw query the way the ORM would."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def day_key(value: Any) -> date:
    """A bucket as returned by the database (datetime or 'YYYY-MM-DD …' text) as a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of one report query.

    On PostgreSQL without JIT compilation: a report is one statement of many expressions
    over a large history, so its estimated cost passes the JIT thresholds and the server
    spent seconds compiling it (4 s of the 10 s the history pass took at 100k deals) to run
    it once. Sorts for the percentiles (hundreds of thousands of values at 100k deals)
    spilled to disk under the default 4 MB of work memory; 64 MB keeps them in memory.
    SET LOCAL keeps both to this statement's transaction."""
    adapted = [param(value) for value in params]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, adapted)
            return cursor.fetchall()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(sql, adapted)
        return cursor.fetchall()


def percentiles_cte(*, counted: bool = False) -> str:
    """Given a CTE `vals(k, v)`, the CTE `pct(k, n, p50, p90)`: per key the count, median and
    90th percentile of v by the nearest-rank method (the value at rank ceil(p·n)). With
    `counted`, given instead `vcount(k, v, c)`: each value with how many times it occurs
    (the analytics cells).

    By counting values rather than sorting them: per key and distinct value its count, a
    running total over the values in order, and the value whose running total first
    reaches the rank. Exact, the same on both databases, and it sorts only the distinct
    values — seconds repeat a lot in a history, and sorting every one of the 700 000 values
    at 100k deals took a second on SQLite (its window functions) and half that on
    PostgreSQL (percentile_disc)."""
    counts = "" if counted else "vcount AS (SELECT k, v, COUNT(*) AS c FROM vals GROUP BY k, v),\n"
    return (
        counts
        + """vrun AS (
  SELECT k, v, c,
         CAST(SUM(c) OVER (PARTITION BY k ORDER BY v) AS BIGINT) AS upto,
         CAST(SUM(c) OVER (PARTITION BY k) AS BIGINT) AS n
  FROM vcount
),
pct(k, n, p50, p90) AS (
  SELECT k, MAX(n),
         MAX(CASE WHEN upto - c < (n * 50 + 99) / 100 AND (n * 50 + 99) / 100 <= upto
                  THEN v END),
         MAX(CASE WHEN upto - c < (n * 90 + 99) / 100 AND (n * 90 + 99) / 100 <= upto
                  THEN v END)
  FROM vrun GROUP BY k
)"""
    )
