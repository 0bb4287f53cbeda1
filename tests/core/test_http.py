import pytest
from django.test import RequestFactory, override_settings

from studiocrm.core.http import client_ip


def test_client_address_is_remote_addr_without_a_trusted_proxy():
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "10.0.0.2"


@override_settings(USE_X_FORWARDED_FOR=True)
def test_behind_a_proxy_a_forged_first_forwarded_entry_is_ignored():
    request = RequestFactory().get(
        "/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.2"
    )
    assert client_ip(request) == "203.0.113.7"


@override_settings(USE_X_FORWARDED_FOR=True)
def test_behind_a_proxy_without_the_header_falls_back_to_remote_addr():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "10.0.0.2"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/password-reset/", "/lead/submit/"])
def test_a_form_in_another_charset_is_a_400_not_a_500(studio, path):
    """Found by the fuzz test (issue 14): Django refuses such a body on every read, and its
    CSRF check re-read it while handling the first refusal, ending in a 500."""
    from django.test import Client

    http = Client(raise_request_exception=False, enforce_csrf_checks=True)
    http.get(path)
    response = http.post(
        path, data=b"a=b", content_type="application/x-www-form-urlencoded; charset=latin-1"
    )
    assert response.status_code == 400
