"""The analytics reports: every figure is computed by the database.

Each section runs a fixed handful of SQL queries (aggregates and window functions that
SQLite and PostgreSQL both run) whatever the amount of data, over the monthly cells and the
deals' own values (analytics/cells.py, read through `Report.values_sql`); Python only
arranges the aggregated rows into tables (pivots, ratios of two aggregates, running totals
over months). Money is always grouped by currency and never added across currencies.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

from django.apps import apps
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from studiocrm.analytics import cells, effort, facts
from studiocrm.analytics.cells import AMOUNT, CELL, DEAL, INVOICE, STAGE, TASK, VALUE
from studiocrm.analytics.sql import (
    CENT,
    cents,
    day_key,
    fetch,
    from_cents,
    percentiles_cte,
    seconds_between,
)
from studiocrm.core.models import User
from studiocrm.deals.models import (
    CONTRACT_SIGNED,
    PROPOSAL_SENT,
    Event,
    LostReason,
    Source,
    Stage,
)
from studiocrm.notifications.models import Outbox

EVENT = Event._meta.db_table
OUTBOX = Outbox._meta.db_table
OPEN_INVOICE = ("issued", "partially_paid", "overdue")
FORECAST_DAYS = 90
# A client "answered" a reminder when they did what it asked within this many days.
REMINDER_ANSWER_DAYS = 7
# Reminder letters, by the condition an automation rule keeps them going with, and the
# events by which the client does what the letter asks (any of them ends the wait).
REMINDER_KINDS: dict[str, tuple[Promise, tuple[str, ...]]] = {
    "brief_not_submitted": (_("Brief"), ("brief.submitted",)),
    "not_accepted": (_("Proposal follow-up"), ("proposal.accepted",)),
    "contract_not_signed": (_("Signing"), ("document.signed", "contract.signed")),
    "invoice_unpaid": (pgettext_lazy("reminder", "Payment"), ("payment.received",)),
}
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Filters:
    """What the owner asked to see. Dates are days in the studio's time zone, inclusive."""

    start: date
    end: date
    tzname: str
    manager_id: int | None = None
    source: str = ""
    currency: str = ""
    unit: str = "month"

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), zoneinfo.ZoneInfo(self.tzname))

    @property
    def end_at(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(
            self.end + timedelta(days=1), time(), zoneinfo.ZoneInfo(self.tzname)
        )


@dataclass
class Column:
    key: str
    label: str | Promise
    kind: str = "text"  # text, int, money, percent, days, minutes, number


@dataclass
class Table:
    key: str
    title: str | Promise
    columns: list[Column]
    rows: list[list[Any]]
    note: str | Promise = ""
    chart: dict[str, Any] | None = None
    total: list[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def ratio(part: Any, whole: Any) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(str(part)) / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP)


def days(seconds: Any) -> Decimal | None:
    return None if seconds is None else ratio(seconds, 86400)


def minutes(seconds: Any) -> Decimal | None:
    return None if seconds is None else ratio(seconds, 60)


def currency_charts(rows: list[list[Any]], series: list[tuple[Any, int]]) -> list[dict[str, Any]]:
    """One bar chart per currency (never summing across them) of rows [label, currency,
    …]: each series (label, column index) over the rows of that currency."""
    return [
        {
            "type": "bar",
            "title": currency,
            "labels": [row[0] for row in rows if row[1] == currency],
            "series": [
                {"label": str(label), "data": [row[index] for row in rows if row[1] == currency]}
                for label, index in series
            ],
        }
        for currency in sorted({row[1] for row in rows})
    ]


def month_date(number: int) -> date:
    """A month as YYYYMM (the cells' key) as its first day."""
    return date(number // 100, number % 100, 1)


def months_between(start: date, end: date) -> list[date]:
    months, current = [], start.replace(day=1)
    while current <= end:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


class Report:
    """All analytics for one set of filters. Sections share a few cached aggregates."""

    SECTIONS = ("inflow", "funnel", "speed", "money", "effort", "managers")

    def __init__(
        self,
        filters: Filters,
        *,
        now: datetime | None = None,
        sla_minutes: int = 60,
        use_cells: bool = True,
    ):
        self.filters = filters
        self.now = now or timezone.now()
        self.sla_minutes = sla_minutes
        # Without cells every figure is read from the deals' own rows (analytics/cells.py):
        # the same numbers, slower; the tests hold the two against each other.
        self.use_cells = use_cells

    # --- shared look-ups ------------------------------------------------------------

    @cached_property
    def stages(self) -> list[Stage]:
        return list(Stage.objects.order_by("position"))

    @cached_property
    def stage_labels(self) -> dict[str, str]:
        return {stage.code: stage.label for stage in self.stages}

    @cached_property
    def users(self) -> dict[int, str]:
        return {
            user.pk: user.get_full_name() or user.username
            for user in User.objects.only("pk", "first_name", "last_name", "username")
        }

    @cached_property
    def facts(self) -> dict[str, Any]:
        """The per-deal facts brought up to date with the stage history (one query when
        nothing changed since; see analytics/facts.py). Read before any query on them."""
        return facts.catch_up(self.stages)

    @cached_property
    def cells_usable(self) -> bool:
        """Whether the cells' months are this report's: they are local to the studio's time
        zone; a report in another zone reads the deals' rows, bucketed in its own."""
        self.facts  # noqa: B018 (brought up to date before reading them)
        return self.use_cells and self.filters.tzname == facts.time_zone()

    def month_start(self, month: date) -> datetime:
        return datetime.combine(month, time(), zoneinfo.ZoneInfo(self.filters.tzname))

    def dims_sql(self) -> tuple[str, list[Any]]:
        """The manager, source and currency filters on values or cells under alias x."""
        clauses, params = ["1 = 1"], []
        if self.filters.manager_id:
            clauses.append("x.manager_id = %s")
            params.append(self.filters.manager_id)
        if self.filters.source:
            clauses.append("x.source = %s")
            params.append(self.filters.source)
        if self.filters.currency:
            clauses.append("x.currency = %s")
            params.append(self.filters.currency)
        return " AND ".join(clauses), params

    def values_sql(
        self, metrics: Sequence[str], scope: str = "period", *, undivided: bool = False
    ) -> tuple[str, list[Any]]:
        """A subquery of the figures `metrics` under the manager, source and currency
        filters, with columns (mon, manager_id, source, currency, metric, label, value, n,
        m, total); `mon` is the local month as YYYYMM. `scope`:

        - "period": figures whose instant falls in the period: the cells of the months
          the period covers whole, and the deals' own rows for the days of a month it cuts;
        - "months": figures up to the end of the period's last month, `mon` 0 for those
          before its first month (balances carried in);
        - "all": every figure, whenever (`mon` as stored).

        Without usable cells, every figure comes from the deals' rows, bucketed into months
        by the report's own time zone. `undivided`: the caller does not group by manager,
        source or currency, so with no such filter the cells summed per month alone serve."""
        self.facts  # noqa: B018 (brought up to date before reading them)
        marks = ", ".join(["%s"] * len(metrics))
        dims, dim_params = self.dims_sql()
        where, dim_params = f"x.metric IN ({marks}) AND {dims}", [*metrics, *dim_params]
        # The cells summed per month alone answer when nothing narrows the deals down.
        rollup = (
            undivided
            and not dim_params[len(metrics) :]
            and set(metrics) <= set(cells.ROLLUP_METRICS)
        )
        cell_where = f"x.manager_id {'=' if rollup else '>'} {cells.ROLLUP_MANAGER} AND {where}"
        columns = (
            "x.manager_id, x.source, x.currency, x.metric, x.label, x.value, x.n, x.m, x.total"
        )
        months = months_between(self.filters.start, self.filters.end)
        first, last = months[0], months[-1]
        after = (last + timedelta(days=32)).replace(day=1)

        def bucket(before: str) -> tuple[str, list[Any]]:
            whens, params = [f"WHEN x.at < %s THEN {before}"], [self.month_start(first)]
            for month in months:
                nxt = (month + timedelta(days=32)).replace(day=1)
                whens.append(f"WHEN x.at < %s THEN {cells.month_number(month)}")
                params.append(self.month_start(nxt))
            return f"CASE {' '.join(whens)} END", params

        if scope == "all":
            if self.cells_usable:
                return (
                    f"SELECT x.month AS mon, {columns} FROM {CELL} x WHERE {cell_where}",
                    dim_params,
                )
            return f"SELECT x.month AS mon, {columns} FROM {VALUE} x WHERE {where}", dim_params
        if scope == "months":
            if self.cells_usable:
                number = cells.month_number(first)
                return (
                    f"""SELECT CASE WHEN x.month < %s THEN 0 ELSE x.month END AS mon, {columns}
                    FROM {CELL} x WHERE x.month <= %s AND {cell_where}""",
                    [number, cells.month_number(last), *dim_params],
                )
            mon, mon_params = bucket("0")
            return (
                f"SELECT {mon} AS mon, {columns} FROM {VALUE} x WHERE x.at < %s AND {where}",
                [*mon_params, self.month_start(after), *dim_params],
            )
        whole = [
            month
            for month in months
            if month >= self.filters.start
            and (month + timedelta(days=32)).replace(day=1) - timedelta(days=1) <= self.filters.end
        ]
        mon, mon_params = bucket("NULL")
        if not self.cells_usable or not whole:
            return (
                f"""SELECT {mon} AS mon, {columns} FROM {VALUE} x
                WHERE x.at >= %s AND x.at < %s AND {where}""",
                [*mon_params, self.filters.start_at, self.filters.end_at, *dim_params],
            )
        after_whole = (whole[-1] + timedelta(days=32)).replace(day=1)
        return (
            f"""SELECT x.month AS mon, {columns} FROM {CELL} x
            WHERE x.month >= %s AND x.month <= %s AND {cell_where}
            UNION ALL
            SELECT {mon} AS mon, {columns} FROM {VALUE} x
            WHERE ((x.at >= %s AND x.at < %s) OR (x.at >= %s AND x.at < %s)) AND {where}""",
            [
                cells.month_number(whole[0]),
                cells.month_number(whole[-1]),
                *dim_params,
                *mon_params,
                self.filters.start_at,
                self.month_start(whole[0]),
                self.month_start(after_whole),
                self.filters.end_at,
                *dim_params,
            ],
        )

    def user_label(self, pk: int | None) -> str:
        return self.users.get(pk, "") if pk else str(_("Nobody"))

    def where(
        self, alias: str = "d", *, period: bool = True, currency: str = ""
    ) -> tuple[str, list[Any]]:
        """The filters as a WHERE fragment on the deals table under `alias`; `currency`
        names the column the currency filter applies to when it is not the deal's."""
        clauses, params = ["1 = 1"], []
        if period:
            clauses.append(f"{alias}.created_at >= %s AND {alias}.created_at < %s")
            params += [self.filters.start_at, self.filters.end_at]
        if self.filters.manager_id:
            clauses.append(f"{alias}.manager_id = %s")
            params.append(self.filters.manager_id)
        if self.filters.source:
            clauses.append(f"{alias}.source = %s")
            params.append(self.filters.source)
        if self.filters.currency:
            clauses.append(f"{currency or alias + '.currency'} = %s")
            params.append(self.filters.currency)
        return " AND ".join(clauses), params

    def bucket(self, column: str, unit: str | None = None) -> tuple[str, list[Any]]:
        """An expression giving the week or month of the period `column` (an instant) falls
        in, as the bucket's first day ('YYYY-MM-DD'), NULL outside them. Bounds are the
        local midnights in the studio's time zone as instants, so rows are bucketed by
        local time on both databases, DST included, with plain comparisons: one CASE
        walked per row (a join on a table of bounds compared every row with every bucket)."""
        unit = unit or self.filters.unit
        zone = zoneinfo.ZoneInfo(self.filters.tzname)
        if unit == "week":
            first = self.filters.start - timedelta(days=self.filters.start.weekday())
            starts = []
            while first <= self.filters.end:
                starts.append(first)
                first += timedelta(days=7)
            after = starts[-1] + timedelta(days=7)
        else:
            starts = months_between(self.filters.start, self.filters.end)
            after = (starts[-1] + timedelta(days=32)).replace(day=1)
        bounds = [*starts, after]
        whens = [f"WHEN {column} < %s THEN NULL"]
        params: list[Any] = [datetime.combine(starts[0], time(), zone)]
        for start, end in zip(bounds, bounds[1:], strict=False):
            whens.append(f"WHEN {column} < %s THEN %s")
            params += [datetime.combine(end, time(), zone), start.isoformat()]
        return f"CASE {' '.join(whens)} END", params

    def tables(self, section: str | None = None) -> list[Table]:
        sections = [section] if section else list(self.SECTIONS)
        return [table for name in sections for table in getattr(self, f"{name}_tables")()]

    # --- inflow ---------------------------------------------------------------------

    def inflow_tables(self) -> list[Table]:
        return [self.inflow_table(), self.utm_table(), self.first_response_table()]

    def inflow_table(self) -> Table:
        if self.filters.unit == "month":
            values, params = self.values_sql(["deal"])
            rows = [
                (month_date(mon), source, count)
                for mon, source, count in fetch(
                    f"""SELECT v.mon, v.source, SUM(v.n) FROM ({values}) v
                    GROUP BY v.mon, v.source""",
                    params,
                )
            ]
        else:
            where, params = self.where()
            bucket, bucket_params = self.bucket("d.created_at")
            rows = fetch(
                f"""SELECT x.label, x.source, COUNT(*)
                FROM (SELECT {bucket} AS label, d.source FROM {DEAL} d WHERE {where}) x
                WHERE x.label IS NOT NULL GROUP BY x.label, x.source ORDER BY 1, 2""",
                [*bucket_params, *params],
            )
        sources = [code for code, _label in Source.choices if any(r[1] == code for r in rows)]
        per_bucket: dict[date, dict[str, int]] = defaultdict(dict)
        for when, source, count in rows:
            per_bucket[day_key(when)][source] = count
        labels = dict(Source.choices)
        columns = [Column("period", _("Period"), "period")]
        columns += [Column(code, labels[code], "int") for code in sources]
        columns.append(Column("total", _("Total"), "int"))
        table_rows = []
        for when in sorted(per_bucket):
            counts = [per_bucket[when].get(code, 0) for code in sources]
            table_rows.append([when, *counts, sum(counts)])
        total_counts = [sum(row[i + 1] for row in table_rows) for i in range(len(sources))]
        return Table(
            "inflow",
            _("Applications by source"),
            columns,
            table_rows,
            total=[_("Total"), *total_counts, sum(total_counts)],
            chart={
                "type": "bar",
                "stacked": True,
                "labels": [row[0] for row in table_rows],
                "series": [
                    {"label": str(labels[code]), "data": [row[i + 1] for row in table_rows]}
                    for i, code in enumerate(sources)
                ],
            },
        )

    def utm_table(self) -> Table:
        values, params = self.values_sql(["utm"])
        rows = sorted(
            (
                (*label.split(cells.UTM_SEPARATOR), int(count), int(won))
                for label, count, won in fetch(
                    f"SELECT v.label, SUM(v.n), SUM(v.m) FROM ({values}) v GROUP BY v.label",
                    params,
                )
            ),
            key=lambda row: (-row[3], row[0], row[1], row[2]),
        )
        return Table(
            "utm",
            _("Applications by UTM tags"),
            [
                Column("utm_source", "utm_source"),
                Column("utm_medium", "utm_medium"),
                Column("utm_campaign", "utm_campaign"),
                Column("applications", _("Applications"), "int"),
                Column("won", _("Won"), "int"),
                Column("conversion", _("Conversion, %"), "percent"),
            ],
            [[*row[:3], row[3], row[4], percent(row[4], row[3])] for row in rows],
            note=_("Empty tags: the lead came without UTM tags (or was entered by hand)."),
        )

    @cached_property
    def first_response(self) -> dict[Any, tuple[int, int, Any, Any, int, int]]:
        """Per manager id and for everyone ("*"): leads, answered, median and p90 seconds
        to the first manager action, leads answered within the SLA, leads that are due (answered,
        or waiting longer than the SLA)."""
        sla = self.sla_minutes * 60
        values, params = self.values_sql(["first"])
        rows = fetch(
            f"""WITH g AS (
              -- Summed per manager first: the few distinct values, not every cell, go on.
              SELECT v.manager_id, v.label, v.value, SUM(v.n) AS c FROM ({values}) v
              GROUP BY v.manager_id, v.label, v.value
            ),
            keyed AS (
              SELECT CAST(manager_id AS TEXT) AS k, label, value, c FROM g
              UNION ALL SELECT '*', label, value, c FROM g
            ),
            vcount AS (
              SELECT k, value AS v, SUM(c) AS c FROM keyed WHERE label = 'answered'
              GROUP BY k, value
            ),
            {percentiles_cte(counted=True)},
            counts AS (
              SELECT k, SUM(c) AS leads,
                     SUM(CASE WHEN label = 'answered' THEN c ELSE 0 END) AS answered,
                     SUM(CASE WHEN label = 'answered' AND value <= %s THEN c ELSE 0 END) AS kept,
                     SUM(CASE WHEN label = 'waiting' THEN c ELSE 0 END) AS waiting
              FROM keyed GROUP BY k
            )
            SELECT counts.k, leads, answered, p50, p90, kept, waiting
            FROM counts LEFT JOIN pct ON pct.k = counts.k""",
            [*params, sla],
        )
        # Leads still waiting but inside the SLA are not due yet: read by the clock from
        # the deals' own rows (a few, through the index on the instant). A whole second
        # counts as the SLA passed, as the database rounds the lead's age to seconds.
        dims, dim_params = self.dims_sql()
        since = self.now - timedelta(seconds=sla + 0.5)
        fresh = {"*": 0}
        for manager, count in fetch(
            f"""SELECT x.manager_id, COUNT(*) FROM {VALUE} x
            WHERE x.metric = 'first' AND x.label = 'waiting' AND x.at > %s
              AND x.at >= %s AND x.at < %s AND {dims}
            GROUP BY x.manager_id""",
            [since, self.filters.start_at, self.filters.end_at, *dim_params],
        ):
            fresh[str(manager)] = int(count)
            fresh["*"] += int(count)
        result: dict[Any, tuple[int, int, Any, Any, int, int]] = {}
        for key, leads, answered, p50, p90, kept, waiting in rows:
            due = int(answered or 0) + int(waiting or 0) - fresh.get(key, 0)
            manager = key if key == "*" else (int(key) or None)
            result[manager] = (int(leads), int(answered or 0), p50, p90, int(kept or 0), due)
        return result

    def first_response_table(self) -> Table:
        data = self.first_response
        managers = sorted((k for k in data if k != "*"), key=lambda k: self.user_label(k))
        rows = []
        for key in managers:
            leads, answered, p50, p90, kept, due = data[key]
            rows.append(
                [
                    self.user_label(key),
                    leads,
                    answered,
                    minutes(p50),
                    minutes(p90),
                    kept,
                    percent(kept, due),
                ]
            )
        total = None
        if "*" in data:
            leads, answered, p50, p90, kept, due = data["*"]
            total = [
                _("Everyone"),
                leads,
                answered,
                minutes(p50),
                minutes(p90),
                kept,
                percent(kept, due),
            ]
        return Table(
            "first_response",
            _("First response to new leads"),
            [
                Column("manager", _("Manager")),
                Column("leads", _("Leads"), "int"),
                Column("answered", _("Answered"), "int"),
                Column("median", _("Median, min"), "number"),
                Column("p90", _("90th percentile, min"), "number"),
                Column("kept", _("Within SLA"), "int"),
                Column("sla", _("SLA kept, %"), "percent"),
            ],
            rows,
            total=total,
            note=_(
                "A lead is an application that arrived by itself (form, API, e-mail); the "
                "response is the first thing a manager did on it. SLA: %(minutes)s minutes. "
                "Leads still inside the SLA are not counted against it."
            )
            % {"minutes": self.sla_minutes},
        )

    # --- manager actions ------------------------------------------------------------

    @cached_property
    def effort_rows(self) -> list[tuple[Any, ...]]:
        """(actor id, step, actions, minutes) over the filtered applications."""
        values, params = self.values_sql(["effort"])
        return [
            (int(actor), step, int(count), Decimal(int(tenths)) / 10)
            for actor, step, count, tenths in fetch(
                f"""SELECT v.value, v.label, SUM(v.n), SUM(v.total) FROM ({values}) v
                GROUP BY v.value, v.label""",
                params,
            )
        ]

    # --- funnel ---------------------------------------------------------------------

    @cached_property
    def history_rows(self) -> list[tuple[Any, ...]]:
        """Everything drawn from the stage history of the filtered applications, read from
        the cells and the deals' values (analytics/cells.py) in one query: rows
        ("reach", "<cohort month YYYYMM>|<current kind>", highest position reached, deals,
        None) for the funnel and ("pct", key, count, median, p90) for the time spent in
        each open stage ("stage:<code>", per deal, all visits added up, stages left only)
        and from application to proposal, signature and first payment ("proposal",
        "signed", "paid"), in tenths of a day.

        A deal has passed every stage up to the furthest one its history shows (skipped
        stages count as passed); lost is not a position, so a deal lost and reopened keeps
        what it had reached."""
        reach, reach_params = self.values_sql(["reach"])
        values, params = self.values_sql(["proposal", "signed", "paid", "stage"], undivided=True)
        open_stages = [stage.code for stage in self.stages if stage.kind == Stage.Kind.OPEN]
        open_codes = ", ".join(["%s"] * len(open_stages)) or "NULL"
        return fetch(
            f"""WITH vcount AS (
              SELECT CASE WHEN metric = 'stage' THEN 'stage:' || label ELSE metric END AS k,
                     value AS v, SUM(n) AS c
              FROM ({values}) v
              WHERE metric <> 'stage' OR label IN ({open_codes})
              GROUP BY CASE WHEN metric = 'stage' THEN 'stage:' || label ELSE metric END, value
            ),
            {percentiles_cte(counted=True)}
            SELECT 'pct', k, n, p50, p90 FROM pct
            UNION ALL
            SELECT 'reach', CAST(mon AS TEXT) || '|' || label, value, SUM(n), NULL
            FROM ({reach}) r
            GROUP BY mon, label, value""",
            [*params, *open_stages, *reach_params],
        )

    @cached_property
    def reach_rows(self) -> list[tuple[Any, ...]]:
        """(cohort month, highest stage position reached, current kind, deals)."""
        rows = []
        for kind, key, top, count, _none in self.history_rows:
            if kind == "reach":
                when, current = key.split("|")
                # PostgreSQL gives this column the union's type, numeric (a SUM of seconds).
                rows.append((month_date(int(when)), int(top), current, int(count)))
        return rows

    @cached_property
    def history_percentiles(self) -> dict[str, tuple[Any, ...]]:
        """Per key of `history_rows`' "pct" rows: (key, count, median, p90), the percentiles
        in seconds (the values are kept in tenths of a day, what the tables print)."""
        return {
            key: (key, int(n), *(None if p is None else int(p) * 8640 for p in (p50, p90)))
            for kind, key, n, p50, p90 in self.history_rows
            if kind == "pct"
        }

    @cached_property
    def funnel_stages(self) -> list[Stage]:
        return [stage for stage in self.stages if stage.kind != Stage.Kind.LOST]

    @cached_property
    def reach_by_cohort(self) -> dict[date, list[tuple[int, str, int]]]:
        by_cohort: dict[date, list[tuple[int, str, int]]] = defaultdict(list)
        for when, top, kind, count in self.reach_rows:
            by_cohort[day_key(when)].append((top, kind, count))
        return by_cohort

    def reached(self, position: int, cohort: date | None = None) -> int:
        cohorts = [cohort] if cohort is not None else list(self.reach_by_cohort)
        return sum(
            count
            for key in cohorts
            for top, _kind, count in self.reach_by_cohort.get(key, ())
            if top >= position
        )

    def funnel_tables(self) -> list[Table]:
        return [self.funnel_table(), self.cohort_table(), self.lost_reasons_table()]

    def funnel_table(self) -> Table:
        applications = self.reached(0)
        rows, previous = [], None
        for stage in self.funnel_stages:
            count = self.reached(stage.position)
            rows.append(
                [
                    stage.label,
                    count,
                    percent(count, previous) if previous is not None else None,
                    percent(count, applications),
                ]
            )
            previous = count
        return Table(
            "funnel",
            _("Funnel"),
            [
                Column("stage", _("Stage")),
                Column("reached", _("Reached"), "int"),
                Column("step", _("From the previous stage, %"), "percent"),
                Column("overall", _("From application, %"), "percent"),
            ],
            rows,
            note=_(
                "Applications received in the period. A deal that skipped a stage counts "
                "as having passed it; one that was lost and reopened keeps what it reached."
            ),
            chart={
                "type": "bar",
                "horizontal": True,
                "labels": [row[0] for row in rows],
                "series": [{"label": str(_("Reached")), "data": [row[1] for row in rows]}],
            },
        )

    def cohort_table(self) -> Table:
        positions = {stage.code: stage.position for stage in self.stages}
        cohorts = sorted(self.reach_by_cohort)
        rows = []
        for cohort in cohorts:
            mine = self.reach_by_cohort[cohort]
            total = sum(count for _top, _kind, count in mine)
            won = sum(count for _top, kind, count in mine if kind == Stage.Kind.WON)
            lost = sum(count for _top, kind, count in mine if kind == Stage.Kind.LOST)
            rows.append(
                [
                    cohort,
                    total,
                    self.reached(positions[PROPOSAL_SENT], cohort),
                    self.reached(positions[CONTRACT_SIGNED], cohort),
                    won,
                    lost,
                    total - won - lost,
                    percent(won, total),
                    percent(won, won + lost),
                ]
            )
        totals = None
        if rows:
            sums = [sum(row[i] for row in rows) for i in range(1, 7)]
            totals = [
                _("Total"),
                *sums,
                percent(sums[3], sums[0]),
                percent(sums[3], sums[3] + sums[4]),
            ]
        return Table(
            "cohorts",
            _("Cohorts: applications by month received"),
            [
                Column("cohort", _("Month received"), "month"),
                Column("applications", _("Applications"), "int"),
                Column("proposal", self.stage_labels[PROPOSAL_SENT], "int"),
                Column("signed", self.stage_labels[CONTRACT_SIGNED], "int"),
                Column("won", _("Won"), "int"),
                Column("lost", pgettext_lazy("deals", "Lost"), "int"),
                Column("open", _("Still open"), "int"),
                Column("conversion", _("Conversion, %"), "percent"),
                Column("win_rate", _("Win rate, %"), "percent"),
            ],
            rows,
            total=totals,
            note=_("Win rate: won out of the closed ones (won + lost)."),
        )

    def lost_reasons_table(self) -> Table:
        values, params = self.values_sql(["deal"])
        rows = sorted(
            (
                (int(reason) or None, currency, int(count), int(commented), value)
                for reason, currency, count, commented, value in fetch(
                    f"""SELECT v.value, v.currency, SUM(v.n), SUM(v.m), SUM(v.total)
                    FROM ({values}) v WHERE v.label = 'lost'
                    GROUP BY v.value, v.currency""",
                    params,
                )
            ),
            key=lambda row: (-row[2], row[1], row[0] or 0),
        )
        labels = {reason.pk: reason.label for reason in LostReason.objects.all()}
        return Table(
            "lost_reasons",
            _("Lost reasons"),
            [
                Column("reason", _("Reason")),
                Column("currency", _("Currency")),
                Column("deals", _("Deals"), "int"),
                Column("comments", _("With a comment"), "int"),
                Column("value", _("Value"), "money"),
            ],
            [
                [labels.get(reason, _("Not given")), currency, count, commented, from_cents(value)]
                for reason, currency, count, commented, value in rows
            ],
        )

    # --- speed ----------------------------------------------------------------------

    def speed_tables(self) -> list[Table]:
        return [
            self.stage_time_table(),
            self.milestones_table(),
            self.slowest_table(),
            self.reminders_table(),
        ]

    def stage_time_table(self) -> Table:
        by_stage = {
            key.removeprefix("stage:"): row
            for key, row in self.history_percentiles.items()
            if key.startswith("stage:")
        }
        table_rows = []
        for stage in self.stages:
            if stage.kind != Stage.Kind.OPEN:
                continue
            _key, count, p50, p90 = by_stage.get(stage.code, (stage.code, 0, None, None))
            table_rows.append([stage.label, count, days(p50), days(p90)])
        return Table(
            "stage_time",
            _("Time in each stage"),
            [
                Column("stage", _("Stage")),
                Column("deals", _("Deals that left it"), "int"),
                Column("median", _("Median, days"), "days"),
                Column("p90", _("90th percentile, days"), "days"),
            ],
            table_rows,
            note=_(
                "Per deal, all visits to a stage added up; only stages the deal has left. "
                "Percentiles by nearest rank."
            ),
            chart={
                "type": "bar",
                "labels": [row[0] for row in table_rows],
                "series": [
                    {"label": str(_("Median, days")), "data": [row[2] for row in table_rows]},
                    {
                        "label": str(_("90th percentile, days")),
                        "data": [row[3] for row in table_rows],
                    },
                ],
            },
        )

    def milestones_table(self) -> Table:
        by_key = self.history_percentiles
        labels = [
            ("proposal", _("Application → proposal sent")),
            ("signed", _("Application → contract signed")),
            ("paid", _("Application → first payment")),
        ]
        table_rows = []
        for key, label in labels:
            _key, count, p50, p90 = by_key.get(key, (key, 0, None, None))
            table_rows.append([label, count, days(p50), days(p90)])
        return Table(
            "milestones",
            _("From application to proposal, signature and payment"),
            [
                Column("milestone", _("Path")),
                Column("deals", _("Deals"), "int"),
                Column("median", _("Median, days"), "days"),
                Column("p90", _("90th percentile, days"), "days"),
            ],
            table_rows,
        )

    @cached_property
    def reminder_rules(self) -> list[tuple[int, str, str]]:
        """(id, name, condition) of the automation rules that e-mail the client a reminder,
        in the studio's order. The rules and their timers are the flow app's tables, read
        through the app registry: analytics and flow share a floor and import each other's
        code neither way."""
        rule = apps.get_model("flow", "Rule")._meta.db_table
        conditions = ", ".join(["%s"] * len(REMINDER_KINDS))
        return fetch(
            f"""SELECT r.id, r.name, r.condition FROM {rule} r
            WHERE r.action = 'email_client' AND r.condition IN ({conditions})
            ORDER BY r."order", r.id""",
            list(REMINDER_KINDS),
        )

    @cached_property
    def reminder_rows(self) -> dict[str, tuple[int, int, Any]]:
        """Per rule id (as text), per kind ("kind:<condition>") and for all ("*"): reminders
        sent in the period, how many the client answered within REMINDER_ANSWER_DAYS, and
        the median seconds to that answer (nearest rank, over the answered ones).

        A reminder was sent when its timer fired and the letter it queued (the outbox row
        with the rule's dedupe key) did not fail. The client answered when the deal has one
        of the kind's events after the reminder went out."""
        timer = apps.get_model("flow", "Timer")._meta.db_table
        rule = apps.get_model("flow", "Rule")._meta.db_table
        where, params = self.where(period=False)
        kinds, kind_params = [], []
        for condition, (_label, names) in REMINDER_KINDS.items():
            for name in names:
                kinds.append("(%s, %s)")
                kind_params += [condition, name]
        conditions = ", ".join(["%s"] * len(REMINDER_KINDS))
        limit = REMINDER_ANSWER_DAYS * 86400
        rows = fetch(
            f"""WITH kinds(cond, name) AS (VALUES {", ".join(kinds)}),
            rem AS (
              SELECT t.rule_id, r.condition AS cond, t.deal_id, t.fired_at
              FROM {timer} t JOIN {rule} r ON r.id = t.rule_id
              JOIN {DEAL} d ON d.id = t.deal_id
              JOIN {OUTBOX} o
                ON o.dedupe_key = 'rule:' || r.code || ':' || CAST(t.event_id AS TEXT)
              WHERE t.status = 'done' AND r.action = 'email_client'
                AND r.condition IN ({conditions}) AND o.status <> 'failed'
                AND t.fired_at >= %s AND t.fired_at < %s AND {where}
            ),
            answered AS (
              SELECT rem.rule_id, rem.cond, rem.fired_at,
                     (SELECT MIN(e.at) FROM {EVENT} e JOIN kinds k ON k.name = e.name
                      WHERE e.deal_id = rem.deal_id AND k.cond = rem.cond
                        AND e.at > rem.fired_at) AS answer_at
              FROM rem
            ),
            timed AS (
              SELECT rule_id, cond,
                     CASE WHEN answer_at IS NULL THEN NULL
                          ELSE {seconds_between("fired_at", "answer_at")} END AS wait
              FROM answered
            ),
            keyed AS (
              SELECT CAST(rule_id AS TEXT) AS k, wait FROM timed
              UNION ALL SELECT 'kind:' || cond, wait FROM timed
              UNION ALL SELECT '*', wait FROM timed
            ),
            vals AS (SELECT k, wait AS v FROM keyed WHERE wait <= %s),
            {percentiles_cte()},
            counts AS (
              SELECT k, COUNT(*) AS sent,
                     SUM(CASE WHEN wait <= %s THEN 1 ELSE 0 END) AS acted
              FROM keyed GROUP BY k
            )
            SELECT counts.k, sent, acted, p50 FROM counts LEFT JOIN pct ON pct.k = counts.k""",
            [
                *kind_params,
                *REMINDER_KINDS,
                self.filters.start_at,
                self.filters.end_at,
                *params,
                limit,
                limit,
            ],
        )
        return {key: (sent, acted or 0, p50) for key, sent, acted, p50 in rows}

    def reminders_table(self) -> Table:
        data = self.reminder_rows

        def row(label: Any, kind: Any, key: str) -> list[Any]:
            sent, acted, p50 = data.get(key, (0, 0, None))
            hours = None if p50 is None else ratio(p50, 3600)
            return [label, kind, sent, acted, percent(acted, sent), hours]

        rows = []
        for condition, (kind_label, _names) in REMINDER_KINDS.items():
            rules = [r for r in self.reminder_rules if r[2] == condition]
            rows += [row(gettext(name), kind_label, str(pk)) for pk, name, _c in rules]
            if len(rules) > 1:
                rows.append(row(_("All reminders of this kind"), kind_label, f"kind:{condition}"))
        kind_rows = [
            (label, data.get(f"kind:{condition}", (0, 0, None)))
            for condition, (label, _names) in REMINDER_KINDS.items()
        ]
        return Table(
            "reminders",
            _("Did the client act after an automatic reminder?"),
            [
                Column("reminder", _("Reminder")),
                Column("kind", _("Kind")),
                Column("sent", pgettext_lazy("reminders", "Sent"), "int"),
                Column(
                    "acted",
                    _("Client acted within %(days)s days") % {"days": REMINDER_ANSWER_DAYS},
                    "int",
                ),
                Column("acted_share", _("Acted, %"), "percent"),
                Column("median", _("Median, hours to act"), "number"),
            ],
            rows,
            total=row(_("All reminders"), "", "*"),
            note=_(
                "Reminder letters the automation rules sent in the period. The client acted: "
                "submitted the brief, accepted the proposal, signed, or paid on that deal "
                "within %(days)s days after the letter went out. Median over those who did."
            )
            % {"days": REMINDER_ANSWER_DAYS},
            chart={
                "type": "bar",
                "labels": [str(label) for label, _v in kind_rows],
                "series": [
                    {
                        "label": str(pgettext_lazy("reminders", "Sent")),
                        "data": [values[0] for _l, values in kind_rows],
                    },
                    {
                        "label": str(_("Client acted")),
                        "data": [values[1] for _l, values in kind_rows],
                    },
                ],
            },
        )

    def slowest_table(self) -> Table:
        where, params = self.where(period=False)
        rows = fetch(
            f"""SELECT d.id, d.title, d.manager_id, d.stage_id,
                       {seconds_between("d.stage_changed_at", "%s")},
                       {seconds_between("d.created_at", "%s")},
                       {AMOUNT}, d.currency
                FROM {DEAL} d JOIN {STAGE} s ON s.code = d.stage_id
                WHERE s.kind = 'open' AND {where}
                ORDER BY d.stage_changed_at, d.id
                LIMIT 10""",
            [self.now, self.now, *params],
        )
        return Table(
            "slowest",
            _("Slowest open deals"),
            [
                Column("deal", _("Deal"), "link"),
                Column("manager", _("Manager")),
                Column("stage", _("Stage")),
                Column("in_stage", _("Days in stage"), "days"),
                Column("age", _("Days since application"), "days"),
                Column("amount", _("Amount"), "money"),
                Column("currency", _("Currency")),
            ],
            [
                [
                    (pk, title),
                    self.user_label(manager),
                    self.stage_labels.get(stage, stage),
                    days(in_stage),
                    days(age),
                    None if amount is None else Decimal(str(amount)).quantize(Decimal("0.01")),
                    currency,
                ]
                for pk, title, manager, stage, in_stage, age, amount, currency in rows
            ],
            note=_("Open deals now, the longest in their current stage first."),
        )

    # --- money ----------------------------------------------------------------------

    def money_tables(self) -> list[Table]:
        return [self.money_month_table(), self.money_summary_table(), self.pipeline_table()]

    @cached_property
    def money_month_rows(self) -> dict[tuple[date, str], dict[str, Any]]:
        period, period_params = self.values_sql(["deal", "won", "invoiced", "payment"])
        months, month_params = self.values_sql(["opened", "closed"], "months")
        rows = fetch(
            f"""SELECT v.metric, v.mon, v.currency, SUM(v.n), SUM(v.total)
            FROM ({period}) v GROUP BY v.metric, v.mon, v.currency
            UNION ALL
            SELECT w.metric, w.mon, w.currency, SUM(w.n), SUM(w.total)
            FROM ({months}) w GROUP BY w.metric, w.mon, w.currency""",
            [*period_params, *month_params],
        )
        result: dict[tuple[date, str], dict[str, Any]] = defaultdict(dict)
        # In work at a month's end: valued deals opened before the month ended and not
        # closed by then (a deal reopened after losing counts as never closed) — those in
        # work when the period began, plus the ones opened, less the ones closed, month by
        # month.
        names = {"deal": "new", "won": "won", "invoiced": "invoiced", "payment": "paid"}
        work: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for metric, mon, currency, count, value in rows:
            count, value = int(count), int(value or 0)
            if metric in ("opened", "closed"):
                sign = 1 if metric == "opened" else -1
                work[currency][int(mon)][0] += sign * count
                work[currency][int(mon)][1] += sign * value
                continue
            cell = result[(month_date(int(mon)), currency)]
            cell[names[metric]] = from_cents(value)
            cell[f"{names[metric]}_count"] = count
        for currency, per_month in work.items():
            count, value = per_month.get(0, (0, 0))
            for month in months_between(self.filters.start, self.filters.end):
                change = per_month.get(cells.month_number(month), (0, 0))
                count, value = count + change[0], value + change[1]
                if count:
                    result[(month, currency)].update(in_work=from_cents(value), in_work_count=count)
        return result

    def money_month_table(self) -> Table:
        data = self.money_month_rows
        keys = sorted(data, key=lambda key: (key[1], key[0]))
        rows = [
            [
                month,
                currency,
                data[key].get("new", Decimal("0.00")),
                data[key].get("in_work", Decimal("0.00")),
                data[key].get("won_count", 0),
                data[key].get("won", Decimal("0.00")),
                data[key].get("invoiced", Decimal("0.00")),
                data[key].get("paid", Decimal("0.00")),
            ]
            for key in keys
            for month, currency in [key]
        ]
        charts = currency_charts(
            rows, [(_("Won"), 5), (pgettext_lazy("money", "Invoiced"), 6), (_("Paid"), 7)]
        )
        return Table(
            "money_month",
            _("Money by month"),
            [
                Column("month", _("Month"), "month"),
                Column("currency", _("Currency")),
                Column("new", _("New applications' value"), "money"),
                Column("in_work", _("In work at month end"), "money"),
                Column("won_deals", _("Won deals"), "int"),
                Column("won", _("Won value"), "money"),
                Column("invoiced", pgettext_lazy("money", "Invoiced"), "money"),
                Column("paid", _("Paid"), "money"),
            ],
            rows,
            note=_(
                "Each currency on its own. Won: by the day the deal was won; invoiced: by "
                "issue date, less credit notes; paid: by the day the payment was received."
            ),
            chart={"multi": charts} if charts else None,
        )

    @cached_property
    def pipeline_rows(self) -> list[tuple[Any, ...]]:
        """(stage code, currency, open deals, value in cents, weighted value in
        cent-percents, probability) of the open deals now, in the stages' order."""
        values, params = self.values_sql(["open"], "all")
        stages = {stage.code: stage for stage in self.stages}
        rows = []
        for code, currency, count, value in fetch(
            f"""SELECT v.label, v.currency, SUM(v.n), SUM(v.total) FROM ({values}) v
            GROUP BY v.label, v.currency""",
            params,
        ):
            if code in stages and stages[code].kind == Stage.Kind.OPEN:
                probability = stages[code].probability
                rows.append(
                    (code, currency, int(count), int(value), int(value) * probability, probability)
                )
        return sorted(rows, key=lambda row: (stages[row[0]].position, row[1]))

    def pipeline_table(self) -> Table:
        rows = [
            [
                self.stage_labels.get(code, code),
                currency,
                count,
                from_cents(value),
                probability,
                from_cents(weighted, 100),
            ]
            for code, currency, count, value, weighted, probability in self.pipeline_rows
        ]
        charts = currency_charts(rows, [(_("Value"), 3), (_("Weighted"), 5)])
        return Table(
            "pipeline",
            _("Pipeline by stage"),
            [
                Column("stage", _("Stage")),
                Column("currency", _("Currency")),
                Column("deals", _("Open deals"), "int"),
                Column("value", _("Value"), "money"),
                Column("probability", _("Probability, %"), "int"),
                Column("weighted", _("Weighted value"), "money"),
            ],
            rows,
            note=_("Open deals now; the probability per stage is set under Analytics → Settings."),
            chart={"multi": charts} if charts else None,
        )

    def money_summary_table(self) -> Table:
        where, params = self.where(period=False)
        invoice_where, _p = self.where(period=False, currency="i.currency")
        today = timezone.localtime(self.now, zoneinfo.ZoneInfo(self.filters.tzname)).date()
        horizon = today + timedelta(days=FORECAST_DAYS)
        outstanding = cents("i.total - i.credited_amount - i.paid_amount")
        statuses = ", ".join(f"'{status}'" for status in OPEN_INVOICE)
        rows = fetch(
            f"""SELECT 'receivable', i.currency, COUNT(*), SUM({outstanding}),
                   SUM(CASE WHEN i.due_date <= %s THEN {outstanding} ELSE 0 END)
            FROM {INVOICE} i JOIN {DEAL} d ON d.id = i.deal_id
            WHERE i.kind = 'invoice' AND i.status IN ({statuses})
              AND {invoice_where}
            GROUP BY i.currency
            UNION ALL
            SELECT 'overdue', i.currency, COUNT(*), SUM({outstanding}), 0
            FROM {INVOICE} i JOIN {DEAL} d ON d.id = i.deal_id
            WHERE i.kind = 'invoice' AND i.status IN ({statuses}) AND i.due_date < %s
              AND {invoice_where}
            GROUP BY i.currency""",
            [horizon, *params, today, *params],
        )
        figures: dict[str, dict[str, Any]] = defaultdict(dict)
        for measure, currency, count, value, extra in rows:
            figures[currency][measure] = (count, value, extra)
        # Open deals with no invoice yet, weighted by their stage's probability.
        uninvoiced, uninvoiced_params = self.values_sql(["uninvoiced"], "all")
        probability = {stage.code: stage.probability for stage in self.stages}
        for code, currency, count, value in fetch(
            f"""SELECT v.label, v.currency, SUM(v.n), SUM(v.total) FROM ({uninvoiced}) v
            GROUP BY v.label, v.currency""",
            uninvoiced_params,
        ):
            _c, weighted, _x = figures[currency].get("uninvoiced", (0, 0, 0))
            figures[currency]["uninvoiced"] = (
                _c + int(count),
                weighted + int(value) * probability.get(code, 0),
                0,
            )
        # Won in the period: the month rows' won deals (computed once), added up exactly.
        for (_month, currency), cell in self.money_month_rows.items():
            if cell.get("won_count"):
                count, value, _x = figures[currency].get("won", (0, Decimal("0.00"), 0))
                figures[currency]["won"] = (count + cell["won_count"], value + cell["won"], 0)
        for _code, currency, count, _value, weighted, _p in self.pipeline_rows:
            figures[currency].setdefault("pipeline", [0, 0])
            figures[currency]["pipeline"][0] += count
            figures[currency]["pipeline"][1] += weighted or 0
        months = self.money_month_rows
        table_rows = []
        for currency in sorted(figures):
            data = figures[currency]
            won_count, won_value, _x = data.get("won", (0, 0, 0))
            open_count, receivable, due_soon = data.get("receivable", (0, 0, 0))
            overdue_count, overdue, _y = data.get("overdue", (0, 0, 0))
            _u, uninvoiced_weighted, _z = data.get("uninvoiced", (0, 0, 0))
            invoiced = sum(
                (
                    cell.get("invoiced", Decimal(0))
                    for (m, c), cell in months.items()
                    if c == currency
                ),
                Decimal("0.00"),
            )
            paid = sum(
                (cell.get("paid", Decimal(0)) for (m, c), cell in months.items() if c == currency),
                Decimal("0.00"),
            )
            won = Decimal(won_value).quantize(CENT)
            table_rows.append(
                [
                    currency,
                    won_count,
                    won,
                    (won / won_count).quantize(Decimal("0.01"), ROUND_HALF_UP)
                    if won_count
                    else None,
                    invoiced,
                    paid,
                    open_count,
                    from_cents(receivable),
                    overdue_count,
                    from_cents(overdue),
                    from_cents(data.get("pipeline", [0, 0])[1], 100),
                    from_cents(due_soon) + from_cents(uninvoiced_weighted, 100),
                ]
            )
        return Table(
            "money_summary",
            _("Money by currency"),
            [
                Column("currency", _("Currency")),
                Column("won_deals", _("Won deals"), "int"),
                Column("won", _("Won value"), "money"),
                Column("average", _("Average deal"), "money"),
                Column("invoiced", pgettext_lazy("money", "Invoiced"), "money"),
                Column("paid", _("Paid"), "money"),
                Column("open_invoices", _("Unpaid invoices"), "int"),
                Column("receivable", _("Receivables"), "money"),
                Column("overdue_invoices", _("Overdue invoices"), "int"),
                Column("overdue", _("Overdue"), "money"),
                Column("weighted", _("Weighted pipeline"), "money"),
                Column("forecast", _("Forecast, 90 days"), "money"),
            ],
            table_rows,
            note=_(
                "Won, invoiced and paid: in the period. Receivables, pipeline and forecast: "
                "now. The 90-day forecast is what is still due on invoices falling due within "
                "90 days (overdue included) plus the weighted value of open deals not yet "
                "invoiced."
            ),
        )

    # --- effort ---------------------------------------------------------------------

    @cached_property
    def applications(self) -> int:
        return self.reached(0)

    def effort_tables(self) -> list[Table]:
        per_step: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
        for _actor, step, count, total in self.effort_rows:
            per_step[step][0] += count
            per_step[step][1] += float(total or 0)
        applications = self.applications
        positions = {stage.code: stage.position for stage in self.stages}
        first_stage = {
            "register": "new",
            "brief": "brief_sent",
            "estimate": "estimated",
            "proposal": "proposal_sent",
            "contract": "contract_sent",
            "invoice": "invoiced",
        }
        rows = []
        for code, label, before, after in effort.STEPS:
            actions, spent = per_step.get(code, [0, 0.0])
            reached = (
                self.reached(positions[first_stage[code]]) if code in first_stage else applications
            )
            rows.append(
                [
                    label,
                    actions,
                    ratio(actions, applications),
                    ratio(spent, applications),
                    reached,
                    ratio(spent, reached),
                    before or None,
                    after or None,
                ]
            )
        all_actions = sum(values[0] for values in per_step.values())
        all_minutes = sum(values[1] for values in per_step.values())
        total = [
            _("Per application"),
            all_actions,
            ratio(all_actions, applications),
            ratio(all_minutes, applications),
            applications,
            None,
            effort.ARTICLE_BEFORE,
            effort.ARTICLE_AFTER,
        ]
        return [
            Table(
                "effort",
                _("Manager effort per application"),
                [
                    Column("step", _("Step")),
                    Column("actions", _("Actions"), "int"),
                    Column("actions_per", _("Actions per application"), "number"),
                    Column("minutes_per", _("Minutes per application"), "number"),
                    Column("reached", _("Applications that reached the step"), "int"),
                    Column(
                        "minutes_per_reached", _("Minutes per application at this step"), "number"
                    ),
                    Column("before", _("Article: before, min"), "int"),
                    Column("after", _("Article: after, min"), "int"),
                ],
                rows,
                total=total,
                note=_(
                    "Estimated from the recorded actions of people (edits, sends, stage moves, "
                    "tasks), each weighed in minutes as documented in the analytics guide; the "
                    "article's studio measured 110 minutes per application before automation "
                    "and 32 after."
                ),
                chart={
                    "type": "bar",
                    "labels": [row[0] for row in rows[:-1]],
                    "series": [
                        {
                            "label": str(_("Minutes per application at this step")),
                            "data": [row[5] for row in rows[:-1]],
                        },
                        {
                            "label": str(_("Article: after, min")),
                            "data": [row[7] for row in rows[:-1]],
                        },
                        {
                            "label": str(_("Article: before, min")),
                            "data": [row[6] for row in rows[:-1]],
                        },
                    ],
                },
            )
        ]

    # --- per manager ----------------------------------------------------------------

    def managers_tables(self) -> list[Table]:
        values, params = self.values_sql(["deal"])
        outcomes = [
            (int(manager) or None, int(count), int(won), int(lost))
            for manager, count, won, lost in fetch(
                f"""SELECT v.manager_id, SUM(v.n),
                           SUM(CASE WHEN v.label = 'won' THEN v.n ELSE 0 END),
                           SUM(CASE WHEN v.label = 'lost' THEN v.n ELSE 0 END)
                    FROM ({values}) v GROUP BY v.manager_id""",
                params,
            )
        ]
        task_where = "1 = 1"
        task_params: list[Any] = []
        if self.filters.manager_id:
            task_where, task_params = "t.assignee_id = %s", [self.filters.manager_id]
        tasks = fetch(
            f"""SELECT t.assignee_id,
                       SUM(CASE WHEN t.done THEN 0 ELSE 1 END),
                       SUM(CASE WHEN NOT t.done AND t.due_at < %s THEN 1 ELSE 0 END)
                FROM {TASK} t WHERE {task_where} GROUP BY t.assignee_id""",
            [self.now, *task_params],
        )
        effort_by_actor: dict[int, list[Any]] = defaultdict(lambda: [0, 0.0])
        for actor, _step, count, total in self.effort_rows:
            effort_by_actor[actor][0] += count
            effort_by_actor[actor][1] += float(total or 0)
        per: dict[Any, dict[str, Any]] = defaultdict(dict)
        for manager, count, won, lost in outcomes:
            per[manager].update(apps=count, won=won or 0, lost=lost or 0)
        for assignee, open_tasks, overdue in tasks:
            per[assignee].update(open_tasks=open_tasks or 0, overdue=overdue or 0)
        for actor in effort_by_actor:
            per.setdefault(actor, {})
        response = self.first_response
        rows = []
        for manager in sorted(per, key=lambda key: (key is None, self.user_label(key))):
            data = per[manager]
            apps, won, lost = data.get("apps", 0), data.get("won", 0), data.get("lost", 0)
            actions, spent = effort_by_actor.get(manager, [0, 0.0]) if manager else (0, 0.0)
            leads, _answered, p50, _p90, kept, due = response.get(manager, (0, 0, None, None, 0, 0))
            rows.append(
                [
                    self.user_label(manager),
                    apps,
                    won,
                    lost,
                    apps - won - lost,
                    percent(won, won + lost),
                    minutes(p50),
                    percent(kept, due),
                    actions,
                    ratio(actions, apps),
                    ratio(spent, apps),
                    data.get("open_tasks", 0),
                    data.get("overdue", 0),
                ]
            )
        return [
            Table(
                "managers",
                _("Per manager"),
                [
                    Column("manager", _("Manager")),
                    Column("applications", _("Applications"), "int"),
                    Column("won", _("Won"), "int"),
                    Column("lost", pgettext_lazy("deals", "Lost"), "int"),
                    Column("open", _("Still open"), "int"),
                    Column("win_rate", _("Win rate, %"), "percent"),
                    Column("first_response", _("First response, median min"), "number"),
                    Column("sla", _("SLA kept, %"), "percent"),
                    Column("actions", _("Actions"), "int"),
                    Column("actions_per", _("Actions per application"), "number"),
                    Column("minutes_per", _("Minutes per application"), "number"),
                    Column("open_tasks", _("Open tasks"), "int"),
                    Column("overdue_tasks", _("Overdue tasks"), "int"),
                ],
                rows,
                note=_(
                    "Applications received in the period by the responsible manager; actions "
                    "by the person who took them; tasks open now."
                ),
            )
        ]
