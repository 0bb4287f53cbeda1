"""The channel registry: the outbox hands each message to the channel it names."""

import smtplib

import pytest

from studiocrm.notifications import outbox
from studiocrm.notifications.channels import Channel, DeliveryError, get_channel
from studiocrm.notifications.channels.email import classify
from studiocrm.notifications.models import Outbox

pytestmark = pytest.mark.django_db

SENT_BY_TEST_CHANNEL: list[tuple[str, str]] = []


class RecordingChannel(Channel):
    """A channel that keeps what it was given (stands in for, say, a messenger bot)."""

    name = "recording"

    def send(self, message):
        if message.to == "unreachable":
            raise DeliveryError("chat not found", permanent=True)
        SENT_BY_TEST_CHANNEL.append((message.to, message.body))


@pytest.fixture
def recording_channel(settings):
    SENT_BY_TEST_CHANNEL.clear()
    get_channel.cache_clear()
    settings.NOTIFICATION_CHANNELS = {
        **settings.NOTIFICATION_CHANNELS,
        "recording": f"{__name__}.RecordingChannel",
    }
    yield
    get_channel.cache_clear()


def test_a_message_is_delivered_by_the_channel_it_names(recording_channel):
    message = outbox.queue_message(
        channel="recording", to="@client", subject="", body="Your brief", dedupe_key="k1"
    )
    assert outbox.deliver(message.pk) == Outbox.Status.SENT
    assert SENT_BY_TEST_CHANNEL == [("@client", "Your brief")]


def test_a_permanent_channel_error_fails_the_message_with_its_reason(recording_channel):
    message = outbox.queue_message(
        channel="recording", to="unreachable", subject="", body="x", dedupe_key="k2"
    )
    assert outbox.deliver(message.pk) == Outbox.Status.FAILED
    message.refresh_from_db()
    assert message.last_error == "chat not found"
    assert SENT_BY_TEST_CHANNEL == []


def test_an_unknown_channel_fails_permanently_instead_of_retrying(recording_channel):
    message = outbox.queue_message(
        channel="carrier-pigeon", to="x", subject="", body="x", dedupe_key="k3"
    )
    assert outbox.deliver(message.pk) == Outbox.Status.FAILED
    message.refresh_from_db()
    assert "unknown notification channel" in message.last_error
    assert message.attempts == 1


@pytest.mark.parametrize("code", [530, 534, 535])
def test_smtp_authentication_trouble_is_retried_not_given_up(code):
    error = smtplib.SMTPAuthenticationError(code, b"5.7.8 Authentication credentials invalid")
    assert classify(error).permanent is False


def test_a_refused_recipient_is_permanent():
    error = smtplib.SMTPRecipientsRefused({"a@b.test": (550, b"no such user")})
    assert classify(error).permanent is True


def test_retry_now_gives_a_message_the_full_attempt_budget_again(recording_channel, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    message = outbox.queue_message(
        channel="recording", to="unreachable", subject="", body="x", dedupe_key="k4"
    )
    outbox.deliver(message.pk)
    Outbox.objects.filter(pk=message.pk).update(attempts=2, to="@now-reachable")
    message.refresh_from_db()

    outbox.retry_now(message)

    message.refresh_from_db()
    assert (message.status, message.attempts) == (Outbox.Status.QUEUED, 0)
    assert outbox.deliver(message.pk) == Outbox.Status.SENT
