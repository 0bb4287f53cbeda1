"""Every figure a deal adds to the reports, and their sums per month: what a cold dashboard
reads instead of the deals.

`DealValue` holds, per deal, one row per figure it adds to a report: the application itself
(by its current kind, lost reason, source), its UTM tags, the furthest stage it reached, the
time it spent in each stage and to the proposal, signature and first payment (tenths of a
day, the precision the tables print), its first response (seconds), the manager actions on
it (per person and step, tenths of a minute), when it was won, its invoices and payments,
and what it is worth now (open, not invoiced yet, in work). Each row carries the instant
the period is about (`at`), its local month in the studio's time zone, and the deal's
manager, source and currency (the invoice's or payment's own currency for those).

`Cell` holds the sums of those rows per month × manager × source × currency × metric ×
label × value. A report reads the cells of the whole months of its period and the deals' own
rows for the days of a month it cuts (`Report.values_sql`), so a dashboard over a year of a
hundred thousand deals reads a few thousand cells, not a million rows.

Kept up to date with the facts (analytics/facts.py): the deals whose history changed and the
deals changed in place — queued by database triggers in `DirtyDeal` (migration 0004): the deal
row, its invoices, payments, brief, estimates, documents, tasks and audit rows — have their
rows computed again from scratch, and the difference goes into the cells in one upsert.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from studiocrm.analytics import effort
from studiocrm.analytics.models import (
    Cell,
    DealFacts,
    DealMoves,
    DealStageTime,
    DealValue,
    DirtyDeal,
)
from studiocrm.analytics.sql import cents, param, seconds_between
from studiocrm.billing.models import Invoice, Payment
from studiocrm.briefs.models import Brief
from studiocrm.core.models import AuditLog
from studiocrm.deals.models import Deal, Stage, Task
from studiocrm.documents.models import Document
from studiocrm.estimates.models import Estimate

VALUE = DealValue._meta.db_table
CELL = Cell._meta.db_table
DIRTY = DirtyDeal._meta.db_table
FACTS = DealFacts._meta.db_table
STAGE_TIME = DealStageTime._meta.db_table
MOVES = DealMoves._meta.db_table
DEAL = Deal._meta.db_table
STAGE = Stage._meta.db_table
INVOICE = Invoice._meta.db_table
PAYMENT = Payment._meta.db_table
AUDIT = AuditLog._meta.db_table
BRIEF = Brief._meta.db_table
ESTIMATE = Estimate._meta.db_table
DOCUMENT = Document._meta.db_table
TASK = Task._meta.db_table
MONTH_STARTS = "analytics_month_starts"
AMOUNT = "COALESCE(d.estimated_amount, d.expected_amount)"
# The UTM tags of a deal in one label, apart by a character no tag holds.
UTM_SEPARATOR = "\x1f"
CELL_KEY = "month, manager_id, source, currency, metric, label, value"
# The figures percentiles are taken over are also summed per month alone (manager -1,
# source and currency "*"): the owner's dashboard, unfiltered, reads a few thousand of
# those instead of every manager × source × currency's.
ROLLUP_METRICS = ("stage", "proposal", "signed", "paid", "first")
ROLLUP_MANAGER = -1
FIRST_YEAR, LAST_YEAR = 1970, 2100


def tenths_of_day(seconds: str) -> str:
    """Seconds (an integer expression) as tenths of a day, rounded half away from zero —
    what `reports.days` prints; integer division truncates the same way on both
    databases."""
    return (
        f"CASE WHEN {seconds} >= 0 THEN ({seconds} + 4320) / 8640 "
        f"ELSE -((4320 - {seconds}) / 8640) END"
    )


def month_number(value: datetime | Any) -> int:
    return value.year * 100 + value.month


def actions_sql(deals: str, where: str = "1 = 1", params: Sequence[Any] = ()) -> tuple[str, list]:
    """CTEs `fd(id)` (the deals `deals` selects from `{DEAL} d` under `where`),
    `moves(deal_id, actor_id, step, actions, minutes)`: the stage moves people made on them
    (facts), and `edits(deal_id, actor_id, at, step, minutes)`: what people did on them by
    the audit log of the deal and its brief, estimates, documents, invoices and tasks.
    Together: every action a person took, weighed in minutes by `effort`."""
    weights = ", ".join(["(%s, %s, %s, %s)"] * len(effort.AUDIT_WEIGHTS))
    weight_params: list[Any] = []
    for object_type, verb, minute_weight, step in effort.AUDIT_WEIGHTS:
        weight_params += [object_type, verb, float(minute_weight), step]
    stage_steps = " ".join(
        f"WHEN '{code}' THEN '{step}'" for code, step in effort.STAGE_STEP.items()
    )
    sql = f"""fd AS (SELECT d.id FROM {DEAL} d WHERE {deals} AND {where}),
    w(object_type, verb, minutes, step) AS (VALUES {weights}),
    objs(object_type, object_id, deal_id, doc_step) AS (
      SELECT 'deals.deal', CAST(id AS TEXT), id, '' FROM fd
      UNION ALL SELECT 'briefs.brief', CAST(x.id AS TEXT), x.deal_id, ''
                FROM {BRIEF} x JOIN fd ON fd.id = x.deal_id
      UNION ALL SELECT 'estimates.estimate', CAST(x.id AS TEXT), x.deal_id, ''
                FROM {ESTIMATE} x JOIN fd ON fd.id = x.deal_id
      UNION ALL SELECT 'documents.document', CAST(x.id AS TEXT), x.deal_id,
                       CASE WHEN x.kind = 'proposal' THEN 'proposal' ELSE 'contract' END
                FROM {DOCUMENT} x JOIN fd ON fd.id = x.deal_id
      UNION ALL SELECT 'billing.invoice', CAST(x.id AS TEXT), x.deal_id, ''
                FROM {INVOICE} x JOIN fd ON fd.id = x.deal_id
      UNION ALL SELECT 'deals.task', CAST(x.id AS TEXT), x.deal_id, ''
                FROM {TASK} x JOIN fd ON fd.id = x.deal_id
    ),
    moves(deal_id, actor_id, step, actions, minutes) AS (
      -- Stage moves by hand, counted per deal, person and stage entered (facts).
      SELECT m.deal_id, m.actor_id, CASE m.stage {stage_steps} ELSE 'follow_up' END,
             m.moves, m.moves * {effort.STAGE_MOVE_MINUTES}
      FROM {MOVES} m WHERE m.deal_id IN (SELECT id FROM fd)
    ),
    edits(deal_id, actor_id, at, step, minutes) AS (
      SELECT o.deal_id, a.actor_id, a.at,
             CASE WHEN w.step = 'document' THEN o.doc_step ELSE w.step END, w.minutes
      -- Objects first, then their audit rows through the (object_type, object_id)
      -- index: CROSS JOIN keeps that order on SQLite; PostgreSQL plans it freely.
      FROM objs o CROSS JOIN {AUDIT} a CROSS JOIN w
      WHERE a.object_type = o.object_type AND a.object_id = o.object_id
        AND w.verb = a.verb AND w.object_type = a.object_type
        AND a.actor_id IS NOT NULL
    )"""
    return sql, [*params, *weight_params]


def _month_starts(tzname: str) -> None:
    """A temporary table of every local month's first instant in the studio's time zone
    (DST included) and its number (YYYYMM): a row's month is the last start at or before it."""
    zone = zoneinfo.ZoneInfo(tzname)
    kind = "TIMESTAMP WITH TIME ZONE" if connection.vendor == "postgresql" else "DATETIME"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {MONTH_STARTS}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {MONTH_STARTS} (start {kind} PRIMARY KEY, month INTEGER)"
        )
        rows = [
            (param(datetime(year, month, 1, tzinfo=zone)), year * 100 + month)
            for year in range(FIRST_YEAR, LAST_YEAR + 1)
            for month in range(1, 13)
        ]
        # One statement: a row at a time cost a round trip each, most of a small catch-up.
        cursor.execute(
            f"INSERT INTO {MONTH_STARTS} (start, month) VALUES "
            + ", ".join(["(%s, %s)"] * len(rows)),
            [value for row in rows for value in row],
        )


def _local_month(at: str) -> str:
    return (
        f"COALESCE((SELECT b.month FROM {MONTH_STARTS} b WHERE b.start <= {at} "
        f"ORDER BY b.start DESC LIMIT 1), 0)"
    )


def _insert_values(ids: str) -> None:
    """The rows of `DealValue` for the deals whose ids `ids` selects (facts already
    refreshed), computed in one INSERT … SELECT."""
    actions, action_params = actions_sql(f"d.id IN ({ids})")
    dims = "d.id, %s, d.created_at, d.mgr, d.source, d.currency"
    tenths = tenths_of_day
    proposal = tenths(seconds_between("f.created_at", "f.proposal_at"))
    signed = tenths(seconds_between("f.created_at", "f.signed_at"))
    paid = tenths(seconds_between("f.created_at", "paid.paid_at"))
    parts = [
        # The application: its current kind, lost reason and comment (lost ones), value.
        (
            f"""SELECT {dims}, d.kind,
                CASE WHEN d.kind = 'lost' THEN COALESCE(d.lost_reason_choice_id, 0) ELSE 0 END,
                1, CASE WHEN d.kind = 'lost' AND d.lost_reason <> '' THEN 1 ELSE 0 END,
                COALESCE(d.v, 0)
            FROM dd d""",
            ["deal"],
        ),
        (
            f"""SELECT {dims}, d.utm_source || %s || d.utm_medium || %s || d.utm_campaign, 0,
                1, CASE WHEN d.kind = 'won' THEN 1 ELSE 0 END, 0
            FROM dd d""",
            ["utm", UTM_SEPARATOR, UTM_SEPARATOR],
        ),
        (
            f"SELECT {dims}, d.code, 0, 1, 0, COALESCE(d.v, 0) FROM dd d WHERE d.kind = 'open'",
            ["open"],
        ),
        (
            f"""SELECT {dims}, d.code, 0, 1, 0, COALESCE(d.v, 0) FROM dd d
            WHERE d.kind = 'open' AND NOT EXISTS (
              SELECT 1 FROM {INVOICE} i
              WHERE i.deal_id = d.id AND i.kind = 'invoice' AND i.status <> 'void')""",
            ["uninvoiced"],
        ),
        # Value in work: opened (at creation) and closed (at closing), valued deals only.
        (f"SELECT {dims}, '', 0, 1, 0, d.v FROM dd d WHERE d.v IS NOT NULL", ["opened"]),
        (
            """SELECT d.id, %s, d.closed_at, d.mgr, d.source, d.currency, '', 0, 1, 0, d.v
            FROM dd d WHERE d.v IS NOT NULL AND d.closed_at IS NOT NULL""",
            ["closed"],
        ),
        # From the stage history (facts): furthest position reached, by the current kind.
        (
            f"SELECT {dims}, d.kind, f.top, 1, 0, 0 FROM ff f JOIN dd d ON d.id = f.deal_id",
            ["reach"],
        ),
        (
            f"""SELECT {dims}, '', {proposal}, 1, 0, 0
            FROM ff f JOIN dd d ON d.id = f.deal_id WHERE f.proposal_at IS NOT NULL""",
            ["proposal"],
        ),
        (
            f"""SELECT {dims}, '', {signed}, 1, 0, 0
            FROM ff f JOIN dd d ON d.id = f.deal_id WHERE f.signed_at IS NOT NULL""",
            ["signed"],
        ),
        (
            f"""SELECT {dims}, '', {paid}, 1, 0, 0
            FROM ff f JOIN dd d ON d.id = f.deal_id JOIN paid ON paid.deal_id = f.deal_id""",
            ["paid"],
        ),
        (
            f"""SELECT {dims}, t.stage, {tenths("t.seconds")}, 1, 0, 0
            FROM {STAGE_TIME} t JOIN ff f ON f.deal_id = t.deal_id JOIN dd d ON d.id = t.deal_id""",
            ["stage"],
        ),
        (
            """SELECT d.id, %s, f.won_at, d.mgr, d.source, d.currency, '', 0, 1, 0,
                   COALESCE(d.v, 0)
            FROM fw f JOIN dd d ON d.id = f.deal_id
            WHERE f.won_at IS NOT NULL AND d.kind = 'won'""",
            ["won"],
        ),
        (
            f"""SELECT d.id, %s, i.issued_at, d.mgr, d.source, i.currency, '', 0, 1, 0,
                   {cents("i.total - i.credited_amount")}
            FROM {INVOICE} i JOIN dd d ON d.id = i.deal_id
            WHERE i.kind = 'invoice' AND i.status NOT IN ('draft', 'void')
              AND i.issued_at IS NOT NULL""",
            ["invoiced"],
        ),
        (
            f"""SELECT d.id, %s, COALESCE(p.confirmed_at, p.created_at), d.mgr, d.source,
                   p.currency, '', 0, 1, 0, {cents("p.amount")}
            FROM {PAYMENT} p JOIN {INVOICE} i ON i.id = p.invoice_id
            JOIN dd d ON d.id = i.deal_id WHERE p.status = 'succeeded'""",
            ["payment"],
        ),
        # First response to a lead (opened by nobody): seconds to the first manager action.
        (
            f"""SELECT {dims},
                   CASE WHEN l.first_at IS NULL THEN 'waiting' ELSE 'answered' END,
                   CASE WHEN l.first_at IS NULL THEN 0
                        ELSE {seconds_between("d.created_at", "l.first_at")} END, 1, 0, 0
            FROM leads l JOIN dd d ON d.id = l.deal_id""",
            ["first"],
        ),
        # Manager actions: per person and step, minutes in tenths.
        (
            f"""SELECT {dims}, a.step, a.actor_id, SUM(a.actions),
                   0, CAST(ROUND(SUM(a.minutes) * 10) AS BIGINT)
            FROM (
              SELECT deal_id, actor_id, step, actions, minutes FROM moves
              UNION ALL SELECT deal_id, actor_id, step, 1, minutes FROM edits
            ) a JOIN dd d ON d.id = a.deal_id
            GROUP BY d.id, d.created_at, d.mgr, d.source, d.currency, a.step, a.actor_id""",
            ["effort"],
        ),
    ]
    union = "\nUNION ALL\n".join(sql for sql, _params in parts)
    union_params = [value for _sql, values in parts for value in values]
    sql = f"""WITH {actions},
    dd AS (
      SELECT d.id, d.created_at, d.closed_at, COALESCE(d.manager_id, 0) AS mgr, d.source,
             d.currency, s.kind, s.code, {cents(AMOUNT)} AS v, d.lost_reason_choice_id,
             d.lost_reason, d.utm_source, d.utm_medium, d.utm_campaign
      FROM {DEAL} d JOIN {STAGE} s ON s.code = d.stage_id WHERE d.id IN ({ids})
    ),
    fw AS (SELECT f.* FROM {FACTS} f WHERE f.deal_id IN ({ids})),
    ff AS (SELECT f.*, d.created_at FROM fw f JOIN dd d ON d.id = f.deal_id
           WHERE f.top IS NOT NULL),
    paid AS (
      SELECT i.deal_id, MIN(COALESCE(p.confirmed_at, p.created_at)) AS paid_at
      FROM {PAYMENT} p JOIN {INVOICE} i ON i.id = p.invoice_id
      WHERE p.status = 'succeeded' AND i.deal_id IN ({ids})
      GROUP BY i.deal_id
    ),
    first AS (SELECT deal_id, MIN(at) AS at FROM edits GROUP BY deal_id),
    leads AS (
      SELECT f.deal_id,
             CASE WHEN first.at IS NULL OR f.first_move_at < first.at THEN f.first_move_at
                  ELSE first.at END AS first_at
      FROM fw f LEFT JOIN first ON first.deal_id = f.deal_id
      WHERE f.lead
    ),
    x(deal_id, metric, at, manager_id, source, currency, label, value, n, m, total) AS (
      {union}
    )
    INSERT INTO {VALUE}
      (deal_id, metric, at, month, manager_id, source, currency, label, value, n, m, total)
    SELECT x.deal_id, x.metric, x.at, {_local_month("x.at")}, x.manager_id, x.source,
           x.currency, x.label, x.value, x.n, x.m, COALESCE(x.total, 0)
    FROM x WHERE x.at IS NOT NULL"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*action_params, *union_params])


def _summed(where: str, sign: int = 1) -> tuple[str, list[Any]]:
    """The cells of the values `where` selects: per key, and per month alone for the
    percentile metrics."""
    marks = ", ".join(["%s"] * len(ROLLUP_METRICS))
    return (
        f"""SELECT {CELL_KEY}, {sign} * SUM(n), {sign} * SUM(m), {sign} * SUM(total)
        FROM {VALUE} WHERE {where}
        GROUP BY {CELL_KEY}
        UNION ALL
        SELECT month, {ROLLUP_MANAGER}, '*', '*', metric, label, value,
               {sign} * SUM(n), {sign} * SUM(m), {sign} * SUM(total)
        FROM {VALUE} WHERE {where} AND metric IN ({marks})
        GROUP BY month, metric, label, value""",
        list(ROLLUP_METRICS),
    )


def _add_to_cells(ids: str, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) the rows of the deals `ids` selects to the
    cells, in one upsert."""
    summed, params = _summed(f"deal_id IN ({ids})", sign)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {CELL} ({CELL_KEY}, n, m, total)
            SELECT * FROM ({summed}) s WHERE 1 = 1
            ON CONFLICT ({CELL_KEY}) DO UPDATE SET
              n = {CELL}.n + excluded.n, m = {CELL}.m + excluded.m,
              total = {CELL}.total + excluded.total""",
            params,
        )


def refresh(ids: str, tzname: str, *, full: bool) -> None:
    """Compute again the values of the deals `ids` selects (all of them when `full`) and
    bring the cells in line: take their old rows away, write the new ones, add those."""
    _month_starts(tzname)
    with connection.cursor() as cursor:
        if full:
            empty_tables(cursor, CELL, VALUE)
            _insert_values(ids)
            summed, params = _summed("1 = 1")
            cursor.execute(f"INSERT INTO {CELL} ({CELL_KEY}, n, m, total) {summed}", params)
        else:
            _add_to_cells(ids, -1)
            cursor.execute(f"DELETE FROM {VALUE} WHERE deal_id IN ({ids})")
            _insert_values(ids)
            _add_to_cells(ids, 1)
            cursor.execute(f"DELETE FROM {CELL} WHERE n = 0")
        cursor.execute(f"DROP TABLE {MONTH_STARTS}")


def empty_tables(cursor: Any, *tables: str) -> None:
    """Empty whole tables for a rebuild. PostgreSQL: TRUNCATE, which leaves no dead rows
    behind — after a DELETE of every row, a catch-up's index scans waded through a million
    dead entries until autovacuum came (a catch-up of 100 deals took four times as long)."""
    if connection.vendor == "postgresql":
        # Foreign keys are checked at commit: rows written earlier in this transaction
        # would leave "pending trigger events" that TRUNCATE refuses. Check them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(tables)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return
    for table in tables:
        cursor.execute(f"DELETE FROM {table}")


def claim_dirty(into: str) -> int:
    """Move the deals queued by the triggers into the refresh table `into` (deal_id, primary
    key). PostgreSQL: only the rows this transaction sees committed are deleted, so a queue
    row committed meanwhile waits for the next catch-up; SQLite: one writer at a time, and
    this transaction already holds the write lock. Returns the newest queue id it took (0:
    none)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""WITH gone AS (DELETE FROM {DIRTY} RETURNING id, deal_id),
                added AS (
                  INSERT INTO {into} (deal_id) SELECT DISTINCT deal_id FROM gone
                  ON CONFLICT DO NOTHING
                )
                SELECT COALESCE(MAX(id), 0) FROM gone"""
            )
            return int(cursor.fetchone()[0])
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {DIRTY}")
        newest = int(cursor.fetchone()[0])
        cursor.execute(f"INSERT OR IGNORE INTO {into} (deal_id) SELECT deal_id FROM {DIRTY}")
        cursor.execute(f"DELETE FROM {DIRTY} WHERE id <= %s", [newest])
        return newest
