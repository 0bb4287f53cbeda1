"""The owner's "Lead intake" settings page: snippet, iframe, API keys."""

import re

import pytest
from django.urls import reverse

from studiocrm.core.models import AuditLog
from studiocrm.intake import services
from studiocrm.intake.models import ApiKey

pytestmark = pytest.mark.django_db

SETTINGS_URL = reverse("intake:settings")
CREATE_URL = reverse("intake:api_key_create")


def test_the_owner_sees_the_snippet_escaped_and_copy_ready(owner_client, studio):
    studio.locale = "ru"
    studio.save()

    html = owner_client.get(SETTINGS_URL).content.decode()

    assert (
        "&lt;form method=&quot;post&quot; "
        "action=&quot;http://testserver/lead/submit/?lang=ru&quot;" in html
    )
    assert "crypto.randomUUID" in html
    assert "Отправить заявку" in html  # the snippet is labelled in the studio's language
    assert "&lt;iframe src=&quot;http://testserver/lead/?embed=1&quot;" in html
    assert '<form method="post" action="http://testserver/lead/submit/' not in html


def test_the_settings_tabs_include_lead_intake(owner_client, studio):
    html = owner_client.get(SETTINGS_URL).content.decode()

    assert re.search(r'<a href="/lead/settings/"\s+aria-current="page">', html)


@pytest.mark.parametrize("persona", ["manager_client", "other_manager_client"])
def test_a_manager_cannot_open_the_settings(request, persona, studio):
    http = request.getfixturevalue(persona)

    assert http.get(SETTINGS_URL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(anonymous_client, studio):
    response = anonymous_client.get(SETTINGS_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_creating_a_key_shows_the_secret_once_and_stores_only_its_hash(owner_client, owner):
    response = owner_client.post(CREATE_URL, {"name": "Website backend"})
    assert response.status_code == 302

    first = owner_client.get(SETTINGS_URL).content.decode()
    secret = re.search(r'id="new-key"[^>]*value="(sck_[^"]+)"', first).group(1)
    second = owner_client.get(SETTINGS_URL).content.decode()

    key = ApiKey.objects.get()
    assert (key.name, key.created_by) == ("Website backend", owner)
    assert services.authenticate_api_key(secret) == key
    assert secret not in second
    assert f"sck_{key.prefix}_…" in second
    assert secret not in key.secret_hash
    assert AuditLog.objects.filter(verb="intake.api_key_created").count() == 1


def test_the_settings_page_is_never_cached(owner_client):
    assert "no-store" in owner_client.get(SETTINGS_URL)["Cache-Control"]


def test_a_key_needs_a_name(owner_client):
    response = owner_client.post(CREATE_URL, {"name": "  "})

    assert response.status_code == 400
    assert 'id="id_name_error"' in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_owner_revokes_a_key(owner_client, api_key):
    key, secret = api_key

    response = owner_client.post(reverse("intake:api_key_revoke", args=[key.pk]))

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert services.authenticate_api_key(secret) is None


def test_a_manager_cannot_create_or_revoke_keys(manager_client, api_key):
    key, secret = api_key

    create = manager_client.post(CREATE_URL, {"name": "Sneaky"})
    revoke = manager_client.post(reverse("intake:api_key_revoke", args=[key.pk]))

    assert (create.status_code, revoke.status_code) == (403, 403)
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None
    assert services.authenticate_api_key(secret) == key


def test_revoking_needs_a_post(owner_client, api_key):
    key, _secret = api_key

    response = owner_client.get(reverse("intake:api_key_revoke", args=[key.pk]))

    assert response.status_code == 405
    key.refresh_from_db()
    assert key.revoked_at is None


def test_revoking_an_unknown_key_is_404(owner_client):
    assert owner_client.post(reverse("intake:api_key_revoke", args=[999])).status_code == 404
