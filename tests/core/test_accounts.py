"""Log in, reset a password by email, invite a user, change the studio — as people do."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_tasks import default_task_backend

from studiocrm.core import audit
from studiocrm.core.models import AuditLog, Studio
from studiocrm.notifications.models import Outbox
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


def _link_in(message: Outbox) -> str:
    match = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_a_manager_logs_in_and_lands_on_the_pipeline(anonymous_client, manager):
    response = anonymous_client.post(
        reverse("login"), {"username": "manager", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("deals:board")


def test_a_wrong_password_is_refused_with_a_message(anonymous_client, manager):
    response = anonymous_client.post(reverse("login"), {"username": "manager", "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in anonymous_client.session
    assert b"correct username and password" in response.content


def run_enqueued_tasks():
    """Run what the request enqueued, as the worker would (the test backend only keeps it)."""
    results = list(default_task_backend.results)
    default_task_backend.clear()
    return [result.task.call(*result.args, **result.kwargs) for result in results]


def test_password_reset_goes_through_the_outbox_and_its_link_sets_a_new_password(
    anonymous_client, manager
):
    default_task_backend.clear()
    response = anonymous_client.post(reverse("password_reset"), {"email": manager.email})
    assert response.status_code == 302
    assert run_enqueued_tasks() == [1]
    message = Outbox.objects.get(to=manager.email)
    assert message.dedupe_key.startswith("password-reset:")

    confirm = anonymous_client.get(_link_in(message), follow=True)
    assert confirm.status_code == 200
    form_url = confirm.redirect_chain[-1][0]
    done = anonymous_client.post(
        form_url,
        {"new_password1": "A much longer pass 42", "new_password2": "A much longer pass 42"},
    )
    assert done.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password("A much longer pass 42")


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(
    anonymous_client, manager
):
    default_task_backend.clear()
    response = anonymous_client.post(reverse("password_reset"), {"email": "nobody@x.test"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert run_enqueued_tasks() == [0]
    assert not Outbox.objects.exists()


def test_an_owner_invites_a_manager_who_sets_a_password_from_the_email(
    owner_client, anonymous_client
):
    response = owner_client.post(
        reverse("core:users"),
        {"username": "vera", "email": "Vera@Studio.test", "role": "manager", "language": "ru"},
    )
    assert response.status_code == 302
    vera = get_user_model().objects.get(username="vera")
    assert vera.email == "vera@studio.test"
    assert not vera.has_usable_password()
    message = Outbox.objects.get(to="vera@studio.test")
    assert "vera" in message.body
    assert AuditLog.objects.filter(verb="user.invited", object_id=str(vera.pk)).exists()

    confirm = anonymous_client.get(_link_in(message), follow=True)
    form_url = confirm.redirect_chain[-1][0]
    anonymous_client.post(
        form_url,
        {"new_password1": "Vera's own passphrase", "new_password2": "Vera's own passphrase"},
    )
    vera.refresh_from_db()
    assert vera.check_password("Vera's own passphrase")


def test_inviting_an_existing_email_is_refused_and_creates_nothing(owner_client, manager):
    response = owner_client.post(
        reverse("core:users"),
        {"username": "twin", "email": manager.email.upper(), "role": "manager", "language": ""},
    )
    assert response.status_code == 200
    assert not get_user_model().objects.filter(username="twin").exists()
    assert not Outbox.objects.exists()


def test_an_owner_saves_the_studio_profile_and_the_change_is_audited(owner_client, owner):
    response = owner_client.post(
        reverse("core:settings"),
        {
            "name": "Canape",
            "default_currency": "eur",
            "locale": "en",
            "time_zone": "Europe/Berlin",
            "tax_mode": "vat_on_top",
            "vat_rate": "19",
            "assignment_rule": "round_robin",
            "proposal_valid_days": "21",
        },
    )
    assert response.status_code == 302
    studio = Studio.load()
    assert studio.proposal_valid_days == 21
    assert (studio.name, studio.default_currency, studio.time_zone) == (
        "Canape",
        "EUR",
        "Europe/Berlin",
    )
    row = AuditLog.objects.get(verb="studio.updated")
    assert row.actor == owner
    assert row.data["changes"]["name"] == {"from": "Test Studio", "to": "Canape"}


def test_an_unknown_time_zone_or_currency_is_refused_with_a_message(owner_client, studio):
    response = owner_client.post(
        reverse("core:settings"),
        {
            "name": "X",
            "default_currency": "E1R",
            "locale": "en",
            "time_zone": "Mars/Olympus",
            "tax_mode": "no_vat",
            "vat_rate": "0",
            "assignment_rule": "round_robin",
        },
    )
    assert response.status_code == 200
    assert Studio.load().name == "Test Studio"
    assert "three-letter" in response.content.decode()
    assert "Unknown time zone" in response.content.decode()


def test_an_owner_deactivates_a_manager_who_then_cannot_log_in(
    owner_client, anonymous_client, manager
):
    owner_client.post(reverse("core:user_toggle", args=[manager.pk]))
    manager.refresh_from_db()
    assert not manager.is_active
    anonymous_client.post(
        reverse("login"), {"username": "manager", "password": "correct horse battery"}
    )
    assert "_auth_user_id" not in anonymous_client.session


def test_an_owner_cannot_deactivate_themselves(owner_client, owner):
    owner_client.post(reverse("core:user_toggle", args=[owner.pk]))
    owner.refresh_from_db()
    assert owner.is_active


def test_the_audit_log_page_lists_what_happened_for_owners_only(
    owner_client, manager_client, owner
):
    owner_client.post(reverse("core:user_toggle", args=[owner.pk]))
    audit.record("deal.created", DealFactory(), actor=owner)
    assert b"Created the deal" in owner_client.get(reverse("core:audit")).content
    assert manager_client.get(reverse("core:audit")).status_code == 403
