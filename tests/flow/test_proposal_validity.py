"""A proposal is valid until a date (the studio's default, or the manager's): the client sees
it in the studio's time zone, is reminded before it ends, cannot accept after it (and may ask
for a new one), and the manager is told once — by the periodic job or by the refused click,
whichever comes first. Sending it again renews it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from studiocrm.deals import services as deal_services
from studiocrm.deals.models import LOST, PROPOSAL_SENT, Event, Task
from studiocrm.documents import services as document_services
from studiocrm.documents.models import Acceptance
from studiocrm.documents.rendering import render_document
from studiocrm.flow.models import Notification, Timer
from studiocrm.notifications.models import Outbox
from tests.flow.conftest import MONDAY, MOSCOW, STUDIO, accept, rule_letters

pytestmark = pytest.mark.django_db

# Sent on Monday 1 March 2027: valid for the studio's 14 days, to Monday 15 March inclusive.
LAST_DAY = date(2027, 3, 15)


@pytest.fixture
def offered(clock, request, django_capture_on_commit_callbacks):
    return request.getfixturevalue("sent_proposal")


def page_url(proposal, name="page"):
    return reverse(f"documents_client:{name}", args=[proposal.link_token()])


def browser_with_form(proposal):
    """The client's browser after loading the page: it holds the CSRF cookie the accept and
    renew forms need."""
    browser = HttpClient(enforce_csrf_checks=True)
    page = browser.get(page_url(proposal))
    return browser, browser.cookies["csrftoken"].value, page


def accept_form(proposal, csrf):
    return {
        "name": "Ирина Петрова",
        "email": "irina@client.test",
        "consent": "on",
        "fingerprint": render_document(proposal).fingerprint,
        "csrfmiddlewaretoken": csrf,
    }


def expired_events(proposal):
    return Event.objects.filter(name="proposal.expired", object_id=str(proposal.pk))


def test_a_sent_proposal_is_valid_for_the_studios_days_and_the_client_sees_the_date(offered):
    assert offered.valid_until == LAST_DAY
    sent = Event.objects.get(name="document.sent", object_id=str(offered.pk))
    assert sent.payload["valid_until"] == "2027-03-15"
    page = HttpClient().get(page_url(offered)).content.decode()
    assert "Действует до 15 марта 2027 г. включительно" in page


def test_the_date_is_the_studios_day_not_utcs(clock, request, django_capture_on_commit_callbacks):
    """At 01:30 in Moscow it is still the previous day in UTC: the studio's day counts."""
    clock.move_to(datetime(2027, 3, 2, 1, 30, tzinfo=MOSCOW))
    proposal = request.getfixturevalue("sent_proposal")
    assert proposal.valid_until == date(2027, 3, 16)


def test_the_manager_chooses_another_date_when_sending(
    clock, proposal, manager_client, django_capture_on_commit_callbacks
):
    page = manager_client.get(proposal.get_absolute_url()).content.decode()
    assert 'name="valid_until" value="2027-03-15"' in page  # the studio's default, editable
    response = manager_client.post(
        reverse("documents:send", args=[proposal.pk]), {"valid_until": "2027-03-31"}
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.valid_until == date(2027, 3, 31)


def test_a_validity_in_the_past_is_refused(clock, proposal, manager):
    with pytest.raises(document_services.DocumentError):
        document_services.send_document(proposal, actor=manager, valid_until=date(2027, 2, 28))
    proposal.refresh_from_db()
    assert proposal.status == "draft" and proposal.valid_until is None


def test_the_client_is_reminded_two_business_days_before_the_last_day(offered, clock):
    clock.run_jobs_at(datetime(2027, 3, 10, 18, 0, tzinfo=MOSCOW))
    assert rule_letters("proposal-expiring") == []
    clock.run_jobs_at(datetime(2027, 3, 11, 9, 1, tzinfo=MOSCOW))  # Thursday: 2 business days
    [letter] = rule_letters("proposal-expiring")
    assert letter.subject == f"{STUDIO}: предложение действует до 15 марта 2027 г."
    assert document_services.client_url(offered) in letter.body


def test_no_validity_reminder_once_accepted(offered, clock):
    clock.move_to(MONDAY + timedelta(days=1))
    accept(offered)
    clock.run_jobs_at(datetime(2027, 3, 20, 12, 0, tzinfo=MOSCOW))
    assert rule_letters("proposal-expiring") == []
    assert Timer.objects.get(rule__code="proposal-expiring").status == "skipped"


def test_after_the_last_day_the_page_offers_a_new_proposal_instead_of_accepting(offered, clock):
    clock.move_to(datetime(2027, 3, 15, 23, 59, tzinfo=MOSCOW))
    assert "accept-button" in HttpClient().get(page_url(offered)).content.decode()
    clock.move_to(datetime(2027, 3, 16, 0, 1, tzinfo=MOSCOW))
    page = HttpClient().get(page_url(offered)).content.decode()
    assert "accept-button" not in page
    assert "Срок действия предложения истёк" in page and "renew-button" in page


def test_an_accept_posted_after_expiry_is_refused_and_the_manager_is_told_once(offered, clock):
    browser, csrf, _page = browser_with_form(offered)  # the page was opened in time
    clock.move_to(datetime(2027, 3, 17, 10, 0, tzinfo=MOSCOW))
    first = browser.post(page_url(offered, "accept"), accept_form(offered, csrf))
    again = browser.post(page_url(offered, "accept"), accept_form(offered, csrf))  # double submit
    assert first.status_code == again.status_code == 409
    assert "действовало до 15 марта 2027 г." in first.content.decode()
    assert not Acceptance.objects.exists()
    offered.deal.refresh_from_db()
    assert offered.deal.stage.code == PROPOSAL_SENT
    assert expired_events(offered).count() == 1
    [mail] = Outbox.objects.filter(dedupe_key__startswith=f"proposal-expired:{offered.pk}:")
    assert mail.to == offered.deal.manager.email
    assert "15 марта 2027" in mail.body or "March 15, 2027" in mail.body
    assert Notification.objects.filter(user=offered.deal.manager, event__name="proposal.expired")


def test_the_periodic_job_notices_an_expiry_once(offered, clock):
    clock.move_to(datetime(2027, 3, 15, 20, 0, tzinfo=MOSCOW))
    assert document_services.expire_proposals() == 0
    clock.move_to(datetime(2027, 3, 16, 9, 0, tzinfo=MOSCOW))
    assert document_services.expire_proposals() == 1
    assert document_services.expire_proposals() == 0
    assert expired_events(offered).count() == 1
    offered.refresh_from_db()
    assert offered.expired_at is not None


def test_no_follow_up_for_an_expired_proposal(clock, proposal, manager):
    document_services.send_document(proposal, actor=manager, valid_until=date(2027, 3, 3))
    clock.run_jobs_at(datetime(2027, 3, 4, 10, 1, tzinfo=MOSCOW))  # 3 business days, expired
    assert rule_letters("proposal-followup-3") == []


def test_the_client_asks_for_a_new_proposal_once_however_often_they_press(offered, clock):
    clock.move_to(datetime(2027, 3, 17, 10, 0, tzinfo=MOSCOW))
    browser, csrf, _page = browser_with_form(offered)
    for _press in range(3):
        response = browser.post(page_url(offered, "renew"), {"csrfmiddlewaretoken": csrf})
        assert response.status_code == 302
    questions = Event.objects.filter(name="document.question", object_id=str(offered.pk))
    assert questions.count() == 1 and questions.get().payload["renewal"] is True
    assert Task.objects.filter(deal=offered.deal, title__contains="вопрос").count() == 1
    done = browser.get(response["Location"]).content.decode()
    assert "пришлём новое предложение" in done


def test_renewing_a_proposal_that_is_still_valid_is_refused(offered):
    browser, csrf, _page = browser_with_form(offered)
    response = browser.post(page_url(offered, "renew"), {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 409
    assert not Event.objects.filter(name="document.question").exists()


def test_renew_needs_the_pages_form_and_the_right_link(offered, clock):
    clock.move_to(datetime(2027, 3, 17, 10, 0, tzinfo=MOSCOW))
    forged = HttpClient(enforce_csrf_checks=True).post(page_url(offered, "renew"))
    assert forged.status_code == 403
    wrong = HttpClient().post(reverse("documents_client:renew", args=["x" * 43]))
    assert wrong.status_code == 404
    assert not Event.objects.filter(name="document.question").exists()


def test_sending_again_renews_the_proposal_and_the_client_can_accept(offered, clock, manager):
    clock.move_to(datetime(2027, 3, 17, 10, 0, tzinfo=MOSCOW))
    assert document_services.expire_proposals() == 1
    document_services.send_document(offered, actor=manager)
    offered.refresh_from_db()
    assert offered.valid_until == date(2027, 3, 31) and offered.expired_at is None
    letters = Outbox.objects.filter(dedupe_key__startswith=f"document-sent:{offered.pk}:")
    assert letters.count() == 2  # the first offer and the renewed one
    accept(offered)
    assert Acceptance.objects.filter(document=offered).count() == 1


def test_the_job_leaves_the_proposals_of_closed_deals_alone(offered, clock, manager):
    deal_services.move_deal(offered.deal, LOST, actor=manager, lost_reason="Выбрали другую студию")
    clock.move_to(datetime(2027, 3, 20, 10, 0, tzinfo=MOSCOW))
    assert document_services.expire_proposals() == 0
    assert not expired_events(offered).exists()
