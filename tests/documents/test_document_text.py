"""What documents say: only the current estimate's scope, the button the page shows, the
signatory in the genitive, and the client's details saved from the contract page."""

import pytest
from django.urls import reverse

from studiocrm.core.models import AuditLog
from studiocrm.documents import rendering, services
from studiocrm.documents.models import Document, Kind
from studiocrm.estimates import services as estimate_services
from studiocrm.estimates.models import Estimate, EstimateLine
from tests.documents.conftest import accept

pytestmark = pytest.mark.django_db


def test_a_line_removed_from_the_estimate_leaves_the_proposal_text(proposal, manager):
    estimate = Estimate.objects.get(deal=proposal.deal)
    lines = list(EstimateLine.objects.filter(option__estimate=estimate, is_optional=False))
    names = [item.name for item in lines]
    line = next(item for item in lines if names.count(item.name) == 1)
    assert line.name in rendering.render_document(proposal).html
    line.delete()
    estimate_services.save_estimate(estimate, actor=manager)
    html = rendering.render_document(proposal).html
    assert line.name not in html


def test_the_brief_wish_list_is_not_repeated_as_the_scope(proposal):
    source = proposal.source
    context = rendering.build_context(proposal)
    context["brief"] = {
        "submitted": True,
        "date": None,
        "answers": [],
        "by_key": {"goal": "Продажи", "pages": "Блог, Форум", "features": "Чат-бот"},
    }
    html = rendering.render(source, context).html
    assert "Продажи" in html
    assert "Форум" not in html and "Чат-бот" not in html


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("kind", [Kind.PROPOSAL, Kind.CONTRACT, Kind.APPENDIX, Kind.ACT])
def test_the_consent_names_the_button_the_page_shows(kind, language):
    button = services.accept_button_label(kind, language)
    assert f"«{button}»" in services.consent_text(language, kind) or (
        f"“{button}”" in services.consent_text(language, kind)
    )
    assert ("Подписать" if kind != Kind.PROPOSAL else "Принять предложение") == (
        services.accept_button_label(kind, "ru")
    )


def test_the_contract_page_prefills_the_signer_and_shows_the_button_in_the_consent(
    anonymous_client, sent_contract
):
    contract = sent_contract
    page = anonymous_client.get(reverse("documents_client:page", args=[contract.link_token()]))
    text = page.content.decode()
    assert 'value="Ирина Петрова"' in text and 'value="irina@client.test"' in text
    assert "«Подписать договор и приложения»" in text and "«Принять»" not in text


DETAILS = {
    "legal_name": "ООО «Ромашка»",
    "tax_id": "7707083893",
    "kpp": "773601001",
    "registration_number": "1027700132195",
    "address": "Москва, ул. Садовая, д. 5",
    "signatory_name": "Петрова Ирина Сергеевна",
    "signatory_position": "Генеральный директор",
    "signatory_basis": "Устав",
    "bank_name": "ПАО Сбербанк",
    "bank_code": "044525225",
    "bank_account": "40702819900000000001",
    "correspondent_account": "30101810400000000225",
}


def test_the_client_gives_details_and_the_contract_reads_in_the_genitive(
    anonymous_client, sent_contract
):
    contract = sent_contract
    assert "в лице" not in rendering.render_document(contract).html
    url = reverse("documents_client:details", args=[contract.link_token()])
    response = anonymous_client.post(url, DETAILS)
    assert response.status_code == 302
    html = rendering.render_document(Document.objects.get(pk=contract.pk)).html
    assert (
        "в лице Генерального директора Петровой Ирины Сергеевны, действующего на основании Устава"
        in html
    )
    assert "ИНН 7707083893, КПП 773601001" in html
    entry = AuditLog.objects.get(verb="client.details_from_client")
    assert entry.actor is None and entry.data["document"] == contract.pk


def test_wrong_check_digits_are_refused_and_nothing_is_saved(anonymous_client, sent_contract):
    contract = sent_contract
    url = reverse("documents_client:details", args=[contract.link_token()])
    response = anonymous_client.post(url, {**DETAILS, "bank_account": "40702810900000000001"})
    assert response.status_code == 422
    contract.deal.client.refresh_from_db()
    assert contract.deal.client.tax_id == ""
    assert not AuditLog.objects.filter(verb="client.details_from_client").exists()


def test_the_manager_is_warned_before_sending_a_contract_without_details(
    manager_client, sent_proposal, manager
):
    accept(sent_proposal)
    contract = services.contract_of(sent_proposal.deal)
    url = reverse("documents:send", args=[contract.pk])
    response = manager_client.post(url)
    contract.refresh_from_db()
    assert response.status_code == 302 and contract.status == "draft"
    page = manager_client.get(contract.get_absolute_url())
    assert b"missing-details" in page.content
    manager_client.post(url, {"without_details": "1"})
    contract.refresh_from_db()
    assert contract.status == "sent"
