"""Per-deal facts drawn from the stage history, kept up to date by a watermark.

The funnel, time in each stage, the milestones, first response, effort and won-by-month all
read the stage history; at a hundred thousand deals (a million changes) windowing it on
every cold dashboard took seconds. These tables hold, per deal, what those reports need
(`DealFacts`, `DealStageTime`, `DealMoves`), so a report reads a row per deal instead.

How they stay exact, whatever wrote the history (services, imports, the demo's bulk rows):
one set-based refresh rebuilds the facts of a set of deals from their changes (delete, then
INSERT … SELECT), used both for the full rebuild and for catching up. Before a report reads
them, `catch_up` compares the stage history's newest id with the watermark (one query); when
changes arrived, it refreshes just the deals that have them — a fixed number of queries
whatever the amount of data. A change of the stages' codes, positions or kinds rebuilds all.

Concurrency: the catch-up runs in one transaction that first locks the state row, so two
processes catching up at once take turns and the second finds nothing left to do. On
PostgreSQL ids are handed out before their transactions commit, so a lower id can become
visible after a higher one; the watermark therefore only moves past an id once every
transaction that was running when it was read has ended (see `FactsState`), and a deal is
refreshed when its number of changes differs from the one folded in. SQLite has one writer
at a time, so its ids commit in order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from studiocrm.analytics import cells
from studiocrm.analytics.cells import DEAL, FACTS, MOVES, STAGE_TIME, empty_tables
from studiocrm.analytics.models import FactsState
from studiocrm.analytics.sql import fetch, seconds_between
from studiocrm.core.models import Studio
from studiocrm.deals.models import CONTRACT_SIGNED, PROPOSAL_SENT, Stage, StageChange

STATE = FactsState._meta.db_table
CHANGE = StageChange._meta.db_table
REFRESH = "analytics_refresh_ids"


def stage_signature(stages: Sequence[Stage]) -> str:
    """What the facts and values depend on besides the rows: the stage table's codes,
    positions and kinds, and the studio's time zone (the values' local months)."""
    signature = ";".join(
        f"{s.code}:{s.position}:{s.kind}" for s in sorted(stages, key=lambda s: s.code)
    )
    return f"{time_zone()}|{signature}"


def time_zone() -> str:
    """The studio's time zone: the one the cells' months are local to."""
    return Studio.load().time_zone


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def needs_catch_up(stages: Sequence[Stage]) -> bool:
    """One query: do changes above the watermark, deals changed in place, or a changed
    stage table or time zone await?"""
    rows = fetch(
        f"""SELECT s.watermark, s.stages, (SELECT MAX(id) FROM {CHANGE}),
                  CASE WHEN EXISTS (SELECT 1 FROM {cells.DIRTY}) THEN 1 ELSE 0 END
        FROM {STATE} s WHERE s.id = 1"""
    )
    if not rows:
        return True
    watermark, signature, newest, dirty = rows[0]
    return signature != stage_signature(stages) or (newest or 0) > watermark or bool(dirty)


def catch_up(stages: Sequence[Stage] | None = None, *, rebuild: bool = False) -> dict[str, Any]:
    """Bring the facts up to date with the stage history; with `rebuild`, every deal.

    Returns what was done: deals refreshed, whether it was a rebuild, seconds taken."""
    stages = list(stages if stages is not None else Stage.objects.order_by("position"))
    if not rebuild and not needs_catch_up(stages):
        return {"deals": 0, "rebuild": False, "seconds": 0.0}
    began = time.perf_counter()
    signature = stage_signature(stages)
    with transaction.atomic():
        FactsState.objects.get_or_create(pk=1)
        # The lock: a second process catching up waits here, then sees the first's work.
        FactsState.objects.filter(pk=1).update(pending_max=F("pending_max"))
        if _postgres():
            with connection.cursor() as cursor:
                # Compiling the rebuild's statements took longer than running them.
                cursor.execute("SET LOCAL jit = off")
        state = FactsState.objects.get(pk=1)
        full = rebuild or state.stages != signature
        newest, settled_now, earlier_ended, snapshot_xmax = _history_snapshot(state.pending_xmax)
        # Ids up to the watermark were committed before the last catch-up: still folded.
        # Above it, a lower id may have committed after a higher one was read: look again.
        dirty_seen = max(state.dirty_seen, _fill_refresh_ids(full, state.watermark))
        deals = _refresh(stages, full=full)
        cells.refresh(f"SELECT deal_id FROM {REFRESH}", signature.split("|")[0], full=full)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {REFRESH}")
        watermark = state.watermark
        if earlier_ended:
            # Every transaction that could still commit an id up to pending_max has ended,
            # and this pass has read them all.
            watermark = max(watermark, min(state.pending_max, newest))
        if settled_now:
            watermark = newest
        FactsState.objects.filter(pk=1).update(
            watermark=watermark,
            pending_max=newest,
            pending_xmax=None if settled_now else snapshot_xmax,
            stages=signature,
            dirty_seen=dirty_seen,
            **({"rebuilt_at": timezone.now()} if full else {}),
        )
    if full:
        # Fresh statistics for the planner: the tables were just filled from nothing.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {FACTS}")
            cursor.execute(f"ANALYZE {STAGE_TIME}")
            cursor.execute(f"ANALYZE {MOVES}")
            cursor.execute(f"ANALYZE {cells.VALUE}")
            cursor.execute(f"ANALYZE {cells.CELL}")
    return {"deals": deals, "rebuild": full, "seconds": time.perf_counter() - began}


def keep_up() -> dict[str, Any] | None:
    """The worker's periodic job (settings.PERIODIC_JOBS): catch up in the background, so a
    report finds the facts current and the first report after a deploy or a large import does
    not build them inside its request. Returns what was done, or None when nothing was new
    (the worker logs only what a job returns)."""
    done = catch_up()
    return done if done["deals"] or done["rebuild"] else None


def _history_snapshot(pending_xmax: int | None) -> tuple[int, bool, bool, int | None]:
    """Read at one moment: the newest change id; whether no other transaction is running
    (none can still commit a lower id); whether every other transaction that was running
    at the last catch-up (ids below `pending_xmax`) has ended; and (PostgreSQL) the next
    transaction id. This transaction itself never counts."""
    if not _postgres():
        (newest,) = fetch(f"SELECT COALESCE(MAX(id), 0) FROM {CHANGE}")[0]
        return int(newest), True, True, None
    (row,) = fetch(
        f"""SELECT COALESCE((SELECT MAX(id) FROM {CHANGE}), 0),
                  txid_snapshot_xmax(txid_current_snapshot()),
                  (SELECT COUNT(*) FROM txid_snapshot_xip(txid_current_snapshot()) x
                   WHERE x <> txid_current()),
                  (SELECT COUNT(*) FROM txid_snapshot_xip(txid_current_snapshot()) x
                   WHERE x <> txid_current() AND x < %s)""",
        [pending_xmax or 0],
    )
    newest, xmax, others, earlier = row
    return int(newest), others == 0, pending_xmax is None or earlier == 0, int(xmax)


def _fill_refresh_ids(full: bool, watermark: int) -> int:
    """The deals to refresh, into a temporary table: all of them, or those with changes
    above the watermark whose facts are missing or folded in a different number of
    changes, and the deals the triggers queued as changed in place (the queue is emptied
    either way). Returns the newest queue id taken (0: none)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {REFRESH}")
        cursor.execute(f"CREATE TEMPORARY TABLE {REFRESH} (deal_id BIGINT PRIMARY KEY)")
        if full:
            cursor.execute(f"INSERT INTO {REFRESH} (deal_id) SELECT id FROM {DEAL}")
            return cells.claim_dirty(REFRESH)
        cursor.execute(
            f"""INSERT INTO {REFRESH} (deal_id)
            SELECT x.deal_id
            FROM (SELECT DISTINCT c.deal_id FROM {CHANGE} c WHERE c.id > %s) x
            LEFT JOIN {FACTS} f ON f.deal_id = x.deal_id
            WHERE f.deal_id IS NULL
               OR f.changes <> (SELECT COUNT(*) FROM {CHANGE} c WHERE c.deal_id = x.deal_id)""",
            [watermark],
        )
        newest_dirty = cells.claim_dirty(REFRESH)
        if _postgres():
            # A handful of deals, not the planner's guess for an unread table: the
            # refresh then deletes and reads them through the deal indexes.
            cursor.execute(f"ANALYZE {REFRESH}")
    return newest_dirty


def _refresh(stages: list[Stage], *, full: bool = False) -> int:
    """Delete and rebuild the facts of the deals in the refresh table from their changes."""
    positions = {stage.code: stage.position for stage in stages}
    reachable = [stage for stage in stages if stage.kind != Stage.Kind.LOST]
    won = [stage.code for stage in stages if stage.kind == Stage.Kind.WON]

    def codes(values: list[str]) -> tuple[str, list[str]]:
        return ", ".join(["%s"] * len(values)) or "NULL", values

    top = " ".join("WHEN %s THEN %s" for _stage in reachable) or "WHEN NULL THEN NULL"
    top_params = [value for stage in reachable for value in (stage.code, stage.position)]
    proposal, proposal_params = codes(
        [s.code for s in reachable if s.position >= positions.get(PROPOSAL_SENT, 0)]
    )
    signed, signed_params = codes(
        [s.code for s in reachable if s.position >= positions.get(CONTRACT_SIGNED, 0)]
    )
    won_sql, won_params = codes(won)
    ids = f"SELECT deal_id FROM {REFRESH}"
    seconds = seconds_between("iv.at", "iv.next_at")
    true = "TRUE" if _postgres() else "1"
    false = "FALSE" if _postgres() else "0"
    with connection.cursor() as cursor:
        if full:
            empty_tables(cursor, FACTS, STAGE_TIME, MOVES)
        else:
            for table in (FACTS, STAGE_TIME, MOVES):
                cursor.execute(f"DELETE FROM {table} WHERE deal_id IN ({ids})")
        cursor.execute(
            f"""INSERT INTO {FACTS}
              (deal_id, top, proposal_at, signed_at, won_at, first_move_at, lead, changes)
            SELECT c.deal_id,
                   MAX(CASE c.to_stage_id {top} END),
                   MIN(CASE WHEN c.to_stage_id IN ({proposal}) THEN c.at END),
                   MIN(CASE WHEN c.to_stage_id IN ({signed}) THEN c.at END),
                   MIN(CASE WHEN c.to_stage_id IN ({won_sql}) THEN c.at END),
                   MIN(CASE WHEN c.by_id IS NOT NULL AND c.from_stage_id IS NOT NULL
                            THEN c.at END),
                   CASE WHEN MAX(CASE WHEN c.from_stage_id IS NULL AND c.by_id IS NULL
                                      THEN 1 ELSE 0 END) = 1 THEN {true} ELSE {false} END,
                   COUNT(*)
            FROM {CHANGE} c WHERE c.deal_id IN ({ids})
            GROUP BY c.deal_id""",
            [
                *top_params,
                *proposal_params,
                *signed_params,
                *won_params,
            ],
        )
        refreshed = cursor.rowcount
        cursor.execute(
            f"""INSERT INTO {STAGE_TIME} (deal_id, stage, seconds)
            SELECT iv.deal_id, iv.stage, SUM({seconds})
            FROM (
              SELECT c.deal_id, c.to_stage_id AS stage, c.at,
                     LEAD(c.at) OVER (PARTITION BY c.deal_id ORDER BY c.at, c.id) AS next_at
              FROM {CHANGE} c WHERE c.deal_id IN ({ids})
            ) iv
            WHERE iv.next_at IS NOT NULL
            GROUP BY iv.deal_id, iv.stage"""
        )
        cursor.execute(
            f"""INSERT INTO {MOVES} (deal_id, actor_id, stage, moves)
            SELECT c.deal_id, c.by_id, c.to_stage_id, COUNT(*)
            FROM {CHANGE} c
            WHERE c.deal_id IN ({ids}) AND c.by_id IS NOT NULL AND c.from_stage_id IS NOT NULL
            GROUP BY c.deal_id, c.by_id, c.to_stage_id"""
        )
    return refreshed


def settle(*, rebuild: bool = False, rounds: int = 200, pause: float = 0.05) -> dict[str, Any]:
    """Catch up (or rebuild), then again until the watermark has settled at the newest
    change (on PostgreSQL: until the transactions that were running have ended), so the
    next report only checks. For the rebuild command and benchmarks; reports just catch up.
    Returns the first pass's figures with the passes it took."""
    done = catch_up(rebuild=rebuild)
    stages = list(Stage.objects.order_by("position"))
    passes = 1
    while passes < rounds and needs_catch_up(stages):
        time.sleep(pause)
        catch_up(stages)
        passes += 1
    return {**done, "passes": passes}
