"""The REST API through HTTP as an integration uses it: tokens, role, errors, pagination,
idempotency (including two requests at once on PostgreSQL), rate limit."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test import override_settings

from studiocrm.api import services
from studiocrm.api.models import ApiToken, IdempotencyRecord
from studiocrm.deals.models import Deal, Event, Note, StageChange
from tests.conftest import logged_in
from tests.factories import ClientFactory, ContactFactory, DealFactory

API = "/api/v1"


def bearer(value: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {value}"}


@pytest.fixture
def write_token(manager):
    _token, value = services.create_token(manager, "sync", ApiToken.Scope.WRITE)
    return value


@pytest.fixture
def read_token(manager):
    _token, value = services.create_token(manager, "reports", ApiToken.Scope.READ)
    return value


def call(method: str, path: str, token: str | None, body: object = None, **headers: str):
    http = HttpClient()
    extra = bearer(token) if token else {}
    extra.update(headers)
    kwargs = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(http, method)(f"{API}{path}", **kwargs, **extra)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer scrm_000000000000_" + "a" * 43,
        "Basic dXNlcjpwYXNz",
        "Bearer sck_abc_def",
        "Bearer " + "x" * 5000,
    ],
)
def test_missing_or_wrong_tokens_get_one_401(manager, write_token, header):
    http = HttpClient()
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = http.get(f"{API}/deals", **extra)
    error = assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"] == "Bearer"
    assert error["details"] is None


@pytest.mark.django_db
def test_revoked_token_and_deactivated_user_are_refused(manager, write_token):
    assert call("get", "/deals", write_token).status_code == 200
    token = ApiToken.objects.get(user=manager)
    services.revoke_token(token, actor=manager)
    assert_error(call("get", "/deals", write_token), 401, "unauthorized")
    _token, other = services.create_token(manager, "again", "write")
    manager.is_active = False
    manager.save()
    assert_error(call("get", "/deals", other), 401, "unauthorized")


@pytest.mark.django_db
def test_only_the_hash_is_stored(manager):
    token, value = services.create_token(manager, "sync", "read")
    assert value.startswith(f"scrm_{token.prefix}_")
    assert value.split("_", 2)[2] not in token.secret_hash
    assert len(token.secret_hash) == 64


@pytest.mark.django_db
def test_read_token_cannot_write(read_token):
    client = ClientFactory()
    response = call("post", "/deals", read_token, {"title": "X", "client_id": client.pk})
    assert_error(response, 403, "insufficient_scope")
    assert not Deal.objects.exists()
    assert call("get", "/deals", read_token).status_code == 200


@pytest.mark.django_db
def test_create_deal_opens_it_in_new_for_the_manager(manager, write_token):
    client = ClientFactory()
    contact = ContactFactory(client=client)
    response = call(
        "post",
        "/deals",
        write_token,
        {
            "title": "Online shop",
            "client_id": client.pk,
            "contact_id": contact.pk,
            "expected_amount": "150000.00",
            "currency": "RUB",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    deal = Deal.objects.get(pk=body["id"])
    assert (deal.stage_id, deal.manager, deal.source) == ("new", manager, "api")
    assert body["expected_amount"] == "150000.00"
    assert Event.objects.filter(deal=deal, name="lead.received").exists()


@pytest.mark.django_db
def test_create_deal_validation_errors_use_the_error_shape(manager, write_token):
    other_client = ClientFactory()
    client = ClientFactory()
    foreign_contact = ContactFactory(client=other_client)
    cases = [
        ({"title": "", "client_id": client.pk}, "validation_error"),
        ({"title": "A", "client_id": client.pk, "emial": "x"}, "validation_error"),
        ({"title": "A", "client_id": 999999}, "validation_error"),
        ({"title": "A", "client_id": client.pk, "contact_id": foreign_contact.pk}, None),
        ({"title": "A", "client_id": client.pk, "expected_amount": "-1"}, "validation_error"),
        ({"title": "A", "client_id": client.pk, "source": "fax"}, "validation_error"),
    ]
    for body, code in cases:
        error = assert_error(
            call("post", "/deals", write_token, body), 422, code or "validation_error"
        )
        assert error["details"]
    http = HttpClient()
    broken = http.post(
        f"{API}/deals", data="{not json", content_type="application/json", **bearer(write_token)
    )
    assert broken.status_code in (400, 422)
    assert "error" in broken.json()
    assert not Deal.objects.exists()


@pytest.mark.django_db
def test_manager_token_can_do_what_the_manager_can(manager, other_manager, write_token):
    mine = DealFactory(manager=manager)
    theirs = DealFactory(manager=other_manager)
    assert call("patch", f"/deals/{mine.pk}", write_token, {"title": "Renamed"}).status_code == 200
    mine.refresh_from_db()
    assert mine.title == "Renamed"
    assert_error(
        call("patch", f"/deals/{theirs.pk}", write_token, {"title": "X"}), 403, "forbidden"
    )
    assert_error(
        call("post", f"/deals/{theirs.pk}/stage", write_token, {"stage": "brief_sent"}),
        403,
        "forbidden",
    )
    assert_error(
        call("post", f"/deals/{theirs.pk}/notes", write_token, {"text": "hi"}), 403, "forbidden"
    )
    assert_error(
        call("patch", f"/clients/{theirs.client_id}", write_token, {"name": "X"}), 403, "forbidden"
    )
    assert_error(
        call("patch", f"/deals/{mine.pk}", write_token, {"manager_id": other_manager.pk}),
        403,
        "forbidden",
    )
    # Reading is open to every role, as in the app.
    assert call("get", f"/deals/{theirs.pk}", write_token).json()["title"] == theirs.title
    theirs.refresh_from_db()
    assert theirs.title != "X" and theirs.stage_id == "new"


@pytest.mark.django_db
def test_owner_token_reassigns_and_moves_any_deal(owner, other_manager, manager):
    _t, value = services.create_token(owner, "o", "write")
    deal = DealFactory(manager=other_manager)
    response = call("patch", f"/deals/{deal.pk}", value, {"manager_id": manager.pk})
    assert response.status_code == 200 and response.json()["manager_id"] == manager.pk
    moved = call("post", f"/deals/{deal.pk}/stage", value, {"stage": "estimated"})
    assert moved.json()["stage"] == "estimated"
    assert_error(call("post", f"/deals/{deal.pk}/stage", value, {"stage": "lost"}), 409, "conflict")
    lost = call("post", f"/deals/{deal.pk}/stage", value, {"stage": "lost", "reason": "price"})
    assert lost.json()["stage"] == "lost"
    assert list(StageChange.objects.filter(deal=deal).values_list("to_stage", flat=True)) == [
        "estimated",
        "lost",
    ]
    events = call("get", f"/deals/{deal.pk}/events", value).json()["data"]
    assert [event["name"] for event in events] == ["deal.stage_changed", "deal.stage_changed"]
    assert_error(call("get", "/deals/999999", value), 404, "not_found")


@pytest.mark.django_db
def test_cursor_pagination_is_stable_and_complete(manager, read_token):
    deals = [DealFactory(manager=manager) for _ in range(7)]
    seen, cursor = [], None
    pages = 0
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = call("get", f"/deals{query}", read_token).json()
        seen += [item["id"] for item in body["data"]]
        pages += 1
        if pages == 1:
            DealFactory(manager=manager)  # a new deal does not shift the pages
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted((deal.pk for deal in deals), reverse=True)
    assert pages == 3
    for bad in ("abc", "eyJ2IjoxLCJpZCI6ImEifQ", "%00", "e30"):
        assert_error(call("get", f"/deals?cursor={bad}", read_token), 422, "invalid_cursor")
    assert_error(call("get", "/deals?limit=1000", read_token), 422, "validation_error")


@pytest.mark.django_db
def test_date_filters_take_any_rfc3339_offset_and_refuse_dates_off_the_calendar(
    manager, read_token
):
    """Schemathesis found +21:03 (valid RFC 3339, beyond PostgreSQL's ±15:59) answered 500."""
    deal = DealFactory(manager=manager)
    far_offset = call("get", "/deals?created_after=0043-01-29T08:36:03%2B21:03", read_token)
    assert far_offset.status_code == 200
    assert [row["id"] for row in far_offset.json()["data"]] == [deal.pk]
    tomorrow = call("get", "/deals?created_after=2999-01-01T00:00:00-23:59", read_token)
    assert tomorrow.status_code == 200
    assert tomorrow.json()["data"] == []
    assert_error(
        call("get", "/deals?created_before=0001-01-01T00:00:00%2B05:00", read_token),
        422,
        "validation_error",
    )


@pytest.mark.django_db
def test_list_filters(manager, other_manager, read_token):
    mine = DealFactory(manager=manager)
    DealFactory(manager=other_manager, stage_id="estimated")
    body = call("get", f"/deals?manager={manager.pk}", read_token).json()
    assert [item["id"] for item in body["data"]] == [mine.pk]
    body = call("get", "/deals?stage=estimated", read_token).json()
    assert [item["manager_id"] for item in body["data"]] == [other_manager.pk]


@pytest.mark.django_db
def test_idempotency_replays_and_refuses_another_body(manager, write_token):
    client = ClientFactory()
    body = {"title": "Shop", "client_id": client.pk}
    first = call("post", "/deals", write_token, body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = call("post", "/deals", write_token, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Deal.objects.count() == 1
    other = call(
        "post", "/deals", write_token, {**body, "title": "Other"}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert_error(other, 422, "idempotency_key_reused")
    assert Deal.objects.count() == 1
    # Keys belong to the token: another token's same key is a new request.
    _t, second_token = services.create_token(manager, "two", "write")
    assert call("post", "/deals", second_token, body, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    assert Deal.objects.count() == 2
    # A failed create keeps no record: fix the body, retry with the same key.
    bad = call(
        "post",
        "/deals",
        write_token,
        {"title": "X", "client_id": 999999},
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    assert bad.status_code == 422
    assert not IdempotencyRecord.objects.filter(key="k-2").exists()
    assert_error(
        call("post", "/deals", write_token, body, HTTP_IDEMPOTENCY_KEY="bad key é"),
        422,
        "invalid_idempotency_key",
    )


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_with_one_key_create_one_deal(manager, write_token):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers (PostgreSQL)")
    client = ClientFactory()
    body = {"title": "Race", "client_id": client.pk}
    results = []
    barrier = threading.Barrier(4)

    def submit():
        barrier.wait()
        try:
            response = call("post", "/deals", write_token, body, HTTP_IDEMPOTENCY_KEY="race")
            results.append((response.status_code, response.json()["id"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Deal.objects.count() == 1
    assert {status for status, _id in results} == {201}
    assert len({deal_id for _status, deal_id in results}) == 1


@pytest.mark.django_db
@override_settings(API_RATE="3/m")
def test_rate_limit_per_token(manager, write_token, read_token):
    from django.core.cache import cache

    cache.clear()
    statuses = [call("get", "/deals", write_token).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = call("get", "/deals", write_token)
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    assert call("get", "/deals", read_token).status_code == 200  # another token's budget
    cache.clear()


@pytest.mark.django_db
def test_resources_read_and_notes_tasks_write(manager, write_token):
    deal = DealFactory(manager=manager)
    note = call("post", f"/deals/{deal.pk}/notes", write_token, {"text": "Called"})
    assert note.status_code == 201
    assert Note.objects.get(pk=note.json()["id"]).author == manager
    task = call(
        "post",
        "/tasks",
        write_token,
        {"title": "Call back", "due_at": "2030-01-01T10:00:00Z", "deal_id": deal.pk},
    )
    assert task.status_code == 201 and task.json()["assignee_id"] == manager.pk
    done = call("post", f"/tasks/{task.json()['id']}/done", write_token, {"done": True})
    assert done.json()["done"] is True
    for path in (
        "/briefs",
        "/estimates",
        "/documents",
        "/invoices",
        "/payments",
        "/events",
        "/contacts",
        "/clients",
        "/tasks",
        f"/deals/{deal.pk}/notes",
        "/deals/stages",
    ):
        response = call("get", path, write_token)
        assert response.status_code == 200, (path, response.content)
    client = call("post", "/clients", write_token, {"name": "ACME", "kind": "company"})
    assert client.status_code == 201
    contact = call(
        "post",
        "/contacts",
        write_token,
        {"client_id": client.json()["id"], "name": "Anna", "email": "anna@client.test"},
    )
    assert contact.status_code == 201, contact.content
    bad_email = call("patch", f"/contacts/{contact.json()['id']}", write_token, {"email": "nope"})
    assert_error(bad_email, 422, "validation_error")


@pytest.mark.django_db
def test_token_page_shows_the_token_once_and_revokes(manager):
    http = logged_in(manager)
    response = http.post("/api-tokens/", {"name": "Zapier", "scope": "write"}, follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get(user=manager)
    value = response.context["new_token"]["value"]
    assert value.startswith(f"scrm_{token.prefix}_")
    assert value.encode() in response.content
    assert value.encode() not in http.get("/api-tokens/").content
    assert call("get", "/deals", value).status_code == 200
    http.post(f"/api-tokens/{token.pk}/revoke/")
    assert call("get", "/deals", value).status_code == 401


@pytest.mark.django_db
def test_someone_elses_token_cannot_be_revoked(manager, other_manager):
    token, value = services.create_token(other_manager, "theirs", "read")
    response = logged_in(manager).post(f"/api-tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    assert call("get", "/deals", value).status_code == 200


@pytest.mark.django_db
def test_docs_and_schema_are_served(client):
    schema = client.get(f"{API}/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/deals" in paths and "/api/v1/leads" not in paths
    assert client.get(f"{API}/docs").status_code == 200
    # The lead intake API still answers beside it.
    assert client.post("/api/v1/leads").status_code == 401


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=10_000)
def test_oversized_body_answers_413_with_the_error_shape(write_token):
    client = ClientFactory()
    body = {"title": "Big", "client_id": client.pk, "description": "x" * 20_000}
    assert_error(call("post", "/deals", write_token, body), 413, "body_too_large")
    assert not Deal.objects.exists()


@pytest.mark.django_db
def test_old_idempotency_keys_are_forgotten(manager, write_token):
    from datetime import timedelta

    from django.utils import timezone

    client = ClientFactory()
    body = {"title": "Shop", "client_id": client.pk}
    call("post", "/deals", write_token, body, HTTP_IDEMPOTENCY_KEY="old")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert services.purge_idempotency_records() == 1
    assert call("post", "/deals", write_token, body, HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    assert Deal.objects.count() == 2


@pytest.mark.django_db
def test_send_a_proposal_through_the_api(manager, other_manager, write_token, settings, tmp_path):
    """The Send button's service: the revision is frozen and the client is emailed through
    the outbox; another manager's token may not send it."""
    from studiocrm.documents import services as document_services
    from studiocrm.estimates.models import PriceList
    from studiocrm.notifications.models import Outbox
    from tests.documents.conftest import make_estimated_deal

    settings.PRIVATE_ROOT = tmp_path
    deal = make_estimated_deal(manager, PriceList.objects.get(default_key="default-rub"))
    proposal = document_services.create_proposal(deal, actor=manager)
    _t, others = services.create_token(other_manager, "x", "write")
    assert_error(call("post", f"/documents/{proposal.pk}/send", others), 403, "forbidden")
    response = call("post", f"/documents/{proposal.pk}/send", write_token)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent"
    assert Outbox.objects.filter(to=deal.contact.email).exists()
    listed = call("get", f"/documents?deal={deal.pk}", write_token).json()["data"]
    assert [item["id"] for item in listed] == [proposal.pk]
    estimates = call("get", f"/estimates?deal={deal.pk}", write_token).json()["data"]
    assert estimates and estimates[0]["total"] is not None
