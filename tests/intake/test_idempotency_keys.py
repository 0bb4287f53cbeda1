"""Finding 6 of issue 14: idempotency keys of the lead API belong to the API key that sent
them, and a key reused with another body is refused (422) instead of silently dropping the
lead. Posted to a real server (live_server on 127.0.0.1), as the attack was."""

import json

import pytest
import requests
from django.test import override_settings

from studiocrm.deals.models import Deal
from studiocrm.intake import services

LEAD = {"name": "Anna", "email": "anna@example.com", "message": "An online shop"}


def post(base, secret, body, key="lead-1"):
    return requests.post(
        f"{base}/api/v1/leads",
        data=json.dumps(body),
        headers={
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
        timeout=10,
    )


@pytest.fixture
def two_keys(owner):
    return (
        services.create_api_key("Site A", actor=owner)[1],
        services.create_api_key("Site B", actor=owner)[1],
    )


@override_settings(INTAKE_RATE="1000/m")
def test_the_same_key_from_another_integration_opens_its_own_deal(live_server, manager, two_keys):
    first_secret, second_secret = two_keys

    first = post(live_server.url, first_secret, LEAD)
    second = post(live_server.url, second_secret, {**LEAD, "name": "Boris"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["deal_id"] != second.json()["deal_id"]
    assert Deal.objects.count() == 2


@override_settings(INTAKE_RATE="1000/m")
def test_a_key_reused_with_another_body_is_a_422_and_loses_nothing(live_server, manager, two_keys):
    secret = two_keys[0]
    first = post(live_server.url, secret, LEAD)

    reused = post(live_server.url, secret, {**LEAD, "message": "Another lead entirely"})

    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert "already used for a different lead" in reused.json()["detail"]
    assert Deal.objects.count() == 1
    assert Deal.objects.get().pk == first.json()["deal_id"]


@override_settings(INTAKE_RATE="1000/m")
def test_the_same_body_with_the_same_key_replays_the_first_deal(live_server, manager, two_keys):
    secret = two_keys[0]
    first = post(live_server.url, secret, LEAD)

    replay = post(live_server.url, secret, LEAD)

    assert first.status_code == 201
    assert replay.status_code == 200
    assert replay.json() == {"deal_id": first.json()["deal_id"], "created": False}
    assert Deal.objects.count() == 1


def test_the_hosted_form_going_back_and_sending_another_lead_keeps_both(
    anonymous_client, manager, form_data
):
    anonymous_client.post("/lead/submit/", form_data)
    anonymous_client.post("/lead/submit/", {**form_data, "message": "Also a logo, please"})

    assert Deal.objects.count() == 2
