"""The hosted form page /lead/: what a visitor sees and what hostile input gets."""

import re

import pytest
from django.test import RequestFactory, override_settings
from django.urls import reverse

from studiocrm.clients.models import Client, Contact
from studiocrm.core.models import Studio
from studiocrm.deals.models import Deal
from studiocrm.intake import views

pytestmark = pytest.mark.django_db

FORM_URL = "/lead/"


def nothing_created():
    return (Deal.objects.count(), Contact.objects.count(), Client.objects.count()) == (0, 0, 0)


def submission_id(html):
    return re.search(r'name="submission_id" value="([^"]+)"', html).group(1)


def test_the_form_page_shows_the_studio_and_a_fresh_submission_id(anonymous_client, studio):
    first = anonymous_client.get(FORM_URL)
    second = anonymous_client.get(FORM_URL)

    assert first.status_code == 200
    html = first.content.decode()
    assert "Test Studio" in html
    for field in ("name", "email", "phone", "company", "message"):
        assert f'name="{field}"' in html
    assert submission_id(html) != submission_id(second.content.decode())


def test_opening_the_form_changes_nothing_and_is_never_cached(anonymous_client, studio):
    response = anonymous_client.get(FORM_URL)

    assert nothing_created()
    assert "no-store" in response["Cache-Control"]
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies


def test_the_honeypot_is_hidden_from_people_and_assistive_technology(anonymous_client, studio):
    html = anonymous_client.get(FORM_URL).content.decode()

    trap = re.search(r'<div class="intake-hp"[^>]*>.*?</div>', html, re.S).group(0)
    assert 'aria-hidden="true"' in trap
    assert 'name="website"' in trap
    assert 'tabindex="-1"' in trap
    assert 'autocomplete="off"' in trap


def test_the_form_speaks_the_studio_language_by_default(anonymous_client, studio):
    studio.locale = "ru"
    studio.save()

    html = anonymous_client.get(FORM_URL).content.decode()

    assert '<html lang="ru">' in html
    assert "Отправить заявку" in html


def test_the_lang_parameter_chooses_the_language(anonymous_client, studio):
    studio.locale = "ru"
    studio.save()

    html = anonymous_client.get(FORM_URL + "?lang=en").content.decode()

    assert '<html lang="en">' in html
    assert "Send request" in html


def test_an_unknown_lang_falls_back_to_the_studio_language(anonymous_client, studio):
    html = anonymous_client.get(FORM_URL + "?lang=xx%3Cscript%3E").content.decode()

    assert f'<html lang="{studio.locale}">' in html
    assert "<script>" not in html.split("</form>")[0]


def test_a_valid_lead_opens_a_deal_and_leads_to_the_thank_you_page(
    anonymous_client, manager, form_data
):
    response = anonymous_client.post(FORM_URL + "?lang=en", form_data)

    assert response.status_code == 302
    assert response["Location"] == "/lead/thanks/?lang=en"
    deal = Deal.objects.get()
    assert (deal.manager, deal.contact.email) == (manager, "anna@example.com")


def test_the_thank_you_page_says_what_happens_next(anonymous_client, studio):
    html = anonymous_client.get("/lead/thanks/?lang=en").content.decode()

    assert "Thank you! Your request has been sent." in html
    assert "questionnaire" in html
    assert "proposal" in html


def test_missing_fields_are_named_next_to_the_field_and_values_are_kept(
    anonymous_client, studio, form_data
):
    form_data.update(name="", email="", phone="")

    response = anonymous_client.post(FORM_URL + "?lang=en", form_data)

    assert response.status_code == 400
    html = response.content.decode()
    assert '<p class="error" id="id_name_error">Tell us your name.</p>' in html
    assert "Leave an email or a phone number so we can reply." in html
    assert 'value="Acme"' in html
    assert "We need an online shop for garden goods." in html
    assert submission_id(html) == form_data["submission_id"]
    assert nothing_created()


def test_an_invalid_email_and_phone_get_clear_errors(anonymous_client, studio, form_data):
    form_data.update(email="anna@", phone="12")

    html = anonymous_client.post(FORM_URL + "?lang=en", form_data).content.decode()

    assert "Enter a valid email address." in html
    assert "Enter a phone number with the area code" in html
    assert 'aria-invalid="true"' in html
    assert nothing_created()


def test_a_filled_honeypot_pretends_success_and_creates_nothing(
    anonymous_client, manager, form_data
):
    form_data["website"] = "http://spam.example"

    response = anonymous_client.post(FORM_URL, form_data)

    assert response.status_code == 302
    assert response["Location"].startswith("/lead/thanks/")
    assert nothing_created()


def test_a_replay_with_the_same_submission_id_opens_one_deal(anonymous_client, manager, form_data):
    first = anonymous_client.post(FORM_URL, form_data)
    second = anonymous_client.post(FORM_URL, form_data)

    assert first.status_code == second.status_code == 302
    assert Deal.objects.count() == 1
    assert Contact.objects.count() == 1


def test_markup_is_stored_verbatim_and_escaped_when_the_form_is_shown_again(
    anonymous_client, manager, form_data
):
    hostile = '<script>alert("x")</script>'
    form_data.update(company=hostile, email="bad")

    html = anonymous_client.post(FORM_URL, form_data).content.decode()

    assert hostile not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html

    form_data["email"] = "anna@example.com"
    anonymous_client.post(FORM_URL, form_data)
    assert Deal.objects.get().client.name == hostile


def test_the_thank_you_page_never_echoes_what_was_sent(anonymous_client, manager, form_data):
    form_data["name"] = '<img src=x onerror="alert(1)">'

    response = anonymous_client.post(FORM_URL, form_data, follow=True)

    assert response.status_code == 200
    assert "onerror" not in response.content.decode()


def test_an_oversized_body_is_refused_with_413_and_nothing_is_created(
    anonymous_client, manager, form_data, settings
):
    form_data["message"] = "x" * (settings.INTAKE_MAX_BODY_BYTES + 1)

    response = anonymous_client.post(FORM_URL, form_data)

    assert response.status_code == 413
    assert nothing_created()


def test_a_body_larger_than_its_content_length_header_is_refused(manager, form_data, settings):
    body = "name=Anna&email=a%40b.co&message=" + "x" * (settings.INTAKE_MAX_BODY_BYTES + 10)
    request = RequestFactory().post(
        FORM_URL, data=body, content_type="application/x-www-form-urlencoded"
    )
    request.META["CONTENT_LENGTH"] = "100"  # the header lies; the body is read in full

    response = views.lead_form(request)

    assert response.status_code == 413
    assert nothing_created()


def test_a_message_over_the_length_limit_is_an_error_not_a_crash(
    anonymous_client, studio, form_data
):
    form_data["message"] = "🙂" * 5001  # 20 kB of four-byte characters, under the body limit

    response = anonymous_client.post(FORM_URL + "?lang=en", form_data)

    assert response.status_code == 400
    assert "Ensure this value has at most 5000 characters" in response.content.decode()
    assert nothing_created()


def test_long_unicode_within_the_limits_is_accepted(anonymous_client, manager, form_data):
    form_data.update(name="名" * 200, message="Ж" * 5000)

    response = anonymous_client.post(FORM_URL, form_data)

    assert response.status_code == 302
    assert Deal.objects.get().contact.name == "名" * 200


def test_non_utf8_bytes_do_not_crash_the_form(anonymous_client, manager):
    body = b"name=%FF%FEAnna&email=anna%40example.com&message=\xff\xfe\xfa"

    response = anonymous_client.post(
        FORM_URL, data=body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 302
    assert Deal.objects.count() == 1


def test_a_null_character_is_a_field_error(anonymous_client, studio, form_data):
    form_data["name"] = "Anna\x00"

    response = anonymous_client.post(FORM_URL + "?lang=en", form_data)

    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert nothing_created()


def test_a_wrong_content_type_gets_415(anonymous_client, studio):
    response = anonymous_client.post(
        FORM_URL, data='{"name": "Anna"}', content_type="application/json"
    )

    assert response.status_code == 415
    assert nothing_created()


def test_a_broken_multipart_body_gets_400(anonymous_client, studio):
    response = anonymous_client.post(
        FORM_URL,
        data=b'--nope\r\nContent-Disposition: form-data; name="name"\r\n\r\nAnna',
        content_type="multipart/form-data",  # no boundary
    )

    assert response.status_code == 400
    assert nothing_created()


def test_hidden_fields_with_junk_are_dropped_not_shown_as_errors(
    anonymous_client, manager, form_data
):
    form_data.update(submission_id="<bad id>", page_url="javascript:alert(1)", utm_source="x" * 500)

    response = anonymous_client.post(FORM_URL, form_data)

    assert response.status_code == 302
    deal = Deal.objects.get()
    assert "javascript" not in deal.description


def test_other_methods_are_refused_without_a_crash(anonymous_client, studio):
    assert anonymous_client.put(FORM_URL).status_code == 405
    assert anonymous_client.delete(FORM_URL).status_code == 405


@override_settings(INTAKE_RATE="3/m")
def test_after_the_rate_limit_the_form_answers_429_and_creates_nothing(
    anonymous_client, manager, form_data
):
    for n in range(3):
        form_data["submission_id"] = f"submission-{n:04d}"
        assert anonymous_client.post(FORM_URL, form_data).status_code == 302

    form_data["submission_id"] = "submission-9999"
    response = anonymous_client.post(FORM_URL + "?lang=en", form_data)

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "Too many requests" in response.content.decode()
    assert Deal.objects.count() == 3


@override_settings(INTAKE_RATE="2/m")
def test_the_rate_limit_is_per_address(manager, form_data):
    from django.test import Client

    crowded, other = Client(REMOTE_ADDR="203.0.113.1"), Client(REMOTE_ADDR="203.0.113.2")
    for n in range(3):
        form_data["submission_id"] = f"crowded-{n:04d}"
        crowded.post(FORM_URL, form_data)

    form_data["submission_id"] = "other-0001"
    assert other.post(FORM_URL, form_data).status_code == 302


def test_the_form_and_thanks_pages_may_be_framed_but_other_pages_may_not(
    anonymous_client, owner_client, studio
):
    assert "X-Frame-Options" not in anonymous_client.get(FORM_URL + "?embed=1")
    assert "X-Frame-Options" not in anonymous_client.get("/lead/thanks/?embed=1")
    assert anonymous_client.post("/lead/submit/", {})["X-Frame-Options"] == "DENY"
    assert owner_client.get(reverse("intake:settings"))["X-Frame-Options"] == "DENY"


def test_the_embed_variant_has_no_header_and_keeps_embed_through_the_post(anonymous_client, studio):
    Studio.objects.filter(pk=studio.pk).update(name="Chrome Studio")

    html = anonymous_client.get(FORM_URL + "?embed=1&lang=en").content.decode()

    assert "intake-header" not in html
    assert 'action="/lead/?lang=en&amp;embed=1"' in html
