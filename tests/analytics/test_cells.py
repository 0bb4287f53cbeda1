"""The per-deal values and their monthly cells (analytics/cells.py): the cells are always the
sums of the deals' values, caught up step by step they equal a full rebuild, and a report
read from the cells gives the very figures of one read from the deals' own rows."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum

from studiocrm.analytics import facts
from studiocrm.analytics.cells import ROLLUP_MANAGER, ROLLUP_METRICS
from studiocrm.analytics.models import Cell, DealValue
from studiocrm.analytics.reports import Filters, Report
from studiocrm.billing.models import Payment
from studiocrm.core.models import Studio
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import Deal, Source, Stage
from tests.analytics import history
from tests.analytics.test_facts import random_history
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

KEY = ("month", "manager_id", "source", "currency", "metric", "label", "value")


def cells() -> Counter:
    return Counter(
        {
            tuple(row[:7]): tuple(row[7:])
            for row in Cell.objects.values_list(*KEY, "n", "m", "total")
        }
    )


def summed_values() -> Counter:
    """The cells as they should be: the values summed per key, and per month alone (the
    rollup rows, manager -1) for the metrics percentiles are taken over."""
    summed = Counter()
    for row in DealValue.objects.values_list(*KEY, "n", "m", "total"):
        keys = [tuple(row[:7])]
        if row[4] in ROLLUP_METRICS:
            keys.append((row[0], ROLLUP_MANAGER, "*", "*", *row[4:7]))
        for key in keys:
            n, m, total = summed.get(key, (0, 0, 0))
            summed[key] = (n + row[7], m + row[8], total + row[9])
    return summed


def values() -> Counter:
    return Counter(
        DealValue.objects.values_list(
            "deal_id", "metric", "at", "month", *KEY[1:], "n", "m", "total"
        )
    )


def random_deals(count: int, rng: random.Random, managers) -> list[Deal]:
    deals = []
    for _n in range(count):
        created = history.at(2025, 11, 1) + timedelta(hours=rng.randint(0, 24 * 200))
        deals.append(
            DealFactory(
                manager=rng.choice([*managers, None]),
                source=rng.choice(Source.values),
                currency=rng.choice(["RUB", "EUR"]),
                created_at=created,
                stage_changed_at=created,
                expected_amount=rng.choice([None, Decimal(rng.randint(1, 10**6)) / 100]),
                utm_source=rng.choice(["", "google", "yandex"]),
            )
        )
    random_history(deals, rng)
    # The deals' stage columns as the history left them, written in place (as imports do).
    for deal in deals:
        last = deal.stage_changes.order_by("-at", "-id").first()
        if last:
            Deal.objects.filter(pk=deal.pk).update(stage_id=last.to_stage_id)
    return deals


@pytest.fixture
def mixed(owner):
    known = history.build()
    rng = random.Random(7)
    deals = random_deals(40, rng, [known.m1, known.m2])
    return known, deals, rng


def tables(report: Report) -> list:
    return [(t.key, t.rows, t.total) for t in report.tables()]


FILTERS = [
    {"start": date(2026, 1, 1), "end": date(2026, 3, 31)},  # whole months: cells only
    {"start": date(2025, 11, 20), "end": date(2026, 4, 10)},  # cut months at both ends
    {"start": date(2026, 2, 3), "end": date(2026, 2, 17)},  # inside one month
    {"start": date(2025, 11, 1), "end": date(2026, 5, 31), "currency": "EUR"},
    {"start": date(2025, 11, 1), "end": date(2026, 5, 31), "source": "website"},
    {"start": date(2025, 12, 1), "end": date(2026, 5, 31), "unit": "week"},
]


@pytest.mark.parametrize("given", FILTERS)
def test_reports_from_cells_equal_reports_from_the_deals_own_rows(mixed, given):
    known, _deals, _rng = mixed
    for manager in (None, known.m1.pk):
        values = {"tzname": "Europe/Moscow", "manager_id": manager, **given}
        with_cells = Report(Filters(**values), now=history.NOW)
        without = Report(Filters(**values), now=history.NOW, use_cells=False)
        assert with_cells.cells_usable and not without.cells_usable
        assert tables(with_cells) == tables(without)


def test_the_cells_are_the_sums_of_the_values_and_equal_a_rebuild_after_changes(mixed):
    known, deals, rng = mixed
    facts.catch_up()
    assert cells() == summed_values()
    assert (
        sum(n for (key, (n, _m, _t)) in cells().items() if key[1] != ROLLUP_MANAGER)
        == DealValue.objects.aggregate(s=Sum("n"))["s"]
    )

    # Changes of every kind, then a catch-up: stage moves by the services, a new bulk
    # history, a deal re-priced and reassigned in place, a payment failing, a deal deleted.
    stages = list(Stage.objects.filter(kind=Stage.Kind.OPEN).values_list("code", flat=True))
    for deal in rng.sample(deals, 5):
        deal_services.move_deal(deal, rng.choice(stages), actor=known.m1)
    random_history(random_deals(5, rng, [known.m1]), rng)
    Deal.objects.filter(pk=deals[0].pk).update(manager=known.m2, expected_amount=Decimal("7.77"))
    Payment.objects.filter(invoice__deal=known.deals["A"]).update(status="failed")
    known.deals["C"].delete()
    facts.catch_up()
    assert cells() == summed_values()
    stepwise_cells, stepwise_values = cells(), values()

    facts.catch_up(rebuild=True)
    assert cells() == stepwise_cells
    assert values() == stepwise_values


def test_a_report_sees_deals_changed_in_place_without_a_stage_move(mixed):
    known, _deals, _rng = mixed
    filters = Filters(start=date(2026, 1, 1), end=date(2026, 3, 31), tzname="Europe/Moscow")

    def managers(report: Report) -> dict:
        (table,) = report.managers_tables()
        return {row[0]: row[1] for row in table.rows}

    def paid(report: Report) -> Decimal:
        return sum(row[7] for row in report.money_month_table().rows if row[1] == "RUB")

    before = Report(filters, now=history.NOW)
    apps_before, paid_before = managers(before), paid(before)
    # E (nobody's) given to Boris, and A's second payment refunded, by plain UPDATEs.
    Deal.objects.filter(pk=known.deals["E"].pk).update(manager=known.m2)
    Payment.objects.filter(invoice__deal=known.deals["A"], amount=Decimal("60000.00")).update(
        status="failed"
    )
    after = Report(filters, now=history.NOW)
    assert managers(after)["Boris"] == apps_before["Boris"] + 1
    assert managers(after).get("Nobody", 0) == apps_before.get("Nobody", 0) - 1
    assert paid(after) == paid_before - Decimal("60000.00")
    assert tables(after) == tables(Report(filters, now=history.NOW, use_cells=False))


def test_a_changed_studio_time_zone_rebuilds_the_months(mixed):
    filters = {"start": date(2026, 1, 1), "end": date(2026, 3, 31), "tzname": "UTC"}
    report = Report(Filters(**filters), now=history.NOW)
    assert not report.cells_usable  # the cells are Moscow's months
    moscow = tables(report)

    Studio.objects.filter(pk=Studio.load().pk).update(time_zone="UTC")
    in_utc = Report(Filters(**filters), now=history.NOW)
    assert in_utc.cells_usable
    assert tables(in_utc) == moscow
    # Deal B came at 22:30 UTC on 31 January: February in Moscow, January in UTC.
    cohorts = {t.key: t for t in in_utc.tables()}["cohorts"]
    assert [row[0] for row in cohorts.rows][:2] == [date(2026, 1, 1), date(2026, 2, 1)]
    assert set(Cell.objects.values_list("month", flat=True)) >= {202601, 202602, 202603}
