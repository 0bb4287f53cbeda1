"""Generated bodies posted to the login, code and password-reset forms: never a 5xx, never
a login, never an email queued for an address that was not typed."""

import pytest
from django.core.cache import cache
from django.test import Client as HttpClient
from django.urls import reverse
from django_tasks import default_task_backend
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studiocrm.core.accounts.views import PENDING_KEY

pytestmark = pytest.mark.django_db

text = st.text(max_size=300) | st.sampled_from(["", " ", "\x00", "manager", "а" * 5000])
bodies = st.dictionaries(
    st.sampled_from(["username", "password", "code", "email", "next", "csrfmiddlewaretoken"])
    | st.text(max_size=20),
    text | st.lists(text, max_size=3),
    max_size=6,
)


@given(body=bodies, address=st.ip_addresses().map(str))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_body_to_the_login_form_is_answered_without_a_server_error(manager, body, address):
    http = HttpClient()
    answer = http.post(reverse("login"), body, REMOTE_ADDR=address)
    assert answer.status_code in (200, 302, 429)
    assert "_auth_user_id" not in http.session


@given(body=bodies)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_body_to_the_code_form_is_answered_without_a_server_error(manager, body):
    http = HttpClient()
    session = http.session
    session[PENDING_KEY] = {
        "user": manager.pk,
        "backend": "django.contrib.auth.backends.ModelBackend",
        "at": 4e9,
        "next": "/",
        "failures": 0,
    }
    session.save()
    answer = http.post(reverse("login_verify"), body)
    assert answer.status_code in (200, 302, 429)
    assert "_auth_user_id" not in http.session


@given(body=bodies, address=st.ip_addresses().map(str))
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_body_to_the_reset_form_is_answered_without_a_server_error(db, body, address):
    cache.clear()
    default_task_backend.clear()
    answer = HttpClient().post(reverse("password_reset"), body, REMOTE_ADDR=address)
    assert answer.status_code in (200, 302)
    for result in default_task_backend.results:
        typed = body["email"]
        typed = typed[-1] if isinstance(typed, list) else typed  # a form field takes the last
        assert result.args[0] == typed.strip().lower()
