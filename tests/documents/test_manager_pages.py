"""The manager's side: the deal panel, the document editor, templates (owners only)."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studiocrm.documents import services
from studiocrm.documents.models import Document, DocumentTemplate, Kind
from studiocrm.documents.panels import documents_panel
from studiocrm.notifications.models import Outbox
from tests.documents.conftest import accept


def _panel(user, deal):
    request = RequestFactory().get(deal.get_absolute_url())
    request.user = user
    return documents_panel(request, deal)


def test_the_panel_offers_the_proposal_once_the_estimate_is_saved(deal, manager):
    html = _panel(manager, deal)
    assert reverse("documents:create_proposal", args=[deal.pk]) in html


def test_the_panel_shows_status_views_and_acceptance(sent_proposal, manager):
    Document.objects.filter(pk=sent_proposal.pk).update(view_count=3)
    sent_proposal.refresh_from_db()
    from django.utils import timezone

    Document.objects.filter(pk=sent_proposal.pk).update(first_viewed_at=timezone.now())
    accept(sent_proposal)
    html = _panel(manager, sent_proposal.deal)
    assert "opened 3 times" in html
    assert "Ирина Петрова" in html
    assert "Договор № 1/" in html or "Contract No. 1/" in html


def test_the_panel_needs_a_bounded_number_of_queries(sent_proposal, manager):
    accept(sent_proposal)
    with CaptureQueriesContext(connection) as queries:
        _panel(manager, sent_proposal.deal)
    assert len(queries) <= 6


def test_the_deal_page_includes_the_panel(manager_client, deal):
    response = manager_client.get(deal.get_absolute_url())
    assert response.status_code == 200
    assert 'id="documents-panel"' in response.content.decode()


def test_one_click_creates_the_proposal(manager_client, deal):
    response = manager_client.post(reverse("documents:create_proposal", args=[deal.pk]))
    proposal = Document.objects.get(deal=deal, kind=Kind.PROPOSAL)
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()


def test_another_manager_cannot_create_or_send_and_nothing_changes(
    other_manager_client, deal, proposal
):
    assert (
        other_manager_client.post(reverse("documents:create_proposal", args=[deal.pk])).status_code
        == 403
    )
    assert (
        other_manager_client.post(reverse("documents:send", args=[proposal.pk])).status_code == 403
    )
    proposal.refresh_from_db()
    assert proposal.status == Document.Status.DRAFT
    assert not Outbox.objects.exists()


def test_anonymous_visitors_are_sent_to_login(anonymous_client, proposal):
    response = anonymous_client.get(reverse("documents:detail", args=[proposal.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_the_editor_shows_the_document_its_preview_and_placeholders(manager_client, proposal):
    response = manager_client.get(reverse("documents:detail", args=[proposal.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'sandbox=""' in content
    # The whole preview page sits inside one attribute, escaped.
    assert 'srcdoc="&lt;!doctype html&gt;&lt;html lang=&quot;ru&quot;&gt;' in content
    assert "totals.total_in_words" in content
    assert "payment_schedule[]" in content


def test_saving_an_edit_updates_the_draft(manager_client, proposal):
    response = manager_client.post(
        reverse("documents:detail", args=[proposal.pk]),
        {
            "title": "КП для Ромашки",
            "source": "<h1>{{ client.name }}</h1>",
            "schedule": "100; Всё сразу; 3",
        },
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.title == "КП для Ромашки"
    assert proposal.payment_schedule == [{"label": "Всё сразу", "percent": "100", "due_days": 3}]


def test_a_broken_template_is_not_saved_and_the_error_names_the_line(manager_client, proposal):
    before = proposal.source
    response = manager_client.post(
        reverse("documents:detail", args=[proposal.pk]),
        {
            "title": "x",
            "source": "<p>ok</p>\n{{ ''.__class__.__mro__ }}",
            "schedule": "100; Всё; 3",
        },
    )
    assert response.status_code == 200
    assert "Line 2" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.source == before


def test_the_live_preview_reports_injection_clearly(manager_client, proposal):
    response = manager_client.post(
        reverse("documents:preview", args=[proposal.pk]),
        {"source": "{% for i in range(10**9) %}x{% endfor %}", "schedule": "100; a; 1"},
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "template-problem" in content and "range()" in content


def test_a_schedule_that_does_not_add_up_is_shown_next_to_the_field(manager_client, proposal):
    response = manager_client.post(
        reverse("documents:detail", args=[proposal.pk]),
        {"title": "x", "source": proposal.source, "schedule": "50; Аванс; 3\n30; Остаток; 5"},
    )
    assert "не 100" in response.content.decode() or "not 100" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.payment_schedule != [{"label": "Аванс"}]


def test_send_from_the_editor_emails_the_client(manager_client, proposal):
    response = manager_client.post(reverse("documents:send", args=[proposal.pk]))
    assert response.status_code == 302
    assert Outbox.objects.filter(to="irina@client.test").count() == 1


def test_templates_are_for_owners_only(manager_client, owner_client):
    assert manager_client.get(reverse("documents:template_list")).status_code == 403
    response = owner_client.get(reverse("documents:template_list"))
    assert response.status_code == 200
    assert DocumentTemplate.objects.count() == 8


def test_an_owner_edits_a_template_with_a_live_preview_on_the_sample_deal(owner_client, owner):
    owner_client.get(reverse("documents:template_list"))
    template = DocumentTemplate.objects.get(kind=Kind.PROPOSAL, language="ru")
    preview = owner_client.post(
        reverse("documents:template_preview", args=[template.pk]),
        {"source": "<p>{{ client.name }}: {{ totals.total|words }}</p>"},
    )
    assert "Ремонт Плюс" in preview.content.decode()
    saved = owner_client.post(
        reverse("documents:template_edit", args=[template.pk]),
        {"name": "Моё КП", "source": "<p>{{ client.name }}</p>", "schedule": "100; Всё; 3"},
    )
    assert saved.status_code == 302
    template.refresh_from_db()
    assert template.name == "Моё КП"


@pytest.mark.parametrize(
    "source",
    ["{{ config.items() }}", "{{ ''.__class__ }}", "{% for i in range(10**9) %}{% endfor %}"],
)
def test_a_template_that_breaks_the_sandbox_is_refused(owner_client, source):
    owner_client.get(reverse("documents:template_list"))
    template = DocumentTemplate.objects.get(kind=Kind.CONTRACT, language="ru")
    before = template.source
    response = owner_client.post(
        reverse("documents:template_edit", args=[template.pk]),
        {"name": "x", "source": source, "schedule": "100; Всё; 3"},
    )
    assert response.status_code == 200
    assert "Line 1" in response.content.decode()
    template.refresh_from_db()
    assert template.source == before


def test_resetting_a_template_brings_back_the_shipped_text(owner_client, owner):
    owner_client.get(reverse("documents:template_list"))
    template = DocumentTemplate.objects.get(kind=Kind.ACT, language="en")
    services.update_template(
        template, actor=owner, name="x", source="<p>mine</p>", schedule=template.payment_schedule
    )
    owner_client.post(reverse("documents:template_reset", args=[template.pk]))
    template.refresh_from_db()
    assert "Acceptance Act" in template.source


def test_a_certificate_page_for_the_manager(manager_client, sent_proposal):
    acceptance = accept(sent_proposal)
    response = manager_client.get(
        reverse("documents:certificate", args=[sent_proposal.pk, acceptance.pk])
    )
    assert response.status_code == 200
    assert acceptance.revision.fingerprint in response.content.decode()


def test_an_act_needs_a_signed_contract(manager_client, sent_proposal, manager):
    response = manager_client.post(reverse("documents:create_act", args=[sent_proposal.deal.pk]))
    assert response.status_code == 302
    assert not Document.objects.filter(kind=Kind.ACT).exists()
    accept(sent_proposal)
    contract = Document.objects.get(kind=Kind.CONTRACT)
    services.send_document(contract, actor=manager)
    accept(contract)
    manager_client.post(reverse("documents:create_act", args=[sent_proposal.deal.pk]))
    act = Document.objects.get(kind=Kind.ACT)
    assert act.parent == contract
    assert act.title.endswith(f"{contract.display_number}-1")


def test_sending_never_redirects_to_another_site(manager_client, proposal):
    response = manager_client.post(
        reverse("documents:send", args=[proposal.pk]), {"next": "https://evil.example/phish"}
    )
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()


def test_sending_returns_to_the_page_it_came_from_on_this_site(manager_client, proposal):
    back = reverse("deals:detail", args=[proposal.deal_id])
    response = manager_client.post(reverse("documents:send", args=[proposal.pk]), {"next": back})
    assert response["Location"] == back
