"""The client signs the contract and its appendix in one act: one record covering both
revisions' hashes, a certificate that shows both, and a page that says what is left."""

import json

import pytest
from django.urls import reverse

from studiocrm.deals.models import CONTRACT_SIGNED
from studiocrm.documents import services
from studiocrm.documents.models import Acceptance, Document, Kind
from studiocrm.documents.rendering import render_document

pytestmark = pytest.mark.django_db


def _page(client, document):
    return client.get(reverse("documents_client:page", args=[document.link_token()]))


def _form(contract, appendix, **changes):
    data = {
        "fingerprint": render_document(contract).fingerprint,
        "together": f"{appendix.pk}:{render_document(appendix).fingerprint}",
        "name": "Ирина Петрова",
        "email": "irina@client.test",
        "consent": "on",
    }
    data.update(changes)
    return data


def _post(client, contract, data):
    page = _page(client, contract)
    assert page.status_code == 200
    return client.post(reverse("documents_client:accept", args=[contract.link_token()]), data)


def test_the_contract_page_offers_one_signature_for_the_contract_and_appendix(
    anonymous_client, sent_contract
):
    appendix = sent_contract.children.get(kind=Kind.APPENDIX)
    text = _page(anonymous_client, sent_contract).content.decode()
    assert f'name="together" value="{appendix.pk}:' in text
    assert "«Подписать договор и приложения»" in text  # the consent names the button
    assert ">Подписать договор и приложения</button>" in text
    assert text.count("ждёт подписи") == 2  # the contract and its appendix


def test_one_act_signs_both_with_one_record_of_both_hashes(
    anonymous_client, sent_contract, django_capture_on_commit_callbacks
):
    appendix = sent_contract.children.get(kind=Kind.APPENDIX)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(anonymous_client, sent_contract, _form(sent_contract, appendix))
    assert response.status_code == 302
    acceptances = list(Acceptance.objects.filter(document__in=[sent_contract, appendix]))
    assert len(acceptances) == 2
    assert len({acceptance.record_sha256 for acceptance in acceptances}) == 1
    record = json.loads(acceptances[0].record)
    assert [part["document"]["id"] for part in record["documents"]] == [
        sent_contract.pk,
        appendix.pk,
    ]
    assert {part["revision"]["fingerprint"] for part in record["documents"]} == {
        acceptance.revision_fingerprint for acceptance in acceptances
    }
    sent_contract.deal.refresh_from_db()
    assert sent_contract.deal.stage_id == CONTRACT_SIGNED
    appendix_acceptance = next(a for a in acceptances if a.document_id == appendix.pk)
    certificate = anonymous_client.get(
        reverse(
            "documents_client:certificate", args=[appendix.link_token(), appendix_acceptance.pk]
        )
    ).content.decode()
    assert sent_contract.title in certificate and appendix.title in certificate
    assert "✗" not in certificate
    text = _page(anonymous_client, appendix).content.decode()
    assert "ждёт подписи" not in text and text.count("подписан") >= 2


def test_a_changed_appendix_signs_nothing(anonymous_client, sent_contract):
    appendix = sent_contract.children.get(kind=Kind.APPENDIX)
    stale = _form(sent_contract, appendix, together=f"{appendix.pk}:{'0' * 64}")
    response = _post(anonymous_client, sent_contract, stale)
    assert response.status_code == 409
    assert not Acceptance.objects.filter(document__in=[sent_contract, appendix]).exists()


def test_another_deals_appendix_cannot_be_slipped_into_the_act(
    anonymous_client, sent_contract, manager, rub_list, django_capture_on_commit_callbacks
):
    from tests.documents.conftest import make_estimated_deal

    other_proposal = services.create_proposal(make_estimated_deal(manager, rub_list), actor=manager)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_document(other_proposal, actor=manager)
    data = _form(
        sent_contract,
        sent_contract.children.get(kind=Kind.APPENDIX),
        together=f"{other_proposal.pk}:{render_document(other_proposal).fingerprint}",
    )
    response = _post(anonymous_client, sent_contract, data)
    assert response.status_code == 409
    assert not Acceptance.objects.filter(
        document__deal=sent_contract.deal, document__kind__in=["contract", "appendix"]
    ).exists()
    assert Document.objects.get(pk=other_proposal.pk).status == "sent"
