"""POST /api/v1/leads: the JSON API for integrations, with hostile input."""

import json
from decimal import Decimal

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import resolve

from studiocrm.clients.models import Contact
from studiocrm.deals.models import Deal, Source
from studiocrm.intake import services

pytestmark = pytest.mark.django_db

URL = "/api/v1/leads"
LEAD = {"name": "Anna", "email": "anna@example.com", "message": "An online shop"}


def post(http, body, *, key=None, content_type="application/json", **headers):
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return http.post(URL, data=data, content_type=content_type, **headers)


@pytest.fixture
def http():
    return Client()


@pytest.fixture
def secret(api_key):
    return api_key[1]


def test_a_valid_lead_opens_a_deal_and_answers_201(http, manager, secret):
    response = post(http, LEAD, key=secret, HTTP_IDEMPOTENCY_KEY="lead-1")

    assert response.status_code == 201
    deal = Deal.objects.get()
    assert response.json() == {"deal_id": deal.pk, "created": True}
    assert (deal.source, deal.manager, deal.contact.email) == (
        Source.API,
        manager,
        "anna@example.com",
    )


def test_a_replay_with_the_same_idempotency_key_answers_200_with_the_same_deal(
    http, manager, secret
):
    first = post(http, LEAD, key=secret, HTTP_IDEMPOTENCY_KEY="lead-1")
    replay = post(http, LEAD, key=secret, HTTP_IDEMPOTENCY_KEY="lead-1")

    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == {"deal_id": first.json()["deal_id"], "created": False}
    assert Deal.objects.count() == 1


def test_the_idempotency_key_may_come_in_the_body(http, manager, secret):
    body = {**LEAD, "idempotency_key": "body-key"}

    codes = [post(http, body, key=secret).status_code for _ in range(2)]

    assert codes == [201, 200]


def test_different_idempotency_keys_in_header_and_body_are_refused(http, manager, secret):
    response = post(http, {**LEAD, "idempotency_key": "a"}, key=secret, HTTP_IDEMPOTENCY_KEY="b")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "idempotency_key"
    assert Deal.objects.count() == 0


def test_an_idempotency_key_with_control_characters_is_refused(http, manager, secret):
    response = post(http, {**LEAD, "idempotency_key": "bad\nkey"}, key=secret)

    assert response.status_code == 422
    assert Deal.objects.count() == 0


def test_without_an_idempotency_key_the_same_lead_twice_is_one_deal(http, manager, secret):
    codes = [post(http, LEAD, key=secret).status_code for _ in range(2)]

    assert codes == [201, 200]
    assert Deal.objects.count() == 1


def test_the_budget_becomes_the_expected_amount(http, manager, secret):
    post(http, {**LEAD, "budget": 150000.5}, key=secret)

    assert Deal.objects.get().expected_amount == Decimal("150000.50")


def test_null_optional_fields_mean_absent(http, manager, secret):
    body = {"name": "Anna", "email": None, "phone": "89991234567", "company": None}

    response = post(http, body, key=secret)

    assert response.status_code == 201
    assert Deal.objects.get().contact.phone_normalized == "+79991234567"


def test_markup_is_stored_verbatim(http, manager, secret):
    hostile = "<script>alert(1)</script>"

    post(http, {**LEAD, "name": hostile, "message": hostile}, key=secret)

    deal = Deal.objects.get()
    assert (deal.contact.name, deal.description) == (hostile, hostile)


def test_the_key_records_its_last_use(http, manager, api_key):
    key, secret = api_key

    post(http, LEAD, key=secret)

    key.refresh_from_db()
    assert key.last_used_at is not None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": ""},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Basic YWRtaW46YWRtaW4="},
        {"HTTP_AUTHORIZATION": "Bearer sck_000000000000_" + "a" * 43},
        {"HTTP_AUTHORIZATION": "Bearer " + "x" * 10_000},
        {"HTTP_AUTHORIZATION": "Bearer sck_\u00ff\u00fe_\u00e9"},
    ],
)
def test_a_missing_or_wrong_key_gets_401_with_one_message_and_creates_nothing(
    http, manager, headers
):
    response = post(http, LEAD, **headers)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or missing API key.", "errors": []}
    assert response["WWW-Authenticate"] == "Bearer"
    assert Deal.objects.count() == 0


def test_a_key_with_a_wrong_secret_gets_the_same_401(http, manager, secret):
    response = post(http, LEAD, key=secret[:-1] + ("A" if secret[-1] != "A" else "B"))

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or missing API key."
    assert Deal.objects.count() == 0


def test_a_revoked_key_gets_the_same_401(http, manager, api_key, owner):
    key, secret = api_key
    services.revoke_api_key(key, actor=owner)

    response = post(http, LEAD, key=secret)

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid or missing API key."
    assert Deal.objects.count() == 0


def test_a_declared_oversized_body_gets_413_before_parsing(http, manager, secret, settings):
    body = {**LEAD, "message": "x" * settings.INTAKE_MAX_BODY_BYTES}

    response = post(http, body, key=secret)

    assert response.status_code == 413
    assert Deal.objects.count() == 0


def test_a_body_bigger_than_its_content_length_gets_413(manager, secret, settings):
    body = json.dumps({**LEAD, "message": "x" * settings.INTAKE_MAX_BODY_BYTES})
    request = RequestFactory().post(
        URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    request.META["CONTENT_LENGTH"] = "64"  # the header lies; the stream was read in full

    response = resolve(URL).func(request)

    assert response.status_code == 413
    assert Deal.objects.count() == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "",
    ],
)
def test_a_wrong_content_type_gets_415(http, manager, secret, content_type):
    response = post(http, json.dumps(LEAD), key=secret, content_type=content_type)

    assert response.status_code == 415
    assert Deal.objects.count() == 0


def test_json_with_an_explicit_utf8_charset_is_fine(http, manager, secret):
    response = post(http, LEAD, key=secret, content_type="application/json; charset=UTF-8")

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"   ", "not valid JSON"),
        (b'{"name": "Anna",}', "not valid JSON"),
        (b"[" * 100_00 + b"]" * 100_00, "nested too deeply"),
        (b'{"name": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b'{"name": "\xff\xfe"}', "not valid UTF-8"),
        ('{"name": "Анна"}'.encode("cp1251"), "not valid UTF-8"),
    ],
)
def test_a_broken_body_gets_400_with_a_clear_reason(http, manager, secret, body, reason):
    response = post(http, body, key=secret)

    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert Deal.objects.count() == 0


def test_an_empty_body_gets_400(http, manager, secret):
    response = post(http, b"", key=secret, CONTENT_TYPE="application/json")

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "anna@example.com"}, "name"),
        ({**LEAD, "name": ""}, "name"),
        ({**LEAD, "name": 42}, "name"),
        ({**LEAD, "email": ["a@b.c"]}, "email"),
        ({**LEAD, "email": "anna@"}, "email"),
        ({"name": "Anna", "message": "hi"}, "email"),
        ({**LEAD, "phone": "call me"}, "phone"),
        ({**LEAD, "name": "x" * 201}, "name"),
        ({**LEAD, "message": "Ж" * 5001}, "message"),
        ({**LEAD, "budget": -5}, "budget"),
        ({**LEAD, "budget": "NaN"}, "budget"),
        ({**LEAD, "budget": True}, "budget"),
        ({**LEAD, "budget": "1.005"}, "budget"),
        ({**LEAD, "page_url": "javascript:alert(1)"}, "page_url"),
        ({**LEAD, "message": "nul \u0000 byte"}, "message"),
        ({**LEAD, "emial": "typo@example.com"}, "emial"),
    ],
)
def test_invalid_fields_get_422_naming_the_field(http, manager, secret, body, field):
    response = post(http, body, key=secret)

    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert Deal.objects.count() == 0


def test_a_lone_surrogate_gets_422_not_a_database_error(http, manager, secret):
    response = post(http, b'{"name": "Anna \\ud800", "email": "a@example.com"}', key=secret)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"
    assert Deal.objects.count() == 0


@pytest.mark.parametrize("body", [[], "lead", 42, None])
def test_a_body_that_is_not_an_object_gets_422(http, manager, secret, body):
    response = post(http, json.dumps(body), key=secret)

    assert response.status_code == 422
    assert response.json()["detail"] == "The body must be a JSON object."


def test_error_messages_do_not_echo_the_input(http, manager, secret):
    response = post(http, {**LEAD, "email": "<script>x</script>"}, key=secret)

    assert "<script>" not in response.content.decode()


def test_other_methods_are_refused_without_a_crash(http, secret):
    response = http.get(URL, HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 405


@override_settings(INTAKE_RATE="3/m")
def test_after_the_rate_limit_the_api_answers_429_and_creates_nothing(http, manager, secret):
    codes = [
        post(http, LEAD, key=secret, HTTP_IDEMPOTENCY_KEY=f"lead-{n}").status_code for n in range(4)
    ]

    assert codes == [201, 201, 201, 429]
    assert Deal.objects.count() == 3


@override_settings(INTAKE_RATE="3/m")
def test_wrong_keys_count_against_the_address_too(http, manager, secret):
    for _ in range(3):
        post(http, LEAD, key="sck_000000000000_" + "a" * 43)

    response = post(http, LEAD, key=secret)

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert Deal.objects.count() == 0


@override_settings(INTAKE_RATE="2/m")
def test_one_key_is_limited_across_addresses(manager, secret):
    codes = [
        post(
            Client(REMOTE_ADDR=f"198.51.100.{n}"),
            LEAD,
            key=secret,
            HTTP_IDEMPOTENCY_KEY=f"lead-{n}",
        ).status_code
        for n in range(3)
    ]

    assert codes == [201, 201, 429]
    assert Deal.objects.count() == 2


@override_settings(USE_X_FORWARDED_FOR=True)
def test_a_forged_forwarded_address_does_not_crash_the_rate_limit(http, manager, secret):
    response = post(http, LEAD, key=secret, HTTP_X_FORWARDED_FOR="not-an-ip, 10.0.0.1")

    assert response.status_code == 201


def test_the_docs_page_is_public_and_loads_nothing_from_elsewhere(http):
    response = http.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/v1/leads" in html
    assert "Idempotency-Key" in html
    assert "cdn" not in html.lower()
    assert "<script" not in html


def test_the_openapi_document_describes_the_body_and_the_bearer_key(http):
    schema = http.get("/api/openapi.json").json()

    operation = schema["paths"]["/api/v1/leads"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False
    assert "name" in body["required"]
    assert {"200", "201", "401", "413", "415", "422", "429"} <= set(operation["responses"])
    schemes = schema["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in schemes.values())


def test_a_lead_from_the_api_and_the_form_for_one_person_share_the_contact(
    http, anonymous_client, manager, secret, form_data
):
    post(http, {"name": "Anna", "email": "ANNA@example.com", "message": "Via API"}, key=secret)
    anonymous_client.post("/lead/", form_data)

    assert Deal.objects.count() == 2
    assert Contact.objects.count() == 1
