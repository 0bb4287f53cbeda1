"""/lead/submit/: where the embed snippet on the studio's own site posts."""

import json
from html.parser import HTMLParser

import pytest
from django.test import Client, override_settings

from studiocrm.clients.models import Contact
from studiocrm.core.models import Studio
from studiocrm.deals.models import Deal
from studiocrm.intake.views import snippet_html

pytestmark = pytest.mark.django_db

SUBMIT_URL = "/lead/submit/"
JSON = {"HTTP_ACCEPT": "application/json"}


def test_a_post_without_a_csrf_token_opens_a_deal_and_redirects_to_thanks(manager, form_data):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(SUBMIT_URL + "?lang=ru", form_data)

    assert response.status_code == 302
    assert response["Location"] == "/lead/thanks/?lang=ru"
    assert Deal.objects.count() == 1


def test_a_get_goes_to_the_hosted_form(anonymous_client, studio):
    response = anonymous_client.get(SUBMIT_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/lead/?lang=")


def test_a_request_asking_for_json_gets_json(anonymous_client, manager, form_data):
    response = anonymous_client.post(SUBMIT_URL, form_data, **JSON)

    assert response.status_code == 200
    assert response.json() == {"ok": True}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Deal.objects.count() == 1


def test_json_errors_name_the_fields(anonymous_client, studio, form_data):
    form_data.update(name="", email="nope")

    response = anonymous_client.post(SUBMIT_URL + "?lang=en", form_data, **JSON)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["name"] == ["Tell us your name."]
    assert errors["email"] == ["Enter a valid email address."]
    assert Deal.objects.count() == 0


def test_errors_in_a_browser_show_the_hosted_form_with_the_values_kept(
    anonymous_client, studio, form_data
):
    form_data["email"] = "nope"

    response = anonymous_client.post(SUBMIT_URL + "?lang=en", form_data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert 'value="Anna Petrova"' in html
    assert 'action="/lead/?lang=en"' in html
    assert Deal.objects.count() == 0


def test_errors_without_a_submission_id_get_one_so_the_retry_is_idempotent(
    anonymous_client, studio, form_data
):
    del form_data["submission_id"]
    form_data["email"] = "nope"

    html = anonymous_client.post(SUBMIT_URL, form_data).content.decode()

    assert 'name="submission_id" value="' in html
    assert 'name="submission_id" value=""' not in html


def test_a_filled_honeypot_gets_the_same_answer_and_creates_nothing(
    anonymous_client, manager, form_data
):
    form_data["website"] = "https://casino.example"

    as_json = anonymous_client.post(SUBMIT_URL, form_data, **JSON)
    as_page = anonymous_client.post(SUBMIT_URL, form_data)

    assert (as_json.status_code, as_json.json()) == (200, {"ok": True})
    assert as_page.status_code == 302
    assert Deal.objects.count() == 0
    assert Contact.objects.count() == 0


def test_a_replay_with_the_same_submission_id_opens_one_deal(anonymous_client, manager, form_data):
    answers = [anonymous_client.post(SUBMIT_URL, form_data, **JSON).json() for _ in range(3)]

    assert answers == [{"ok": True}] * 3
    assert Deal.objects.count() == 1


def test_without_a_submission_id_the_same_lead_twice_opens_one_deal(
    anonymous_client, manager, form_data
):
    del form_data["submission_id"]  # a snippet with scripts blocked

    anonymous_client.post(SUBMIT_URL, form_data)
    anonymous_client.post(SUBMIT_URL, form_data)

    assert Deal.objects.count() == 1


def test_an_oversized_body_gets_413_and_creates_nothing(
    anonymous_client, manager, form_data, settings
):
    form_data["message"] = "Я" * settings.INTAKE_MAX_BODY_BYTES

    response = anonymous_client.post(SUBMIT_URL, form_data, **JSON)

    assert response.status_code == 413
    assert response.json()["ok"] is False
    assert Deal.objects.count() == 0


def test_a_non_numeric_content_length_gets_400(anonymous_client, studio):
    response = anonymous_client.post(
        SUBMIT_URL,
        data="name=Anna",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="lots",
    )

    assert response.status_code == 400


def test_json_bodies_are_not_a_form_encoding(anonymous_client, studio, form_data):
    response = anonymous_client.post(
        SUBMIT_URL, data=json.dumps(form_data), content_type="application/json", **JSON
    )

    assert response.status_code == 415
    assert Deal.objects.count() == 0


def test_a_body_with_no_content_type_gets_415(anonymous_client, studio):
    response = anonymous_client.generic("POST", SUBMIT_URL, b"name=Anna", content_type="")

    assert response.status_code == 415


def test_non_utf8_bytes_are_read_without_a_crash(anonymous_client, manager):
    response = anonymous_client.post(
        SUBMIT_URL,
        data=b"name=\xc3\x28\xa0\xa1&phone=89991234567&message=%C0%AF",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 302
    assert Deal.objects.get().contact.phone_normalized == "+79991234567"


def test_a_flood_of_fields_gets_400_not_a_crash(anonymous_client, studio):
    body = "&".join(f"f{n}=1" for n in range(1200))  # over DATA_UPLOAD_MAX_NUMBER_FIELDS

    response = anonymous_client.post(
        SUBMIT_URL, data=body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400


@override_settings(INTAKE_RATE="2/m")
def test_the_form_and_the_snippet_share_one_rate_limit(anonymous_client, manager, form_data):
    form_data["submission_id"] = "rate-limit-0001"
    anonymous_client.post("/lead/", form_data)
    form_data["submission_id"] = "rate-limit-0002"
    anonymous_client.post(SUBMIT_URL, form_data)

    form_data["submission_id"] = "rate-limit-0003"
    response = anonymous_client.post(SUBMIT_URL, form_data, **JSON)

    assert response.status_code == 429
    assert response.json()["ok"] is False
    assert Deal.objects.count() == 2


class FieldNames(HTMLParser):
    def __init__(self):
        super().__init__()
        self.names = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "textarea") and "name" in attributes:
            self.names.append(attributes["name"])


def test_the_snippet_posts_fields_the_endpoint_accepts(anonymous_client, manager, studio):
    parser = FieldNames()
    parser.feed(snippet_html(Studio.load()))
    values = {
        "name": "Boris",
        "email": "boris@example.com",
        "phone": "",
        "company": "",
        "message": "A landing page",
        "website": "",
        "submission_id": "0b9c5d1e-8e4f-4a9a-9f0e-5d5c4b3a2f10",
        "page_url": "https://studio.example/contact?utm_source=ads",
        "utm_source": "ads",
        "utm_medium": "",
        "utm_campaign": "",
    }
    assert sorted(parser.names) == sorted(values)

    response = anonymous_client.post(SUBMIT_URL, values)

    assert response.status_code == 302
    deal = Deal.objects.get()
    assert "utm_source=ads" in deal.description
