"""Simultaneous submissions, for real: threads and a barrier against PostgreSQL."""

import json
import threading

import pytest
from django.db import connection, connections
from django.test import Client, override_settings

from studiocrm.clients.models import Contact
from studiocrm.deals.models import Deal
from studiocrm.notifications.models import Outbox
from tests.factories import UserFactory

THREADS = 8


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite serialises every writer, so nothing here can race "
            "(run with DATABASE_URL=postgres://...)"
        )


@pytest.fixture(autouse=True)
def _postgres_with_stages(postgres_only, stages):
    pass


def at_once(send):
    """Run send() in THREADS threads released together; return what each returned."""
    barrier = threading.Barrier(THREADS)
    results = [None] * THREADS
    errors = []

    def run(index):
        try:
            http = Client()
            barrier.wait(timeout=20)
            results[index] = send(http, index)
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True)
@override_settings(INTAKE_RATE="1000/m")
def test_one_form_submission_posted_eight_times_at_once_opens_one_deal(
    postgres_only, manager, form_data
):
    responses = at_once(lambda http, index: http.post("/lead/submit/", form_data))

    assert [response.status_code for response in responses] == [302] * THREADS
    assert Deal.objects.count() == 1
    assert Contact.objects.count() == 1
    assert Outbox.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@override_settings(INTAKE_RATE="1000/m")
def test_one_api_lead_posted_eight_times_at_once_answers_one_201_and_seven_200(
    postgres_only, manager, api_key
):
    _key, secret = api_key
    body = json.dumps({"name": "Anna", "email": "anna@example.com", "message": "Shop"})

    responses = at_once(
        lambda http, index: http.post(
            "/api/v1/leads",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_IDEMPOTENCY_KEY="same-lead",
        )
    )

    codes = sorted(response.status_code for response in responses)
    assert codes == [200] * (THREADS - 1) + [201]
    deal = Deal.objects.get()
    assert {response.json()["deal_id"] for response in responses} == {deal.pk}
    assert Contact.objects.count() == 1
    assert Outbox.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@override_settings(INTAKE_RATE="1000/m")
def test_different_leads_from_one_new_person_at_once_share_one_contact_and_rotate_managers(
    postgres_only, studio, form_data
):
    managers = [UserFactory(), UserFactory()]

    def send(http, index):
        return http.post(
            "/lead/submit/",
            {**form_data, "submission_id": f"lead-{index:08d}", "message": f"Task {index}"},
        )

    responses = at_once(send)

    assert [response.status_code for response in responses] == [302] * THREADS
    assert Deal.objects.count() == THREADS
    assert Contact.objects.count() == 1
    per_manager = [Deal.objects.filter(manager=manager).count() for manager in managers]
    assert per_manager == [THREADS // 2, THREADS // 2]


@pytest.mark.django_db(transaction=True)
@override_settings(INTAKE_RATE="1000/m")
def test_one_key_with_different_bodies_at_once_opens_one_deal_and_refuses_the_rest(
    postgres_only, manager, api_key
):
    _key, secret = api_key

    responses = at_once(
        lambda http, index: http.post(
            "/api/v1/leads",
            data=json.dumps({"name": "Anna", "email": "anna@example.com", "message": f"{index}"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_IDEMPOTENCY_KEY="same-key",
        )
    )

    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [422] * (THREADS - 1)
    assert Deal.objects.count() == 1
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {
        "idempotency_key_reused"
    }
