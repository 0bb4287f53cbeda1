"""How often the client acted after an automatic reminder: exact figures from a known history
of reminder timers (tests/analytics/history.py plus the reminders below), on SQLite and on
PostgreSQL alike.

Reminders (studio in Moscow, period 1 Jan – 31 Mar 2026):
- A: brief reminder (2 days) at 10:00 UTC on 12 Jan; brief submitted 18 h later.
- C: both brief reminders (2 Mar, 5 Mar); the brief never comes.
- B: proposal follow-up (3 days) whose letter failed: not a reminder sent. The 7-day
  follow-up on 10 Feb; accepted 8 days 2 h later, too late to count.
- D: proposal follow-up at 12:00 on 8 Mar, accepted 22 h later; signing reminder on 12 Mar,
  one part signed 48 h later, the whole contract 72 h later; payment reminder on 27 Mar
  after the only payment (20 Mar), so unanswered. A second payment reminder fired at 21:30
  UTC on 31 Mar, already 1 Apr in Moscow: outside the period.
- F: payment reminder in December 2025: outside the period. A skipped timer on A: not sent.
"""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from studiocrm.analytics.reports import Filters, Report
from studiocrm.deals.models import Event
from studiocrm.flow.models import Rule, Timer
from studiocrm.notifications.models import Outbox
from tests.analytics import history
from tests.analytics.history import at

pytestmark = pytest.mark.django_db

D = Decimal
_serial = itertools.count()


def reminder(deal, code, trigger, fired, *, letter="sent", status=Timer.Status.DONE):
    """A timer of rule `code` started by event `trigger`, fired at `fired`, and the letter
    it queued (dedupe key as flow writes it) in state `letter` (None: no letter)."""
    rule = Rule.objects.get(code=code)
    Timer.objects.create(
        rule=rule, deal=deal, event=trigger, due_at=fired, status=status, fired_at=fired
    )
    if letter:
        Outbox.objects.create(
            dedupe_key=f"rule:{code}:{trigger.pk}",
            to="client@example.com",
            subject="Reminder",
            body="…",
            deal=deal,
            status=letter,
            created_at=fired,
        )


def event(deal, name, when):
    return Event.objects.create(deal=deal, name=name, at=when, object_id=str(next(_serial)))


@pytest.fixture
def known(owner):
    built = history.build()
    a, b, c, d, f = (built.deals[key] for key in "ABCDF")
    hour = timedelta(hours=1)

    sent_a = event(a, "brief.sent", at(2026, 1, 10, 10))
    reminder(a, "brief-reminder-2", sent_a, at(2026, 1, 12, 10))
    reminder(a, "brief-reminder-5", sent_a, at(2026, 1, 15, 10), status=Timer.Status.SKIPPED)
    event(a, "brief.submitted", at(2026, 1, 12, 10) + 18 * hour)

    sent_c = event(c, "brief.sent", at(2026, 2, 28, 21, 30))
    reminder(c, "brief-reminder-2", sent_c, at(2026, 3, 2, 9))
    reminder(c, "brief-reminder-5", sent_c, at(2026, 3, 5, 9))

    sent_b = event(b, "document.sent", at(2026, 2, 4, 22))
    reminder(b, "proposal-followup-3", sent_b, at(2026, 2, 8, 10), letter="failed")
    reminder(b, "proposal-followup-7", sent_b, at(2026, 2, 10, 10))
    event(b, "proposal.accepted", at(2026, 2, 18, 12))

    proposal_d = event(d, "document.sent", at(2026, 3, 8, 10))
    reminder(d, "proposal-followup-3", proposal_d, at(2026, 3, 8, 12))
    event(d, "proposal.accepted", at(2026, 3, 8, 12) + 22 * hour)
    contract_d = event(d, "document.sent", at(2026, 3, 10, 10))
    reminder(d, "signing-reminder-2", contract_d, at(2026, 3, 12, 10))
    event(d, "document.signed", at(2026, 3, 14, 10))
    event(d, "contract.signed", at(2026, 3, 15, 10))
    invoice_d = event(d, "invoice.issued", at(2026, 3, 16, 10))
    event(d, "payment.received", at(2026, 3, 20, 10))
    reminder(d, "payment-overdue-1", invoice_d, at(2026, 3, 27, 10))
    reminder(d, "payment-due-soon", invoice_d, at(2026, 3, 31, 21, 30))

    invoice_f = event(f, "invoice.issued", at(2025, 12, 16, 10))
    reminder(f, "payment-overdue-1", invoice_f, at(2025, 12, 20, 10))
    event(f, "payment.received", at(2026, 1, 6, 12))
    return built


def reminders(known=None, **filters):
    values = {
        "start": date(2026, 1, 1),
        "end": date(2026, 3, 31),
        "tzname": "Europe/Moscow",
        **filters,
    }
    report = Report(Filters(**values), now=history.NOW, sla_minutes=60)
    return next(table for table in report.tables("speed") if table.key == "reminders")


def by_label(table):
    return {(str(row[1]), str(row[0])): row[2:] for row in table.rows}


def test_reminders_sent_and_answered_per_rule_and_kind(known):
    table = reminders()
    rows = by_label(table)
    # sent, acted within 7 days, acted %, median hours to act
    assert rows["Brief", "Brief reminder after 2 days"] == [2, 1, D("50.0"), D("18.0")]
    assert rows["Brief", "Second brief reminder after 5 days"] == [1, 0, D("0.0"), None]
    assert rows["Brief", "All reminders of this kind"] == [3, 1, D("33.3"), D("18.0")]
    assert rows["Proposal follow-up", "Proposal follow-up after 3 days"] == [
        1,
        1,
        D("100.0"),
        D("22.0"),
    ]
    assert rows["Proposal follow-up", "Second proposal follow-up after 7 days"] == [
        1,
        0,
        D("0.0"),
        None,
    ]
    assert rows["Signing", "Signing reminder after 2 days"] == [1, 1, D("100.0"), D("48.0")]
    assert rows["Signing", "Second signing reminder after 5 days"] == [0, 0, None, None]
    assert rows["Payment", "Invoice overdue by 1 day"] == [1, 0, D("0.0"), None]
    assert rows["Payment", "Payment reminder 2 days before the due date"] == [0, 0, None, None]
    # Task and manager rules are not reminders to the client.
    assert not any("Call" in str(row[0]) for row in table.rows)
    assert table.total[2:] == [7, 3, D("42.9"), D("22.0")]
    assert table.chart["labels"] == ["Brief", "Proposal follow-up", "Signing", "Payment"]
    assert table.chart["series"][0]["data"] == [3, 2, 1, 1]
    assert table.chart["series"][1]["data"] == [1, 1, 1, 0]


def test_reminders_follow_the_manager_filter_and_the_period(known):
    mine = reminders(manager_id=known.m2.pk)
    assert mine.total[2:] == [5, 2, D("40.0"), D("22.0")]
    january = reminders(end=date(2026, 1, 31))
    assert january.total[2:] == [1, 1, D("100.0"), D("18.0")]
    april = reminders(start=date(2026, 4, 1), end=date(2026, 4, 30))
    rows = by_label(april)
    assert rows["Payment", "Payment reminder 2 days before the due date"][:2] == [1, 0]
    assert april.total[2:4] == [1, 0]


def test_reminders_export_as_csv(known, owner_client):
    response = owner_client.get(
        reverse("analytics:export", args=["reminders", "csv"]),
        {"date_from": "2026-01-01", "date_to": "2026-03-31"},
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Reminder,Kind,Sent,Client acted within 7 days")
    assert "Brief reminder after 2 days,Brief,2,1,50.0,18.0" in lines
    assert lines[-1] == "All reminders,,7,3,42.9,22.0"
