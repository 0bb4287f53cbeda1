"""Finding 7 of issue 14: contact emails are checked as a mail server would take them and
phones as the phonenumbers library does, at every door they come in by."""

import json

import pytest
from django.test import override_settings

from studiocrm.clients.models import Contact
from studiocrm.clients.validation import email_problem, phone_problem, valid_phone_e164
from studiocrm.deals.models import Deal
from studiocrm.documents.forms import AcceptForm, QuestionForm
from studiocrm.intake import services
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BAD_EMAILS = [
    "a@localhost",
    "x@[127.0.0.1]",
    "a" * 65 + "@example.com",
    "anna@example",
    'anna"@example.com',
    "anna@-example.com",
]
BAD_PHONES = ["0000000000", "12", "+1 555 0100", "call me"]


@pytest.mark.parametrize("value", BAD_EMAILS)
def test_addresses_a_mail_server_would_refuse_are_refused(value):
    assert email_problem(value) is not None


@pytest.mark.parametrize(
    "value",
    ["anna@example.com", "a" * 64 + "@example.com", "пётр@почта.рф", "a.b+tag@sub.example.org"],
)
def test_ordinary_and_international_addresses_are_accepted(value):
    assert email_problem(value) is None


def test_reserved_test_domains_are_refused_outside_the_test_settings(settings):
    settings.EMAIL_ALLOW_TEST_DOMAINS = False
    assert email_problem("anna@acme.test") is not None


@pytest.mark.parametrize("value", BAD_PHONES)
def test_numbers_that_cannot_be_dialled_are_refused(value):
    assert phone_problem(value) is not None


def test_a_local_number_is_read_in_the_studios_region(settings):
    assert valid_phone_e164("8 (999) 123-45-67") == "+79991234567"
    settings.PHONE_REGION = "GB"
    assert valid_phone_e164("020 7946 0000") == "+442079460000"


@override_settings(INTAKE_RATE="1000/m")
@pytest.mark.parametrize(
    "field,value", [("email", value) for value in BAD_EMAILS[:3]] + [("phone", "0000000000")]
)
def test_the_lead_form_and_embed_refuse_odd_values(anonymous_client, manager, field, value):
    data = {"name": "Anna", "email": "anna@example.com", field: value}

    response = anonymous_client.post("/lead/submit/", data, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Deal.objects.count() == 0


@override_settings(INTAKE_RATE="1000/m")
@pytest.mark.parametrize(
    "field,value", [("email", value) for value in BAD_EMAILS[:3]] + [("phone", "0000000000")]
)
def test_the_lead_api_refuses_odd_values(anonymous_client, owner, field, value):
    _key, secret = services.create_api_key("Site", actor=owner)
    body = {"name": "Anna", "email": "anna@example.com", field: value}

    response = anonymous_client.post(
        "/api/v1/leads",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert Deal.objects.count() == 0


@pytest.mark.parametrize("field,value", [("email", "a@localhost"), ("phone", "0000000000")])
def test_the_contact_form_refuses_odd_values(manager_client, field, value):
    contact = ContactFactory(email="anna@example.com", phone="")
    data = {"name": contact.name, "email": contact.email, "phone": "", field: value}

    response = manager_client.post(f"/clients/contacts/{contact.pk}/edit/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    contact.refresh_from_db()
    assert (contact.email, contact.phone) == ("anna@example.com", "")


def test_a_new_deal_refuses_an_odd_new_contact(manager_client):
    response = manager_client.post(
        "/deals/new/",
        {
            "new_contact_name": "Anna",
            "new_contact_email": "x@[127.0.0.1]",
            "new_contact_phone": "0000000000",
            "title": "Shop",
            "source": "phone",
            "currency": "RUB",
        },
    )

    form = response.context["form"]
    assert {"new_contact_email", "new_contact_phone"} <= set(form.errors)
    assert not Contact.objects.exists()


@pytest.mark.parametrize("form_class", [AcceptForm, QuestionForm])
def test_document_signing_and_question_forms_refuse_odd_emails(form_class):
    form = form_class(data={"name": "Anna Petrova", "email": "a@localhost", "consent": "on"})
    assert "email" in form.errors
