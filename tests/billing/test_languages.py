"""Invoices speak the client's language: the signed contract's for schedule invoices, the
deal's documents' for manual ones, the studio's when the deal has no documents; the
manager's notifications stay in the manager's language."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from studiocrm.billing import services
from studiocrm.billing.models import Invoice
from studiocrm.billing.rendering import render_document
from studiocrm.billing.services import LineInput
from studiocrm.documents import services as document_services
from studiocrm.documents.models import Document, Kind
from studiocrm.notifications.models import Outbox
from tests.documents.conftest import (  # noqa: F401 - fixtures used by name
    accept,
    clean_cache,
    make_english_deal,
    migration_data,
    private_root,
)

pytestmark = pytest.mark.django_db


def _sign_everything(deal, manager):
    proposal = document_services.create_proposal(deal, actor=manager)
    document_services.send_document(proposal, actor=manager)
    with translation.override(proposal.language):
        accept(proposal, name="Jane Doe", email="jane@acme.test")
        contract = Document.objects.get(deal=deal, kind=Kind.CONTRACT)
        document_services.send_document(contract, actor=manager)
        accept(contract, name="Jane Doe", email="jane@acme.test")
        accept(
            Document.objects.get(deal=deal, kind=Kind.APPENDIX),
            name="Jane Doe",
            email="jane@acme.test",
        )
    deal.refresh_from_db()
    return deal


@pytest.fixture
def english_signed(studio, manager, migration_data):  # noqa: F811
    return _sign_everything(make_english_deal(manager), manager)


def test_a_schedule_invoice_follows_the_english_contract_not_the_russian_studio(
    english_signed, manager
):
    invoice, _token = services.create_from_schedule(english_signed, 1, actor=manager)

    assert invoice.language == "en"
    html = render_document(invoice)
    assert f'Invoice <span class="nowrap">{invoice.number}</span>' in html
    assert "Bill to:" in html
    email = Outbox.objects.get(dedupe_key__startswith=f"billing-invoice-link:{invoice.pk}:")
    assert email.subject == f"Test Studio: invoice No. {invoice.number}"


def test_a_manual_invoice_defaults_to_the_language_of_the_deals_documents(
    studio,
    manager,
    migration_data,  # noqa: F811
):
    deal = make_english_deal(manager)
    document_services.create_proposal(deal, actor=manager)

    invoice = services.create_invoice(
        deal,
        lines=[LineInput(description="Design", quantity=Decimal(1), unit_price=Decimal("500"))],
        actor=manager,
    )

    assert invoice.language == "en"


def test_a_manual_invoice_without_documents_uses_the_studios_language(deal, manager):
    invoice = services.create_invoice(
        deal,
        lines=[LineInput(description="Дизайн", quantity=Decimal(1), unit_price=Decimal("500"))],
        actor=manager,
    )

    assert invoice.language == "ru"


def test_the_new_invoice_form_offers_the_deals_documents_language(
    studio,
    manager,
    manager_client,
    migration_data,  # noqa: F811
):
    deal = make_english_deal(manager)
    document_services.create_proposal(deal, actor=manager)

    response = manager_client.get(f"/billing/deal/{deal.pk}/new/")

    assert response.status_code == 200
    assert response.context["form"].initial["language"] == "en"


def test_the_manager_reads_about_an_english_invoice_in_the_studios_language(
    english_signed, manager
):
    invoice, _token = services.create_from_schedule(english_signed, 1, actor=manager)

    with translation.override("en"):  # the client's page is in English
        services.record_first_view(Invoice.objects.get(pk=invoice.pk))

    email = Outbox.objects.get(dedupe_key=f"billing-invoice-viewed:{invoice.pk}")
    assert email.subject.startswith("Клиент открыл счёт")
