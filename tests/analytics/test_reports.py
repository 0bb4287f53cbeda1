"""Exact figures from a small known history (tests/analytics/history.py). The suite runs on
SQLite and on PostgreSQL; both must give these very numbers."""

from datetime import date
from decimal import Decimal

import pytest

from studiocrm.analytics.reports import Filters, Report
from studiocrm.deals import services as deal_services
from tests.analytics import history

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def known(owner):
    built = history.build()
    # An odd probability and an odd amount: 1 234.50 × 33 % = 407.385, rounded half up.
    deal_services.set_stage_probabilities({"new": 33}, actor=owner)
    return built


def report(known, **filters):
    values = {
        "start": date(2026, 1, 1),
        "end": date(2026, 3, 31),
        "tzname": "Europe/Moscow",
        **filters,
    }
    return Report(Filters(**values), now=history.NOW, sla_minutes=60)


def table(known, key, **filters):
    tables = {t.key: t for t in report(known, **filters).tables()}
    return tables[key]


def column(tbl, key):
    index = [c.key for c in tbl.columns].index(key)
    return [row[index] for row in tbl.rows]


def row_for(tbl, label):
    return next(row for row in tbl.rows if str(row[0]) == label)


def test_funnel_counts_skipped_stages_as_passed_and_keeps_what_a_reopened_deal_reached(known):
    funnel = table(known, "funnel")
    # In work (the deposit paid) is passed by the deal that reached Paid.
    assert column(funnel, "reached") == [5, 4, 3, 3, 3, 2, 2, 2, 2, 1, 1]
    assert column(funnel, "step") == [
        None,
        D("80.0"),
        D("75.0"),
        D("100.0"),
        D("100.0"),
        D("66.7"),
        D("100.0"),
        D("100.0"),
        D("100.0"),
        D("50.0"),
        D("100.0"),
    ]
    assert column(funnel, "overall")[-1] == D("20.0")


def test_cohorts_follow_the_studio_time_zone_at_month_edges(known):
    cohorts = table(known, "cohorts")
    assert column(cohorts, "cohort") == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    # month, applications, proposal sent, contract signed, won, lost, open, conversion, win rate
    assert cohorts.rows[0][1:] == [1, 1, 1, 1, 0, 0, D("100.0"), D("100.0")]
    assert cohorts.rows[1][1:] == [1, 1, 0, 0, 0, 1, D("0.0"), None]
    assert cohorts.rows[2][1:] == [3, 1, 1, 0, 1, 2, D("0.0"), D("0.0")]
    assert cohorts.total[1:] == [5, 3, 2, 1, 1, 3, D("20.0"), D("50.0")]


def test_lost_reasons_count_the_lost_deals_now_with_their_value_in_their_currency(known):
    lost = table(known, "lost_reasons")
    assert [[str(row[0]), *row[1:]] for row in lost.rows] == [["Other", "EUR", 1, 1, D("3000.00")]]


def test_time_in_stage_adds_up_visits_and_ignores_the_stage_a_deal_is_still_in(known):
    stage_time = table(known, "stage_time")
    # estimated: A 1 day, B 2 days, D 1 day → median 1, p90 2.
    assert row_for(stage_time, "Estimated")[1:] == [3, D("1.0"), D("2.0")]
    # proposal sent: A 2 days, B 2 days before it was lost (its reopened visit is open), D 1.
    assert row_for(stage_time, "Proposal sent")[1:] == [3, D("2.0"), D("2.0")]
    # invoiced: A from 18 Jan 09:00 to 31 Jan 21:30 = 13.52 days; D is still there; F 1 day.
    assert row_for(stage_time, "Invoiced")[1:] == [1, D("13.5"), D("13.5")]


def test_milestones_measure_from_application_to_proposal_signature_and_first_payment(known):
    milestones = table(known, "milestones")
    assert [row[1:] for row in milestones.rows] == [
        [3, D("3.0"), D("4.0")],  # A 3 days, B 4 (skipped brief), D 3
        [2, D("7.0"), D("10.0")],  # A 7, D 10
        [2, D("9.0"), D("15.0")],  # first (partial) payments: A after 9 days, D after 15
    ]


def test_slowest_open_deals_are_the_longest_in_their_stage(known):
    slowest = table(known, "slowest")
    assert [row[0][1] for row in slowest.rows] == ["B", "D", "E"]
    assert slowest.rows[0][3] == D("51.6")  # reopened 8 Feb 22:30, now 1 Apr 12:00
    assert slowest.rows[1][3] == D("16.1")  # invoiced since 16 Mar 10:00


def test_money_by_month_keeps_currencies_apart_and_uses_local_months(known):
    months = table(known, "money_month")
    by_key = {(row[0], row[1]): row for row in months.rows}
    # (month, currency) → new value, in work at month end, won deals, won, invoiced, paid
    assert by_key[(date(2026, 1, 1), "RUB")][2:] == [
        D("100000.00"),
        D("100000.00"),
        1,
        D("20000.00"),
        D("100000.00"),
        D("40000.00"),
    ]
    assert by_key[(date(2026, 2, 1), "RUB")][2:] == [
        D("50000.00"),
        D("50000.00"),
        1,
        D("100000.00"),
        D("0.00"),
        D("60000.00"),
    ]
    assert by_key[(date(2026, 3, 1), "EUR")][2:] == [
        D("8000.00"),
        D("5000.00"),
        0,
        D("0.00"),
        D("5000.00"),
        D("2000.00"),
    ]
    assert by_key[(date(2026, 3, 1), "RUB")][3] == D("51234.50")


def test_money_summary_receivables_overdue_pipeline_and_forecast(known):
    summary = {row[0]: row[1:] for row in table(known, "money_summary").rows}
    # won deals, won, average, invoiced, paid, unpaid invoices, receivables, overdue invoices,
    # overdue, weighted pipeline, 90-day forecast
    assert summary["RUB"] == [
        2,
        D("120000.00"),
        D("60000.00"),
        D("100000.00"),
        D("100000.00"),
        0,
        D("0.00"),
        0,
        D("0.00"),
        D("20407.39"),
        D("20407.39"),
    ]
    assert summary["EUR"] == [
        0,
        D("0.00"),
        None,
        D("5000.00"),
        D("2000.00"),
        1,
        D("3000.00"),
        1,
        D("3000.00"),
        D("4500.00"),
        D("3000.00"),
    ]


def test_pipeline_weighs_each_stage_by_its_probability(known):
    pipeline = table(known, "pipeline")
    assert [[str(row[0]), *row[1:]] for row in pipeline.rows] == [
        ["New", "RUB", 1, D("1234.50"), 33, D("407.39")],
        ["Proposal sent", "RUB", 1, D("50000.00"), 40, D("20000.00")],
        ["Invoiced", "EUR", 1, D("5000.00"), 90, D("4500.00")],
    ]


def test_first_response_and_sla_per_manager(known):
    response = table(known, "first_response")
    assert [row[1:] for row in response.rows] == [
        [2, 2, D("60.0"), D("180.0"), 1, D("50.0")],  # Anna: A after 1 h, B after 3 h
        [1, 1, D("30.0"), D("30.0"), 1, D("100.0")],  # Boris: C after 30 min
        [1, 0, None, None, 0, D("0.0")],  # nobody: E never answered
    ]
    assert response.total[1:] == [4, 3, D("60.0"), D("180.0"), 2, D("50.0")]


def test_effort_per_step_from_recorded_actions(known):
    effort = table(known, "effort")
    actions = column(effort, "actions")
    assert actions == [1, 3, 3, 4, 2, 2, 3]
    assert column(effort, "minutes_per") == [
        D("0.2"),
        D("0.3"),
        D("0.3"),
        D("0.4"),
        D("0.2"),
        D("0.2"),
        D("0.6"),
    ]
    assert effort.total[1:4] == [18, D("3.6"), D("2.2")]
    assert effort.total[-2:] == [110, 32]


def test_per_manager_figures_and_tasks(known):
    managers = {row[0]: row[1:] for row in table(known, "managers").rows}
    # applications, won, lost, open, win rate, first response, SLA %, actions, per app,
    # minutes per app, open tasks, overdue tasks
    assert managers["Anna"] == [
        2,
        1,
        0,
        1,
        D("100.0"),
        D("60.0"),
        D("50.0"),
        10,
        D("5.0"),
        D("3.3"),
        1,
        1,
    ]
    assert managers["Boris"] == [
        2,
        0,
        1,
        1,
        D("0.0"),
        D("30.0"),
        D("100.0"),
        8,
        D("4.0"),
        D("2.3"),
        1,
        0,
    ]


def test_filters_narrow_every_report(known):
    rub = report(known, currency="RUB")
    funnel = {t.key: t for t in rub.tables("funnel")}["funnel"]
    assert column(funnel, "reached")[0] == 3  # A, B, E
    assert {row[0] for row in {t.key: t for t in rub.tables("money")}["money_summary"].rows} == {
        "RUB"
    }
    mine = report(known, manager_id=known.m2.pk)
    assert column({t.key: t for t in mine.tables("funnel")}["funnel"], "reached")[0] == 2
    website = report(known, source="website")
    inflow = {t.key: t for t in website.tables("inflow")}["inflow"]
    assert inflow.total[-1] == 3  # A, C, E


def test_applications_by_week_and_by_utm(known):
    weekly = table(known, "inflow", unit="week")
    assert [row[0] for row in weekly.rows] == [
        # Sunday 1 Feb and Sunday 1 Mar in Moscow belong to the weeks before.
        date(2026, 1, 5),
        date(2026, 1, 26),
        date(2026, 2, 23),
        date(2026, 3, 2),
        date(2026, 3, 30),
    ]
    utm = table(known, "utm")
    assert utm.rows[0][:5] == ["", "", "", 4, 0]
    assert utm.rows[1] == ["google", "cpc", "spring", 1, 1, D("100.0")]


def test_value_in_work_at_each_month_end_in_the_studio_time_zone(known):
    money = table(known, "money_month")
    in_work = {(row[0], row[1]): (row[3]) for row in money.rows}
    # A is closed at 21:30 UTC on 31 Jan, after January ended in Moscow: in work then.
    assert in_work[date(2026, 1, 1), "RUB"] == D("100000.00")
    # B arrived in February (Moscow); C arrived on 1 March (Moscow) and is lost a day later.
    assert in_work[date(2026, 2, 1), "RUB"] == D("50000.00")
    assert in_work[date(2026, 3, 1), "RUB"] == D("51234.50")
    assert in_work[date(2026, 3, 1), "EUR"] == D("5000.00")
    assert (date(2026, 2, 1), "EUR") not in in_work or in_work[date(2026, 2, 1), "EUR"] == 0
