"""The per-deal facts (analytics/facts.py): caught up step by step, by whatever wrote the
history, they are what the stage history says and equal a full rebuild."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from studiocrm.analytics import facts
from studiocrm.analytics.models import DealFacts, DealMoves, DealStageTime, FactsState
from studiocrm.analytics.reports import Filters, Report
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import CONTRACT_SIGNED, PROPOSAL_SENT, Deal, Stage, StageChange
from tests.factories import ClientFactory, DealFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, 9, tzinfo=UTC)
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL hands out ids before commit"
)


def expected() -> tuple[dict, set, set]:
    """The facts computed in Python from the stage history, the slow obvious way."""
    stages = {stage.code: stage for stage in Stage.objects.all()}
    proposal = stages[PROPOSAL_SENT].position
    signed = stages[CONTRACT_SIGNED].position
    history = defaultdict(list)
    for change in StageChange.objects.order_by("deal_id", "at", "id"):
        history[change.deal_id].append(change)
    rows, times, moves = {}, set(), set()
    for deal_id, changes in history.items():
        reached = [c for c in changes if stages[c.to_stage_id].kind != Stage.Kind.LOST]

        def first(test, changes=changes):
            return min((c.at for c in changes if test(c)), default=None)

        rows[deal_id] = (
            max((stages[c.to_stage_id].position for c in reached), default=None),
            min(
                (c.at for c in reached if stages[c.to_stage_id].position >= proposal), default=None
            ),
            min((c.at for c in reached if stages[c.to_stage_id].position >= signed), default=None),
            first(lambda c: stages[c.to_stage_id].kind == Stage.Kind.WON),
            first(lambda c: c.by_id is not None and c.from_stage_id is not None),
            any(c.from_stage_id is None and c.by_id is None for c in changes),
            len(changes),
        )
        spent = Counter()
        for change, after in zip(changes, changes[1:], strict=False):
            spent[change.to_stage_id] += round((after.at - change.at).total_seconds())
        times |= {(deal_id, stage, seconds) for stage, seconds in spent.items()}
        by = Counter(
            (c.by_id, c.to_stage_id) for c in changes if c.by_id and c.from_stage_id is not None
        )
        moves |= {(deal_id, actor, stage, count) for (actor, stage), count in by.items()}
    return rows, times, moves


def stored() -> tuple[dict, set, set]:
    rows = {
        f.deal_id: (
            f.top,
            f.proposal_at,
            f.signed_at,
            f.won_at,
            f.first_move_at,
            f.lead,
            f.changes,
        )
        for f in DealFacts.objects.all()
    }
    times = set(DealStageTime.objects.values_list("deal_id", "stage", "seconds"))
    moves = set(DealMoves.objects.values_list("deal_id", "actor_id", "stage", "moves"))
    return rows, times, moves


def random_history(deals, rng: random.Random, *, changes_each: int = 8) -> None:
    """Bulk rows as imports and the demo write them (no events): skips, revisits, lost and
    reopened, some moves by nobody."""
    codes = list(Stage.objects.order_by("position").values_list("code", flat=True))
    rows = []
    for deal in deals:
        previous, when = None, deal.created_at
        for _step in range(rng.randint(1, changes_each)):
            stage = rng.choice(codes) if previous else "new"
            if stage == previous:
                continue
            rows.append(
                StageChange(
                    deal=deal,
                    from_stage_id=previous,
                    to_stage_id=stage,
                    at=when,
                    by=deal.manager if previous and rng.random() < 0.7 else None,
                )
            )
            previous, when = stage, when + timedelta(hours=rng.randint(1, 90))
    StageChange.objects.bulk_create(rows)


def report() -> Report:
    return Report(Filters(start=START.date(), end=START.date() + timedelta(days=400), tzname="UTC"))


def test_services_moving_deals_step_by_step_keep_the_facts_equal_to_a_full_rebuild(owner, manager):
    deals = [
        deal_services.create_deal(
            title=f"Deal {n}", client=ClientFactory(), contact=None, actor=None, manager=manager
        )
        for n in range(3)
    ]
    paths = [
        ["brief_sent", "estimated", "proposal_sent", "contract_signed", "invoiced", "paid"],
        ["proposal_sent", "lost", "estimated", "contract_sent"],
        ["brief_sent", "lost"],
    ]
    for step in range(max(len(path) for path in paths)):
        for deal, path in zip(deals, paths, strict=True):
            if step < len(path):
                deal_services.move_deal(
                    deal, path[step], actor=manager, reason=None, lost_reason="x"
                )
        report().tables("funnel")  # the report reads the facts in between, catching up
        assert stored() == expected()
    incremental = stored()
    assert facts.catch_up(rebuild=True)["rebuild"]
    assert stored() == incremental
    # Settled (on PostgreSQL: once the transactions of that time have ended), nothing new:
    # a look at the watermark, nothing done.
    facts.settle()
    with CaptureQueriesContext(connection) as captured:
        assert facts.catch_up()["deals"] == 0
    sqls = [q["sql"] for q in captured]
    assert len([sql for sql in sqls if "analytics_" in sql]) == 1  # the watermark
    assert not [sql for sql in sqls if sql.startswith(("INSERT", "UPDATE", "DELETE"))]


def test_bulk_written_histories_are_caught_up_and_equal_the_history(manager):
    rng = random.Random(12)
    deals = [DealFactory(manager=manager, created_at=START + timedelta(days=n)) for n in range(30)]
    random_history(deals[:20], rng)
    facts.catch_up()
    assert stored() == expected()
    # More history for old and new deals alike: only those are refreshed.
    random_history(deals[15:], rng)
    assert facts.catch_up()["deals"] == 15
    assert stored() == expected()
    # A deleted deal takes its facts with it.
    deals[0].delete()
    assert stored() == expected()


def test_catching_up_is_a_fixed_number_of_queries_whatever_changed(manager):
    rng = random.Random(3)
    deals = [DealFactory(manager=manager, created_at=START + timedelta(days=n)) for n in range(40)]
    facts.catch_up()
    random_history(deals[:2], rng)
    with CaptureQueriesContext(connection) as few:
        facts.catch_up()
    random_history(deals[2:], rng)
    with CaptureQueriesContext(connection) as many:
        facts.catch_up()
    assert len(few) == len(many)
    assert stored() == expected()


def test_a_changed_stage_order_rebuilds_every_deal(manager):
    rng = random.Random(5)
    deals = [DealFactory(manager=manager, created_at=START + timedelta(days=n)) for n in range(10)]
    random_history(deals, rng)
    facts.catch_up()
    Stage.objects.filter(code="estimated").update(position=99)
    Stage.objects.filter(code="brief_received").update(kind=Stage.Kind.LOST)
    assert facts.catch_up()["rebuild"]
    assert stored() == expected()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_processes_catching_up_at_once_neither_fails_nor_counts_twice(manager):
    rng = random.Random(7)
    deals = [DealFactory(manager=manager, created_at=START + timedelta(days=n)) for n in range(60)]
    facts.catch_up()
    random_history(deals, rng)
    errors, barrier = [], threading.Barrier(2)

    def catch_up() -> None:
        try:
            barrier.wait()
            facts.catch_up()
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=catch_up) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stored() == expected()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_late_under_a_lower_id_is_still_folded_in(manager):
    import psycopg

    early, late = (
        DealFactory(manager=manager, created_at=START),
        DealFactory(manager=manager, created_at=START),
    )
    facts.catch_up()
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    )
    try:
        # A transaction takes the lower id and stays open while a higher id commits.
        other.execute(
            "INSERT INTO deals_stagechange (deal_id, to_stage_id, at) VALUES (%s, 'new', %s)",
            [early.pk, START],
        )
        StageChange.objects.create(deal=late, to_stage_id="new", at=START)
        facts.catch_up()
        assert set(DealFacts.objects.values_list("deal_id", flat=True)) == {late.pk}
        other.commit()
        facts.catch_up()
        assert stored() == expected()
        assert set(DealFacts.objects.values_list("deal_id", flat=True)) == {early.pk, late.pk}
        # Once every transaction of that time has ended, the watermark moves past both.
        facts.settle()
        state = FactsState.objects.get()
        assert state.watermark == StageChange.objects.order_by("-id").values_list("id")[0][0]
    finally:
        other.close()


def test_the_report_figures_come_from_the_facts_and_match_the_history(manager):
    rng = random.Random(21)
    deals = [DealFactory(manager=manager, created_at=START + timedelta(days=n)) for n in range(25)]
    random_history(deals, rng)
    tables = {table.key: table for table in report().tables("funnel")}
    rows, _times, _moves = expected()
    positions = [
        stage.position for stage in Stage.objects.exclude(kind=Stage.Kind.LOST).order_by("position")
    ]
    reached = [
        sum(1 for row in rows.values() if row[0] is not None and row[0] >= p) for p in positions
    ]
    assert [row[1] for row in tables["funnel"].rows] == reached
    assert Deal.objects.count() == 25


def test_the_rebuild_command_rebuilds_from_the_history(manager):
    from io import StringIO

    from django.core.management import call_command

    deals = [DealFactory(manager=manager, created_at=START + timedelta(days=n)) for n in range(5)]
    random_history(deals, random.Random(9))
    facts.catch_up()
    DealFacts.objects.update(top=None)  # by hand, behind the catch-up's back
    out = StringIO()
    call_command("analytics_rebuild", stdout=out)
    assert "5 deals rebuilt" in out.getvalue()
    assert stored() == expected()


def test_the_workers_periodic_job_keeps_the_facts_current_without_a_report(manager):
    from django.conf import settings
    from django.utils.module_loading import import_string

    paths = [path for path, _seconds in settings.PERIODIC_JOBS]
    assert "studiocrm.analytics.facts.keep_up" in paths
    job = import_string("studiocrm.analytics.facts.keep_up")
    rng = random.Random(5)
    deals = [DealFactory(manager=manager, created_at=START + timedelta(days=n)) for n in range(12)]
    random_history(deals, rng)
    done = job()
    assert done is not None and done["deals"] == 12
    assert stored() == expected()
    # Nothing new: nothing done, nothing for the worker to log.
    assert job() is None
    random_history(deals[:3], rng)
    assert job()["deals"] == 3
    assert stored() == expected()
