"""Each default rule walked with a moving clock: the timer is written when the event
happens, fires when due (in working hours, counting business days in the studio's time
zone), and checks its condition again first."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from studiocrm.billing import payments
from studiocrm.billing.models import Invoice
from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import BriefTemplate
from studiocrm.deals.models import Task
from studiocrm.documents import services as document_services
from studiocrm.documents.models import Document, Kind
from studiocrm.flow import services as flow_services
from studiocrm.flow.models import Timer
from tests.factories import ContactFactory, DealFactory
from tests.flow.conftest import MONDAY, MOSCOW, STUDIO, accept, rule_letters

pytestmark = pytest.mark.django_db


def days(count: int, hour: int = 10) -> datetime:
    return (MONDAY + timedelta(days=count)).replace(hour=hour)


@pytest.fixture
def sent_brief(clock, manager, migration_data, django_capture_on_commit_callbacks):
    contact = ContactFactory(name="Ирина Петрова", email="irina@client.test")
    deal = DealFactory(manager=manager, client=contact.client, contact=contact)
    template = BriefTemplate.objects.get(default_key="corporate", language="ru")
    with django_capture_on_commit_callbacks(execute=True):
        return brief_services.send_brief(deal, template, actor=manager)


def test_brief_reminders_go_on_the_second_and_fifth_business_day(sent_brief, clock):
    clock.run_jobs_at(days(1, 11))  # Tuesday: one business day
    assert rule_letters("brief-reminder-2") == []
    clock.run_jobs_at(
        days(
            2,
            10,
        )
        + timedelta(minutes=1)
    )  # Wednesday 10:01
    [first] = rule_letters("brief-reminder-2")
    assert first.to == "irina@client.test"
    assert "Здравствуйте, Ирина Петрова!" in first.body
    assert first.subject == f"{STUDIO}: напоминаем о брифе"
    assert brief_services.client_link(sent_brief) in first.body_html
    clock.run_jobs_at(days(7, 10) + timedelta(minutes=1))  # next Monday: 5 business days
    assert len(rule_letters("brief-reminder-5")) == 1


def test_no_brief_reminder_once_the_brief_is_submitted(sent_brief, clock):
    from tests.briefs.conftest import fill_required

    clock.move_to(days(1))
    brief_services.submit_brief(fill_required(sent_brief))
    clock.run_jobs_at(days(10))
    assert rule_letters("brief-reminder-2") == []
    assert rule_letters("brief-reminder-5") == []
    skipped = Timer.objects.filter(rule__code="brief-reminder-2").get()
    assert (skipped.status, skipped.result) == ("skipped", "condition no longer holds")
    [thanks] = rule_letters("brief-thanks")
    assert thanks.subject == f"{STUDIO}: спасибо за бриф"


def test_a_paused_deal_gets_no_reminders(sent_brief, clock, manager):
    flow_services.set_paused(sent_brief.deal, True, actor=manager)
    clock.run_jobs_at(days(10))
    assert rule_letters("brief-reminder-2") == []
    reminders = Timer.objects.filter(deal=sent_brief.deal, rule__code__startswith="brief-reminder")
    assert set(reminders.values_list("status", "result")) == {("skipped", "paused for this client")}


def test_a_reminder_due_at_night_waits_for_working_hours(clock, manager, migration_data):
    clock.move_to(datetime(2027, 3, 1, 23, 30, tzinfo=MOSCOW))  # Monday night
    contact = ContactFactory(email="night@client.test")
    deal = DealFactory(manager=manager, client=contact.client, contact=contact)
    template = BriefTemplate.objects.get(default_key="corporate", language="ru")
    brief = brief_services.send_brief(deal, template, actor=manager)
    timer = Timer.objects.get(rule__code="brief-reminder-2", deal=brief.deal)
    # Two business days after Monday 23:30 is Wednesday 23:30: the letter waits for Thursday 9:00.
    assert timer.due_at.astimezone(MOSCOW) == datetime(2027, 3, 4, 9, 0, tzinfo=MOSCOW)


@pytest.fixture
def walked_proposal(clock, request, django_capture_on_commit_callbacks):
    return request.getfixturevalue("sent_proposal")


def test_proposal_follow_ups_then_a_call_task(walked_proposal, clock):
    clock.run_jobs_at(days(3, 10) + timedelta(minutes=1))  # Thursday: 3 business days
    [first] = rule_letters("proposal-followup-3")
    assert first.subject == f"{STUDIO}: как вам предложение?"
    assert document_services.client_url(walked_proposal) in first.body
    clock.run_jobs_at(days(9, 10) + timedelta(minutes=1))  # 7 business days
    assert len(rule_letters("proposal-followup-7")) == 1
    clock.run_jobs_at(days(10, 10) + timedelta(minutes=1))  # 8 business days
    task = Task.objects.get(deal=walked_proposal.deal, title__startswith="Позвонить")
    assert task.assignee == walked_proposal.deal.manager


def test_no_follow_up_after_the_proposal_is_accepted(walked_proposal, clock):
    clock.move_to(days(1))
    accept(walked_proposal)
    clock.run_jobs_at(days(20))
    assert rule_letters("proposal-followup-3") == []
    assert not Task.objects.filter(title__startswith="Позвонить").exists()


@pytest.fixture
def sent_contract(walked_proposal, clock, manager):
    accept(walked_proposal)
    contract = Document.objects.get(deal=walked_proposal.deal, kind=Kind.CONTRACT)
    document_services.send_document(contract, actor=manager)
    return contract


def test_signing_reminders_stop_when_the_contract_is_signed(sent_contract, clock):
    clock.run_jobs_at(days(2, 10) + timedelta(minutes=1))
    [reminder] = rule_letters("signing-reminder-2")
    assert reminder.subject == f"{STUDIO}: договор ждёт подписи"
    accept(sent_contract)
    accept(Document.objects.get(deal=sent_contract.deal, kind=Kind.APPENDIX))
    clock.run_jobs_at(days(10))
    assert rule_letters("signing-reminder-5") == []


def test_signing_sends_the_copies_and_issues_the_deposit_invoice_then_kickoff_after_payment(
    sent_contract, clock, manager, django_capture_on_commit_callbacks
):
    clock.move_to(days(1))
    accept(sent_contract)
    accept(Document.objects.get(deal=sent_contract.deal, kind=Kind.APPENDIX))
    with django_capture_on_commit_callbacks(execute=True):
        clock.run_jobs_at(days(1) + timedelta(minutes=1))
    [copies] = rule_letters("signed-copies")
    assert copies.subject == f"{STUDIO}: договор подписан"
    assert document_services.client_url(sent_contract) in copies.body
    deposit = Invoice.objects.get(deal=sent_contract.deal, schedule_step=1)
    assert deposit.status == Invoice.Status.ISSUED
    assert Outbox_subjects(deposit) == [f"{STUDIO}: счёт № {deposit.number}"]

    payments.record_manual_payment(
        deposit, amount=deposit.total, received_on=days(1).date(), actor=manager
    )
    clock.run_jobs_at(days(1, 12))
    [kickoff] = rule_letters("kickoff")
    assert kickoff.subject == f"{STUDIO}: начинаем работу"
    assert "доступы к домену" in kickoff.body


def Outbox_subjects(invoice):  # noqa: N802 - reads as a phrase in the test
    from studiocrm.notifications.models import Outbox

    return list(
        Outbox.objects.filter(
            dedupe_key__startswith=f"billing-invoice-link:{invoice.pk}:"
        ).values_list("subject", flat=True)
    )


def test_a_deposit_invoiced_by_hand_is_not_followed_by_the_final_invoice(
    sent_contract, clock, manager
):
    from studiocrm.billing import services as billing_services

    clock.move_to(days(1))
    accept(sent_contract)
    accept(Document.objects.get(deal=sent_contract.deal, kind=Kind.APPENDIX))
    from studiocrm.documents.public import payment_schedule

    assert len(payment_schedule(sent_contract.deal)) > 1
    billing_services.create_from_schedule(sent_contract.deal, 1, actor=manager)
    clock.run_jobs_at(days(1) + timedelta(minutes=1))
    assert list(
        Invoice.objects.filter(deal=sent_contract.deal).values_list("schedule_step", flat=True)
    ) == [1]
