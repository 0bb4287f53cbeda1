"""Outbox delivery against a real SMTP server started on 127.0.0.1 by the test.

Each test asserts both sides: the Outbox row and what the server actually received.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from studiocrm.core.management.commands.worker import run_periodic
from studiocrm.notifications import outbox
from studiocrm.notifications.models import Outbox
from studiocrm.notifications.tasks import deliver_outbox
from tests.factories import DealFactory
from tests.notifications.conftest import PERMANENT, TEMPORARY

pytestmark = pytest.mark.django_db

CLIENT = "client@example.test"


def _queue(key: str = "deal-1-welcome", to: str = CLIENT, **extra) -> Outbox:
    return outbox.queue_email(
        to=to,
        subject=extra.pop("subject", "Your brief is ready"),
        body=extra.pop("body", "Hello,\nplease fill in the brief.\n"),
        dedupe_key=key,
        **extra,
    )


def _make_due(message: Outbox) -> None:
    """Time passes: the backoff of a message waiting to retry is over."""
    Outbox.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def _text(received, subtype: str) -> str:
    """A body part as the sender wrote it (SMTP carries CRLF line ends)."""
    return received.get_body((subtype,)).get_content().replace("\r\n", "\n")


def _enqueued_ids(task_backend) -> list[int]:
    return [result.args[0] for result in task_backend.results]


# --- delivery -----------------------------------------------------------------------------


def test_a_queued_email_is_delivered_once_with_its_headers_and_body(smtp_server):
    message = _queue(subject="Your brief is ready", body="Hello,\nplease fill in the brief.\n")

    assert outbox.deliver(message.pk) == Outbox.Status.SENT

    [received] = smtp_server.received
    assert received["To"] == CLIENT
    assert received["From"] == "Studio <crm@studio.test>"
    assert received["Subject"] == "Your brief is ready"
    assert received["Message-ID"] == f"<outbox-{message.pk}@studiocrm>"
    assert _text(received, "plain") == "Hello,\nplease fill in the brief.\n"
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.last_error == ""
    assert message.claimed_until is None


def test_a_html_alternative_and_reply_to_reach_the_server(smtp_server):
    message = _queue(body_html="<p>Hello</p>", reply_to="manager@studio.test")

    outbox.deliver(message.pk)

    [received] = smtp_server.received
    assert received["Reply-To"] == "manager@studio.test"
    assert _text(received, "html").strip() == "<p>Hello</p>"


def test_non_ascii_subject_and_body_arrive_intact(smtp_server):
    message = _queue(subject="Ваш бриф готов", body="Здравствуйте! Заполните бриф.\n")

    outbox.deliver(message.pk)

    [received] = smtp_server.received
    assert received["Subject"] == "Ваш бриф готов"
    assert _text(received, "plain") == "Здравствуйте! Заполните бриф.\n"


def test_delivering_a_sent_message_again_sends_nothing_more(smtp_server):
    message = _queue()
    outbox.deliver(message.pk)

    assert outbox.deliver(message.pk) == Outbox.Status.SENT
    assert outbox.deliver_due() == {}

    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert message.attempts == 1


# --- transactions and enqueueing ----------------------------------------------------------


def test_delivery_is_enqueued_only_when_the_transaction_commits(
    task_backend, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        message = _queue()
        assert task_backend.results == []

    assert len(callbacks) == 1
    assert _enqueued_ids(task_backend) == [message.pk]
    assert task_backend.results[0].task.name == deliver_outbox.name


def test_queueing_in_a_rolled_back_transaction_leaves_no_row_and_enqueues_nothing(
    task_backend, django_capture_on_commit_callbacks
):
    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        _queue()
        raise Abort

    assert not Outbox.objects.exists()
    assert callbacks == []
    assert task_backend.results == []


def test_the_same_dedupe_key_queued_twice_keeps_one_row(task_backend, smtp_server):
    first = _queue(key="invoice-7-reminder", subject="First")
    second = _queue(key="invoice-7-reminder", subject="Second")

    assert second.pk == first.pk
    assert Outbox.objects.count() == 1
    assert Outbox.objects.get().subject == "First"


def test_the_same_dedupe_key_delivered_twice_reaches_the_server_once(task_backend, smtp_server):
    _queue(key="invoice-7-reminder")
    _queue(key="invoice-7-reminder")

    for outbox_id in _enqueued_ids(task_backend) + [Outbox.objects.get().pk]:
        outbox.deliver(outbox_id)
    outbox.deliver_due()

    assert len(smtp_server.received) == 1


# --- the server is down, then up ----------------------------------------------------------


def test_server_down_schedules_a_retry_with_backoff_and_keeps_the_message(
    smtp_server, task_backend
):
    message = _queue()
    smtp_server.stop()
    before = timezone.now()

    assert outbox.deliver(message.pk) == Outbox.Status.RETRY

    after = timezone.now()
    message.refresh_from_db()
    assert message.status == Outbox.Status.RETRY
    assert message.attempts == 1
    assert "server unavailable" in message.last_error
    backoff = timedelta(seconds=outbox.BACKOFF_SECONDS[0])
    assert before + backoff <= message.next_attempt_at <= after + backoff
    assert message.claimed_until is None
    assert smtp_server.received == []


def test_a_retry_enqueues_the_next_delivery_for_when_the_backoff_ends(smtp_server, task_backend):
    message = _queue()
    task_backend.clear()
    smtp_server.stop()

    outbox.deliver(message.pk)

    message.refresh_from_db()
    [result] = task_backend.results
    assert result.args == [message.pk]
    assert result.task.run_after == message.next_attempt_at


def test_a_retry_is_not_attempted_before_its_backoff_ends(smtp_server):
    message = _queue()
    smtp_server.stop()
    outbox.deliver(message.pk)
    smtp_server.start()

    assert outbox.deliver(message.pk) == Outbox.Status.RETRY
    assert outbox.deliver_due() == {}

    assert smtp_server.received == []
    message.refresh_from_db()
    assert message.attempts == 1


def test_server_back_up_delivers_the_waiting_message_exactly_once(smtp_server):
    message = _queue()
    smtp_server.stop()
    outbox.deliver(message.pk)

    smtp_server.start()
    _make_due(message)
    assert outbox.deliver_due() == {Outbox.Status.SENT: 1}
    assert outbox.deliver_due() == {}
    assert outbox.deliver(message.pk) == Outbox.Status.SENT

    [received] = smtp_server.received
    assert received["Message-ID"] == f"<outbox-{message.pk}@studiocrm>"
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT
    assert message.attempts == 2
    assert message.last_error == ""


def test_an_outage_loses_nothing_and_duplicates_nothing_across_many_messages(smtp_server):
    messages = [_queue(key=f"deal-{n}-welcome", to=f"client{n}@example.test") for n in range(5)]
    smtp_server.stop()
    assert outbox.deliver_due() == {Outbox.Status.RETRY: 5}

    smtp_server.start()
    for message in messages:
        _make_due(message)
    outbox.deliver_due()
    outbox.deliver_due()

    received_to = sorted(received["To"] for received in smtp_server.received)
    assert received_to == sorted(message.to for message in messages)
    assert set(Outbox.objects.values_list("status", flat=True)) == {Outbox.Status.SENT}


# --- temporary and permanent refusals -----------------------------------------------------


def test_a_temporary_451_for_the_recipient_schedules_a_retry(smtp_server):
    smtp_server.refuse(CLIENT, TEMPORARY)
    message = _queue()

    assert outbox.deliver(message.pk) == Outbox.Status.RETRY

    message.refresh_from_db()
    assert message.attempts == 1
    assert "451" in message.last_error
    assert message.next_attempt_at > timezone.now()
    assert smtp_server.received == []


def test_a_temporary_451_then_acceptance_delivers_once(smtp_server):
    smtp_server.refuse(CLIENT, TEMPORARY)
    message = _queue()
    outbox.deliver(message.pk)

    smtp_server.accept(CLIENT)
    _make_due(message)
    outbox.deliver_due()

    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Outbox.Status.SENT, 2)


def test_a_permanent_550_fails_at_once_and_shows_on_the_deal(smtp_server, task_backend):
    smtp_server.refuse(CLIENT, PERMANENT)
    deal = DealFactory()
    message = _queue(deal=deal)
    task_backend.clear()

    assert outbox.deliver(message.pk) == Outbox.Status.FAILED

    failed = deal.outbox.get(status=Outbox.Status.FAILED)
    assert failed.pk == message.pk
    assert failed.attempts == 1
    assert "550" in failed.last_error
    assert "No such user" in failed.last_error
    assert task_backend.results == []
    assert smtp_server.received == []


def test_a_failed_message_is_never_attempted_again_by_the_sweeper(smtp_server):
    smtp_server.refuse(CLIENT, PERMANENT)
    message = _queue()
    outbox.deliver(message.pk)
    smtp_server.accept(CLIENT)
    Outbox.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(days=1))

    assert outbox.deliver_due() == {}
    assert outbox.deliver(message.pk) == Outbox.Status.FAILED

    message.refresh_from_db()
    assert message.attempts == 1
    assert smtp_server.received == []


def test_retry_now_requeues_a_failed_message_which_then_delivers(
    smtp_server, task_backend, django_capture_on_commit_callbacks
):
    smtp_server.refuse(CLIENT, PERMANENT)
    message = _queue()
    outbox.deliver(message.pk)
    smtp_server.accept(CLIENT)
    task_backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        outbox.retry_now(message)

    message.refresh_from_db()
    assert message.status == Outbox.Status.QUEUED
    assert message.last_error == ""
    assert _enqueued_ids(task_backend) == [message.pk]
    assert outbox.deliver(message.pk) == Outbox.Status.SENT
    assert len(smtp_server.received) == 1


def test_retry_now_does_nothing_to_a_sent_message(
    smtp_server, task_backend, django_capture_on_commit_callbacks
):
    message = _queue()
    outbox.deliver(message.pk)
    task_backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        outbox.retry_now(message)

    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT
    assert task_backend.results == []
    assert outbox.deliver_due() == {}
    assert len(smtp_server.received) == 1


def test_a_subject_with_a_newline_is_sent_on_one_line(smtp_server):
    message = _queue(subject="Deal:\nShop\r\nredesign")

    assert outbox.deliver(message.pk) == Outbox.Status.SENT

    [received] = smtp_server.received
    assert received["Subject"] == "Deal: Shop redesign"


def test_an_address_that_does_not_parse_fails_at_once_and_is_not_retried(smtp_server, task_backend):
    message = _queue(to="first@example.test, second@example.test")
    task_backend.clear()

    assert outbox.deliver(message.pk) == Outbox.Status.FAILED

    message.refresh_from_db()
    assert message.attempts == 1
    assert "Invalid address" in message.last_error
    assert task_backend.results == []
    assert smtp_server.received == []


def test_a_message_without_a_recipient_fails_instead_of_passing_for_sent(smtp_server):
    message = _queue(to="")

    assert outbox.deliver(message.pk) == Outbox.Status.FAILED

    message.refresh_from_db()
    assert message.sent_at is None
    assert message.last_error == "no recipient address"
    assert smtp_server.received == []


def test_running_out_of_attempts_turns_a_temporary_failure_into_failed(smtp_server, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    smtp_server.refuse(CLIENT, TEMPORARY)
    message = _queue()

    statuses = []
    for _attempt in range(3):
        _make_due(message)
        statuses.append(outbox.deliver(message.pk))
    _make_due(message)
    assert outbox.deliver_due() == {}

    assert statuses == [Outbox.Status.RETRY, Outbox.Status.RETRY, Outbox.Status.FAILED]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Outbox.Status.FAILED, 3)
    assert "451" in message.last_error
    assert smtp_server.received == []


def test_backoff_grows_with_each_failed_attempt(smtp_server):
    smtp_server.refuse(CLIENT, TEMPORARY)
    message = _queue()

    delays = []
    for _attempt in range(3):
        _make_due(message)
        started = timezone.now()
        outbox.deliver(message.pk)
        message.refresh_from_db()
        delays.append(round((message.next_attempt_at - started).total_seconds()))

    assert delays == outbox.BACKOFF_SECONDS[:3]


# --- a worker that died while sending -----------------------------------------------------


def test_a_message_whose_claim_expired_is_picked_up_by_the_sweeper(smtp_server):
    message = _queue()
    Outbox.objects.filter(pk=message.pk).update(
        status=Outbox.Status.SENDING, claimed_until=timezone.now() - timedelta(seconds=1)
    )

    assert outbox.deliver_due() == {Outbox.Status.SENT: 1}

    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT
    assert message.claimed_until is None


def test_a_message_claimed_by_a_live_worker_is_left_alone(smtp_server):
    message = _queue()
    Outbox.objects.filter(pk=message.pk).update(
        status=Outbox.Status.SENDING, claimed_until=timezone.now() + timedelta(minutes=4)
    )

    assert outbox.deliver_due() == {}
    assert outbox.deliver(message.pk) == Outbox.Status.SENDING

    assert smtp_server.received == []


# --- the task and the worker --------------------------------------------------------------


def test_the_delivery_task_delivers(smtp_server):
    message = _queue()

    assert deliver_outbox.call(message.pk) == Outbox.Status.SENT

    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT


def test_the_delivery_task_for_a_missing_row_does_nothing(smtp_server):
    assert deliver_outbox.call(987654) == "missing"
    assert smtp_server.received == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_periodic_sweep_delivers_what_is_due(smtp_server, settings):
    settings.PERIODIC_JOBS = [("studiocrm.notifications.outbox.deliver_due", 1)]
    message = _queue()
    stop = threading.Event()
    worker = threading.Thread(target=run_periodic, args=(stop,), daemon=True)

    worker.start()
    try:
        received = smtp_server.wait_for(1, timeout=5)
        # Give the sweep a second round to prove it does not send the message again.
        stop.wait(2.2)
    finally:
        stop.set()
        worker.join(timeout=5)

    assert not worker.is_alive()
    assert len(received) == 1
    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert message.status == Outbox.Status.SENT


# --- concurrency (PostgreSQL) -------------------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row-level concurrency is only meaningful on PostgreSQL (SQLite serialises writers)",
)


def _run_at_once(workers: int, work) -> list:
    barrier = threading.Barrier(workers)
    results: list = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return results


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_row_at_once_send_it_once(smtp_server):
    message = _queue()

    results = _run_at_once(2, lambda: outbox.deliver(message.pk))

    assert Outbox.Status.SENT in results
    assert len(smtp_server.received) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Outbox.Status.SENT, 1)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_send_every_message_exactly_once(smtp_server):
    messages = [_queue(key=f"deal-{n}-welcome", to=f"client{n}@example.test") for n in range(12)]

    _run_at_once(2, outbox.deliver_due)

    received_to = sorted(received["To"] for received in smtp_server.received)
    assert received_to == sorted(message.to for message in messages)
    assert set(Outbox.objects.values_list("attempts", flat=True)) == {1}


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_dedupe_key_queued_by_two_transactions_at_once_keeps_one_row(smtp_server):
    def queue_in_a_transaction() -> int:
        with transaction.atomic():
            return _queue(key="deal-9-welcome").pk

    ids = _run_at_once(2, queue_in_a_transaction)

    assert len(set(ids)) == 1
    assert Outbox.objects.count() == 1
    outbox.deliver_due()
    assert len(smtp_server.received) == 1
