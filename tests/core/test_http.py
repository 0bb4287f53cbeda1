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
