"""Outgoing webhooks against a real HTTP receiver on 127.0.0.1 that checks every signature:
delivered after commit, nothing for a rolled-back change, retries with backoff, a receiver
that is down gets its events later in order and once each, 500s and timeouts, pausing and
telling the owner, the SSRF guard, and the owner's pages."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from studiocrm.deals import services as deal_services
from studiocrm.notifications.models import Outbox
from studiocrm.webhooks import delivery, http, services
from studiocrm.webhooks.models import Attempt, Delivery, Subscription
from tests.conftest import logged_in
from tests.factories import DealFactory


class Receiver:
    """A webhook receiver on an ephemeral port. ``mode`` decides the answer: "ok" (200),
    "error" (500), "slow" (sleeps past the timeout). It can be stopped and restarted on
    the same port to play a receiver that is down."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.mode = "ok"
        self.received: list[dict] = []
        self.bad_signatures = 0
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.mode == "slow":
                    time.sleep(1.5)
                signature = self.headers.get("StudioCRM-Signature", "")
                if not delivery.verify(receiver.secret, signature, body):
                    receiver.bad_signatures += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                if receiver.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append(
                    {
                        "delivery": self.headers["StudioCRM-Delivery"],
                        "event": self.headers["StudioCRM-Event"],
                        "body": json.loads(body),
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    if receiver.server is not None:
        receiver.stop()


@pytest.fixture
def hook(owner, receiver):
    subscription, secret = services.create(
        url=receiver.url,
        events=["deal.stage_changed", "lead.received"],
        description="test",
        actor=owner,
    )
    receiver.secret = secret
    return subscription


def run_due():
    """What the worker does: everything due now (tasks run explicitly in tests)."""
    return delivery.deliver_due()


def make_due(subscription):
    Delivery.objects.filter(subscription=subscription).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.django_db
def test_event_is_delivered_signed_after_commit(
    hook, receiver, manager, django_capture_on_commit_callbacks
):
    deal = DealFactory(manager=manager)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deal_services.move_deal(deal, "brief_sent", actor=manager)
    assert Delivery.objects.filter(subscription=hook).count() == 1
    assert receiver.received == []  # nothing is sent inside the transaction
    assert callbacks  # the sending task is enqueued on commit
    assert run_due() == {"sent": 1}
    (got,) = receiver.received
    assert got["event"] == "deal.stage_changed"
    assert got["body"]["deal"]["id"] == deal.pk
    assert got["body"]["data"] == {"from": "new", "to": "brief_sent", "lost_reason": ""}
    assert receiver.bad_signatures == 0
    sent = Delivery.objects.get()
    assert sent.status == "delivered" and sent.last_status_code == 204
    assert Attempt.objects.get().status_code == 204


@pytest.mark.django_db
def test_unsubscribed_events_and_rolled_back_changes_send_nothing(hook, receiver, manager):
    deal = DealFactory(manager=manager)
    with pytest.raises(RuntimeError), transaction.atomic():
        deal_services.move_deal(deal, "brief_sent", actor=manager)
        raise RuntimeError("the change fails")
    assert not Delivery.objects.exists()
    hook.events = ["invoice.paid"]
    hook.save()
    deal_services.move_deal(deal, "brief_sent", actor=manager)
    assert not Delivery.objects.exists()
    assert run_due() == {}


@pytest.mark.django_db
def test_wrong_secret_is_refused_by_the_receiver(hook, receiver, manager):
    receiver.secret = "whsec_not_the_one"
    deal_services.move_deal(DealFactory(manager=manager), "brief_sent", actor=manager)
    run_due()
    assert receiver.bad_signatures == 1
    assert Delivery.objects.get().status == "retry"


def test_signature_scheme_and_tolerance():
    body = b'{"a":1}'
    now = int(time.time())
    header = delivery.sign("s3cret", now, body)
    assert header.startswith(f"t={now},v1=")
    assert delivery.verify("s3cret", header, body)
    assert not delivery.verify("s3cret", header, body + b" ")
    assert not delivery.verify("other", header, body)
    old = delivery.sign("s3cret", now - 3600, body)
    assert not delivery.verify("s3cret", old, body)  # a replayed old request
    assert not delivery.verify("s3cret", "garbage", body)


@pytest.mark.django_db
def test_receiver_down_gets_events_later_in_order_once_each(hook, receiver, manager):
    deal = DealFactory(manager=manager)
    receiver.stop()
    for stage in ("brief_sent", "brief_received", "estimated"):
        deal_services.move_deal(deal, stage, actor=manager)
    assert run_due() == {"retry": 1}
    first = Delivery.objects.filter(subscription=hook).order_by("pk").first()
    assert first.status == "retry" and first.attempts == 1
    assert first.next_attempt_at > timezone.now()  # backoff: not due again at once
    assert run_due() == {}
    # Later ones wait behind the first: never sent out of order.
    assert Delivery.objects.filter(attempts=0).count() == 2
    make_due(hook)
    assert run_due() == {"retry": 1}
    second = Delivery.objects.get(pk=first.pk)
    assert second.attempts == 2
    assert second.next_attempt_at - timezone.now() > timedelta(seconds=20)  # grows
    receiver.start()  # back on the same port
    make_due(hook)
    assert run_due() == {"sent": 1}
    assert [item["body"]["data"]["to"] for item in receiver.received] == [
        "brief_sent",
        "brief_received",
        "estimated",
    ]
    assert len({item["delivery"] for item in receiver.received}) == 3
    make_due(hook)
    assert run_due() == {}
    assert len(receiver.received) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.django_db
def test_500s_are_retried_and_logged(hook, receiver, manager):
    receiver.mode = "error"
    deal_services.move_deal(DealFactory(manager=manager), "brief_sent", actor=manager)
    run_due()
    make_due(hook)
    run_due()
    assert list(Attempt.objects.values_list("status_code", flat=True)) == [500, 500]
    receiver.mode = "ok"
    make_due(hook)
    run_due()
    assert list(Attempt.objects.order_by("pk").values_list("status_code", flat=True)) == [
        500,
        500,
        204,
    ]
    assert len(receiver.received) == 1


@pytest.mark.django_db
@override_settings(WEBHOOK_TIMEOUT_SECONDS=0.5)
def test_a_slow_receiver_times_out_and_is_retried(hook, receiver, manager):
    receiver.mode = "slow"
    deal_services.move_deal(DealFactory(manager=manager), "brief_sent", actor=manager)
    started = time.monotonic()
    assert run_due() == {"retry": 1}
    assert time.monotonic() - started < 1.4
    attempt = Attempt.objects.get()
    assert attempt.status_code is None and "did not answer" in attempt.error
    assert Delivery.objects.get().status == "retry"


@pytest.mark.django_db
@override_settings(WEBHOOK_PAUSE_AFTER_DAYS=3)
def test_failing_for_days_pauses_and_tells_the_owner(hook, receiver, manager, owner):
    receiver.stop()
    deal_services.move_deal(DealFactory(manager=manager), "brief_sent", actor=manager)
    run_due()
    hook.refresh_from_db()
    assert hook.failing_since is not None and hook.is_active
    Subscription.objects.filter(pk=hook.pk).update(
        failing_since=timezone.now() - timedelta(days=3, minutes=1)
    )
    make_due(hook)
    run_due()
    hook.refresh_from_db()
    assert not hook.is_active and hook.paused_at is not None
    letter = Outbox.objects.get(to=owner.email)
    assert hook.url in letter.subject
    # Paused: new events are kept, nothing is sent.
    deal_services.move_deal(DealFactory(manager=manager), "brief_sent", actor=manager)
    make_due(hook)
    assert run_due() == {}
    assert Delivery.objects.filter(status__in=["pending", "retry"]).count() == 2
    # Resumed with the receiver back: the backlog goes out in order.
    receiver.start()
    services.set_active(hook, True, actor=owner)
    assert delivery.send_subscription(hook.pk) == "sent:2"
    assert len(receiver.received) == 2
    assert mail.outbox == []  # the letter goes through the outbox, not directly


@pytest.mark.django_db
def test_one_sender_per_subscription(hook, receiver, manager):
    deal_services.move_deal(DealFactory(manager=manager), "brief_sent", actor=manager)
    Subscription.objects.filter(pk=hook.pk).update(
        claimed_until=timezone.now() + timedelta(seconds=60)
    )
    assert delivery.send_subscription(hook.pk) == "busy"
    assert receiver.received == []
    Subscription.objects.filter(pk=hook.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )  # a worker died holding it: the claim expires
    assert delivery.send_subscription(hook.pk) == "sent:1"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "ftp://example.com/x",
        "http://user:pass@example.com/x",
    ],
)
@override_settings(WEBHOOK_ALLOW_PRIVATE=False, WEBHOOK_ALLOW_HTTP=True)
def test_ssrf_guard_refuses_private_addresses(url):
    with pytest.raises(http.UnsafeUrl):
        _scheme, host, port, _path = http.check_url(url)
        http.resolve(host, port)
    response = http.post(url, b"{}", {}, 1)
    assert response.status is None and response.error


@override_settings(WEBHOOK_ALLOW_PRIVATE=False, WEBHOOK_ALLOW_HTTP=False)
def test_plain_http_is_refused_in_production():
    with pytest.raises(http.UnsafeUrl):
        http.check_url("http://example.com/hook")


@pytest.mark.django_db
@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_a_receiver_on_loopback_gets_nothing_in_production(hook, receiver, manager):
    deal_services.move_deal(DealFactory(manager=manager), "brief_sent", actor=manager)
    run_due()
    assert receiver.received == []
    assert "private network" in Attempt.objects.get().error


@pytest.mark.django_db
def test_owner_pages_show_secret_once_and_the_log(owner, receiver, manager):
    http_client = logged_in(owner)
    response = http_client.post(
        "/webhooks/",
        {"url": receiver.url, "events": ["deal.stage_changed"], "description": "ERP"},
        follow=True,
    )
    assert response.status_code == 200
    hook = Subscription.objects.get()
    secret = response.context["new_secret"]["secret"]
    assert secret == hook.secret and secret.encode() in response.content
    assert secret.encode() not in http_client.get("/webhooks/").content
    receiver.secret = secret
    deal_services.move_deal(DealFactory(manager=manager), "brief_sent", actor=manager)
    run_due()
    page = http_client.get(f"/webhooks/{hook.pk}/")
    assert b"deal.stage_changed" in page.content and b"204" in page.content
    regenerated = http_client.post(f"/webhooks/{hook.pk}/secret/", follow=True)
    hook.refresh_from_db()
    assert hook.secret != secret
    assert hook.secret.encode() in regenerated.content
    bad = http_client.post("/webhooks/", {"url": "ftp://x", "events": ["nope"]})
    assert bad.status_code == 400
    assert Subscription.objects.count() == 1


@pytest.mark.django_db
def test_managers_cannot_manage_webhooks(manager):
    assert logged_in(manager).get("/webhooks/").status_code == 403
