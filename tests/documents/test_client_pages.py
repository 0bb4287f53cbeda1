"""The client's pages: reached only by the document's token, headers of DESIGN.md §5,
server-side totals, accept by POST with CSRF, stale versions refused with a clear message."""

import hashlib

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from studiocrm.deals.models import PROPOSAL_ACCEPTED
from studiocrm.documents import services
from studiocrm.documents.models import Acceptance, Document, Kind, Revision
from studiocrm.documents.rendering import render_document
from tests.documents.conftest import accept, make_estimated_deal


def url(name, token, *args):
    return reverse(f"documents_client:{name}", args=[token, *args])


@pytest.fixture
def token(sent_proposal):
    return sent_proposal.link_token()


def _extra(deal):
    from studiocrm.estimates.models import EstimateLine

    line = EstimateLine.objects.get(option__estimate__deal=deal, name="Поддержка 3 месяца")
    return str(line.option_id), str(line.pk)


def test_the_page_shows_the_document_with_the_privacy_headers(anonymous_client, token):
    response = anonymous_client.get(url("page", token))
    assert response.status_code == 200
    assert "Коммерческое предложение" in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_a_visit_counts_once_however_often_the_client_reloads(
    anonymous_client, token, sent_proposal
):
    from studiocrm.notifications.models import Outbox

    for _reload in range(3):
        anonymous_client.get(url("page", token))
    anonymous_client.get(url("page", token), REMOTE_ADDR="198.51.100.4")  # another reader
    sent_proposal.refresh_from_db()
    assert sent_proposal.view_count == 2
    assert sent_proposal.first_viewed_at is not None and sent_proposal.last_viewed_at is not None
    assert Outbox.objects.filter(dedupe_key=f"document-viewed:{sent_proposal.pk}").count() == 1


def test_the_studio_opening_the_client_link_is_not_a_client_view(
    manager_client, token, sent_proposal
):
    from studiocrm.notifications.models import Outbox

    assert manager_client.get(url("page", token)).status_code == 200
    sent_proposal.refresh_from_db()
    assert sent_proposal.view_count == 0 and sent_proposal.first_viewed_at is None
    assert not Outbox.objects.filter(dedupe_key__startswith="document-viewed:").exists()


def test_wrong_revoked_and_unsent_links_are_the_same_404(
    anonymous_client, token, sent_proposal, manager
):
    wrong = anonymous_client.get(url("page", "x" * 43))
    services.revoke_link(sent_proposal, actor=manager)
    revoked = anonymous_client.get(url("page", token))
    assert wrong.status_code == revoked.status_code == 404
    assert wrong.content == revoked.content


def test_an_unsent_document_is_not_shown(anonymous_client, proposal):
    response = anonymous_client.get(url("page", proposal.link_token()))
    assert response.status_code == 404


def test_the_picker_totals_are_computed_on_the_server(anonymous_client, token, sent_proposal):
    option, extra = _extra(sent_proposal.deal)
    base = anonymous_client.get(url("choose", token), {"option": option})
    more = anonymous_client.get(
        url("choose", token), {"option": option, "optional": [extra], "total": "1"}
    )
    assert base.status_code == more.status_code == 200
    total = sent_proposal.deal.estimates.get().total
    assert f"{int(total):,}".replace(",", "\u00a0") in base.content.decode()
    assert f"{int(total) + 30000:,}".replace(",", "\u00a0") in more.content.decode()


def test_accepting_by_get_is_not_possible(anonymous_client, token):
    assert anonymous_client.get(url("accept", token)).status_code == 405
    assert not Acceptance.objects.exists()


def test_accepting_without_the_csrf_token_is_refused(token, sent_proposal):
    browser = HttpClient(enforce_csrf_checks=True)
    response = browser.post(
        url("accept", token),
        {
            "name": "Ирина Петрова",
            "email": "irina@client.test",
            "consent": "on",
            "fingerprint": render_document(sent_proposal).fingerprint,
        },
    )
    assert response.status_code == 403
    assert not Acceptance.objects.exists()


def _csrf_browser(token):
    """A browser that enforces CSRF and has loaded the page (so it holds the cookie)."""
    browser = HttpClient(enforce_csrf_checks=True)
    browser.get(url("page", token))
    return browser, browser.cookies["csrftoken"].value


def test_the_pages_own_form_is_accepted_although_no_referrer_makes_the_origin_null(
    token, sent_proposal
):
    browser, csrf = _csrf_browser(token)
    response = browser.post(
        url("accept", token),
        _accept_form(sent_proposal, csrfmiddlewaretoken=csrf),
        HTTP_ORIGIN="null",
        secure=True,
    )
    assert response.status_code == 302
    assert Acceptance.objects.count() == 1


def test_a_post_from_another_site_is_refused_even_with_a_token(token, sent_proposal):
    browser, csrf = _csrf_browser(token)
    response = browser.post(
        url("accept", token),
        _accept_form(sent_proposal, csrfmiddlewaretoken=csrf),
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert not Acceptance.objects.exists()


def _accept_form(document, **extra):
    return {
        "name": "Ирина Петрова",
        "email": "irina@client.test",
        "consent": "on",
        "fingerprint": render_document(document).fingerprint,
        **extra,
    }


def test_accepting_on_the_page_moves_the_deal_and_makes_the_contract(
    anonymous_client, token, sent_proposal
):
    option, extra = _extra(sent_proposal.deal)
    response = anonymous_client.post(
        url("accept", token), _accept_form(sent_proposal, option=option, optional=[extra])
    )
    assert response.status_code == 302
    sent_proposal.deal.refresh_from_db()
    assert sent_proposal.deal.stage_id == PROPOSAL_ACCEPTED
    assert Acceptance.objects.get().selection["optional"] == [extra]
    assert Document.objects.filter(kind=Kind.CONTRACT).exists()
    page = anonymous_client.get(response["Location"])
    content = page.content.decode()
    assert "Вы приняли версию 1" in content
    assert url("certificate", token, Acceptance.objects.get().pk) in content


def test_accepting_without_consent_is_refused_with_the_reason(
    anonymous_client, token, sent_proposal
):
    form = _accept_form(sent_proposal)
    del form["consent"]
    response = anonymous_client.post(url("accept", token), form)
    assert response.status_code == 422
    assert "Отметьте галочку" in response.content.decode()
    assert not Acceptance.objects.exists()


def test_accepting_a_stale_version_says_so_and_shows_the_new_one(
    anonymous_client, token, sent_proposal, manager
):
    form = _accept_form(sent_proposal)
    services.update_document(
        sent_proposal,
        actor=manager,
        title=sent_proposal.title,
        source=sent_proposal.source + "<p>Новое условие</p>",
        schedule=sent_proposal.payment_schedule,
    )
    response = anonymous_client.post(url("accept", token), form)
    content = response.content.decode()
    assert response.status_code == 409
    assert "Документ изменился" in content
    assert "Новое условие" in content
    assert not Acceptance.objects.exists()


def test_client_typed_text_is_escaped_on_the_certificate(anonymous_client, token, sent_proposal):
    anonymous_client.post(
        url("accept", token), _accept_form(sent_proposal, name="<img src=x onerror=alert(1)>")
    )
    acceptance = Acceptance.objects.get()
    content = anonymous_client.get(url("certificate", token, acceptance.pk)).content.decode()
    assert "<img src=x" not in content
    assert "&lt;img src=x onerror=alert(1)&gt;" in content


def test_a_brief_answer_with_html_is_escaped_in_the_proposal(
    sent_proposal, anonymous_client, token
):
    from django.utils import timezone

    from studiocrm.briefs.models import Brief

    brief = Brief(
        deal=sent_proposal.deal,
        title="Бриф",
        language="ru",
        questions=[
            {"key": "goal", "section": "", "label": "Цель", "type": "long_text", "options": []}
        ],
        answers={"goal": "<script>alert('brief')</script>"},
        status=Brief.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    brief.issue_token()
    brief.save()
    content = anonymous_client.get(url("page", token)).content.decode()
    assert "<script>alert('brief')</script>" not in content
    assert "&lt;script&gt;alert(&#39;brief&#39;)&lt;/script&gt;" in content


def test_the_certificate_recomputes_the_hashes_and_shows_tampering(
    anonymous_client, token, sent_proposal
):
    acceptance = accept(sent_proposal)
    good = anonymous_client.get(url("certificate", token, acceptance.pk)).content.decode()
    assert "совпадают с записью" in good
    # Someone edits the stored HTML behind the application's back (a raw UPDATE).
    Revision.objects.filter(pk=acceptance.revision_id).update(html="<p>forged</p>")
    bad = anonymous_client.get(url("certificate", token, acceptance.pk)).content.decode()
    assert "не совпадает с записью" in bad


def test_the_signed_bytes_hash_to_the_recorded_values(anonymous_client, token, sent_proposal):
    acceptance = accept(sent_proposal)
    revision = acceptance.revision
    html = anonymous_client.get(url("revision_raw", token, revision.number, "html"))
    context = anonymous_client.get(url("revision_raw", token, revision.number, "context"))
    html_sha = hashlib.sha256(html.content).hexdigest()
    context_sha = hashlib.sha256(context.content).hexdigest()
    assert html_sha == revision.html_sha256 and context_sha == revision.context_sha256
    fingerprint = hashlib.sha256(f"{html_sha}\n{context_sha}\n".encode()).hexdigest()
    assert fingerprint == acceptance.revision_fingerprint
    assert hashlib.sha256(acceptance.record.encode()).hexdigest() == acceptance.record_sha256


def test_one_token_never_opens_another_documents_files(
    anonymous_client, manager, rub_list, sent_proposal, token
):
    other_deal = make_estimated_deal(manager, rub_list)
    other = services.create_proposal(other_deal, actor=manager)
    services.send_document(other, actor=manager)
    acceptance = accept(other)
    # The revision numbers exist only on the other document; the acceptance is the other's.
    assert anonymous_client.get(url("certificate", token, acceptance.pk)).status_code == 404
    assert anonymous_client.get(url("certificate_pdf", token, acceptance.pk)).status_code == 404
    # Version 1 of this document exists but is not accepted: the client sees only the page.
    assert anonymous_client.get(url("revision", token, 1)).status_code == 404
    assert anonymous_client.get(url("revision_raw", token, 1, "html")).status_code == 404
    assert anonymous_client.get(url("revision_pdf", token, 1)).status_code == 404


def test_a_question_from_the_page_reaches_the_manager(anonymous_client, token, sent_proposal):
    from studiocrm.notifications.models import Outbox

    response = anonymous_client.post(
        url("ask", token), {"name": "Ирина", "email": "irina@client.test", "text": "Когда старт?"}
    )
    assert response.status_code == 302
    assert Outbox.objects.filter(dedupe_key__startswith="document-question:").count() == 1


def test_questions_are_rate_limited(anonymous_client, token):
    from studiocrm.notifications.models import Outbox

    statuses = [
        anonymous_client.post(
            url("ask", token), {"email": "a@b.test", "text": f"Вопрос {n}"}
        ).status_code
        for n in range(12)
    ]
    assert statuses[:10] == [302] * 10
    assert statuses[10:] == [429, 429]
    assert Outbox.objects.filter(dedupe_key__startswith="document-question:").count() == 10


def test_a_reload_shows_an_estimate_change_made_after_the_first_view(
    anonymous_client, token, sent_proposal, manager
):
    from studiocrm.estimates import services as estimate_services
    from studiocrm.estimates.models import EstimateLine

    assert "Поддержка 3 месяца" in anonymous_client.get(url("page", token)).content.decode()
    line = EstimateLine.objects.get(
        option__estimate__deal=sent_proposal.deal, name="Поддержка 3 месяца"
    )
    estimate_services.update_line(line, actor=manager, name="Сопровождение полгода")
    content = anonymous_client.get(url("page", token)).content.decode()
    assert "Сопровождение полгода" in content and "Поддержка 3 месяца" not in content


def test_a_reload_shows_a_renamed_contact(anonymous_client, token, sent_proposal):
    anonymous_client.get(url("page", token))
    contact = sent_proposal.deal.contact
    contact.name = "Ирина Сидорова"
    contact.save()
    assert "Ирина Сидорова" in anonymous_client.get(url("page", token)).content.decode()


def test_a_cached_page_still_carries_a_working_csrf_token(token, sent_proposal):
    import re

    from studiocrm.documents.client_views import CSRF_PLACEHOLDER

    browser = HttpClient(enforce_csrf_checks=True)
    browser.get(url("page", token))  # renders and caches the page
    second = browser.get(url("page", token)).content.decode()  # served from the cache
    assert CSRF_PLACEHOLDER not in second
    form_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', second).group(1)
    response = browser.post(
        url("accept", token), _accept_form(sent_proposal, csrfmiddlewaretoken=form_token)
    )
    assert response.status_code == 302
    assert Acceptance.objects.count() == 1


def test_the_acceptance_banner_gives_the_time_in_the_studios_time_zone(
    anonymous_client, token, sent_proposal, studio
):
    from zoneinfo import ZoneInfo

    studio.time_zone = "Asia/Vladivostok"
    studio.save()
    acceptance = accept(sent_proposal)
    content = anonymous_client.get(url("page", token)).content.decode()
    local = acceptance.accepted_at.astimezone(ZoneInfo("Asia/Vladivostok"))
    assert local.strftime("%H:%M") + " " + local.tzname() in content
    assert "UTC" not in content


def test_the_page_key_follows_the_deals_latest_acceptance(sent_proposal, manager):
    """The cached page offers the name and email the client signed with last on this deal;
    its key carries that acceptance, read in the stamps' one query."""
    from studiocrm.documents.presenting import page_stamps

    assert page_stamps(sent_proposal).deal_acceptance_id is None
    acceptance = accept(sent_proposal, name="Пётр Иванов", email="petr@client.test")
    contract = services.contract_of(sent_proposal.deal)
    assert page_stamps(contract).deal_acceptance_id == acceptance.pk
    assert page_stamps(sent_proposal).deal_acceptance_id == acceptance.pk
