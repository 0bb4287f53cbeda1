"""Timers as rows: the payment, idle-deal and new-lead rules with a moving clock; a rule
firing twice sends once; two workers never fire one timer; timers written by one process
are fired by another; an SMTP outage delays the letters without losing or reordering them.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection

from studiocrm.billing import payments
from studiocrm.billing import services as billing_services
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import BRIEF_SENT, Task
from studiocrm.flow import rules
from studiocrm.flow.models import Rule, Timer
from studiocrm.notifications import outbox
from studiocrm.notifications.models import Outbox
from tests.factories import ContactFactory
from tests.flow.conftest import MONDAY, MOSCOW, STUDIO, rule_letters

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 10, minute: int = 1) -> datetime:
    return (MONDAY + timedelta(days=day)).replace(hour=hour, minute=minute)


@pytest.fixture
def issued_invoice(clock, manager, migration_data):
    contact = ContactFactory(name="Ирина Петрова", email="irina@client.test")
    deal = deal_services.create_deal(
        title="Сайт пекарни", client=contact.client, contact=contact, actor=manager,
        manager=manager, currency="RUB",
    )  # fmt: skip
    invoice = billing_services.create_invoice(
        deal,
        lines=[billing_services.LineInput("Дизайн", 1, 100_000)],
        actor=manager,
        due_days=5,
    )
    billing_services.issue_invoice(invoice, actor=manager)
    invoice.refresh_from_db()
    return invoice


def test_payment_reminders_before_and_after_the_due_date_then_a_call(issued_invoice, clock):
    due = datetime.combine(issued_invoice.due_date, datetime.min.time(), tzinfo=MOSCOW)
    # Five working days from Monday 1 March 2027 (8 March is a holiday): due Tuesday 9th.
    assert issued_invoice.due_date.isoformat() == "2027-03-09"
    clock.run_jobs_at(at(1))  # Tuesday, a week before: too early to remind
    assert rule_letters("payment-due-soon") == []
    clock.run_jobs_at(due + timedelta(hours=12))  # two business days before has passed
    [soon] = rule_letters("payment-due-soon")
    assert soon.subject == f"{STUDIO}: срок оплаты счёта № {issued_invoice.number}"
    clock.run_jobs_at(due + timedelta(days=4, hours=12))
    [overdue] = rule_letters("payment-overdue-1")
    assert overdue.subject == f"{STUDIO}: счёт № {issued_invoice.number} не оплачен"
    clock.run_jobs_at(due + timedelta(days=8, hours=12))
    assert Task.objects.filter(deal=issued_invoice.deal, title__contains="счёт просрочен").exists()


def test_no_overdue_letter_for_a_paid_invoice(issued_invoice, clock, manager):
    payments.record_manual_payment(
        issued_invoice, amount=issued_invoice.total, received_on=MONDAY.date(), actor=manager
    )
    clock.run_jobs_at(at(30))
    assert rule_letters("payment-overdue-1") == []
    assert rule_letters("payment-due-soon") == []


@pytest.fixture
def new_lead(clock, manager, migration_data):
    contact = ContactFactory(name="Ирина Петрова", email="irina@client.test")
    return deal_services.create_deal(
        title="Сайт пекарни", client=contact.client, contact=contact, actor=None, manager=manager
    )


def test_an_untouched_lead_alerts_the_manager_after_two_business_hours(new_lead, clock):
    clock.run_jobs_at(at(0, 11, 59))
    assert rule_letters("new-lead-untouched") == []
    clock.run_jobs_at(at(0, 12, 1))
    [alert] = rule_letters("new-lead-untouched")
    assert alert.to == new_lead.manager.email
    assert "Сайт пекарни" in alert.subject


def test_a_lead_the_manager_moved_raises_no_alert(new_lead, clock, manager):
    deal_services.move_deal(new_lead, BRIEF_SENT, actor=manager)
    clock.run_jobs_at(at(1))
    assert rule_letters("new-lead-untouched") == []


def test_a_deal_idle_for_a_week_alerts_the_manager_once(issued_invoice, clock, manager):
    clock.move_to(at(0, 12))
    deal_services.move_deal(issued_invoice.deal, BRIEF_SENT, actor=manager)
    clock.run_jobs_at(at(6))
    assert rule_letters("stale-deal") == []
    clock.run_jobs_at(at(7, 13))
    clock.run_jobs_at(at(8, 13))
    assert len(rule_letters("stale-deal")) == 1


def test_a_rule_firing_twice_sends_once(issued_invoice, clock):
    clock.move_to(at(30))
    timer = Timer.objects.get(rule__code="payment-overdue-1")
    assert rules.fire(timer.pk) == "done"
    Timer.objects.filter(pk=timer.pk).update(status="pending")  # as if a worker died after it
    assert rules.fire(timer.pk) == "done"
    assert len(rule_letters("payment-overdue-1")) == 1


def test_an_event_scheduled_twice_writes_one_timer(issued_invoice):
    event = issued_invoice.deal.events.get(name="invoice.issued")
    event.subject = issued_invoice
    rules.schedule(event)
    assert Timer.objects.filter(event=event, rule__code="payment-overdue-1").count() == 1


def test_a_failing_action_marks_its_timer_and_stops_no_other(issued_invoice, clock):
    Rule.objects.create(
        code="broken", name="Broken", event="invoice.issued", action="email_client",
        template_key="no-such-letter",
    )  # fmt: skip
    event = issued_invoice.deal.events.get(name="invoice.issued")
    event.subject = issued_invoice
    rules.schedule(event)
    results = clock.run_jobs_at(at(30))
    assert results["failed"] == 1
    assert Timer.objects.get(rule__code="broken").status == "failed"
    assert len(rule_letters("payment-overdue-1")) == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need a real server (SQLite locks the table)"
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_fire_the_same_timer(issued_invoice, clock):
    due = list(Timer.objects.values_list("pk", flat=True))
    Timer.objects.update(due_at=MONDAY - timedelta(minutes=1))
    claimed: list[list[int]] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        try:
            claimed.append(rules.claim_due(100))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = claimed[0] + claimed[1]
    assert sorted(together) == sorted(due)  # every timer taken, none twice


def test_letters_written_during_an_smtp_outage_arrive_afterwards_in_order(
    issued_invoice, clock, smtp_server
):
    smtp_server.stop()
    outbox.deliver_due()  # the invoice letter fails: server down
    for day in (8, 12):
        clock.run_jobs_at(at(day))
        outbox.deliver_due()
    waiting = list(Outbox.objects.filter(deal=issued_invoice.deal, to="irina@client.test"))
    assert len(waiting) == 3 and {message.status for message in waiting} == {"retry"}

    clock.move_to(at(12, 11, 30))  # an hour later the server is back
    smtp_server.start()
    Outbox.objects.update(next_attempt_at=at(12, 11, 0))  # every backoff is over
    outbox.deliver_due()
    subjects = [
        message["Subject"].strip()
        for message in smtp_server.received
        if message["To"] == "irina@client.test"
    ]
    assert subjects == [message.subject for message in sorted(waiting, key=lambda m: m.pk)]
    assert set(Outbox.objects.values_list("status", flat=True)) == {"sent"}


def test_a_timer_held_by_a_worker_that_died_is_fired_by_the_next_one(issued_invoice, clock):
    """Timers are rows: a worker that stops mid-fire (restart, crash) leaves its claim,
    which expires, and the next worker fires the timer once."""
    clock.move_to(at(30))
    timer = Timer.objects.get(rule__code="payment-overdue-1")
    assert timer.pk in rules.claim_due(100)  # this worker dies without firing
    assert rules.claim_due(100) == []  # the claim holds while it is fresh
    clock.run_jobs_at(at(30) + timedelta(seconds=rules.claim_seconds() + 1))
    timer.refresh_from_db()
    assert timer.status == "done"
    assert len(rule_letters("payment-overdue-1")) == 1
