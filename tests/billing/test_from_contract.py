"""From a contract the client really signed (documents app) to a paid deal: the schedule
billing reads, one-click invoices per step, and the deal moving to `paid` only when every
step is paid."""

from __future__ import annotations

import pytest

from studiocrm.billing import panels, payments, services
from studiocrm.billing.models import Invoice
from studiocrm.deals.models import IN_WORK, INVOICED, PAID, Stage
from studiocrm.documents import services as document_services
from studiocrm.documents.models import Document, Kind
from tests.documents.conftest import (  # noqa: F401 - fixtures used by name
    accept,
    clean_cache,
    deal,
    migration_data,
    private_root,
    proposal,
    rub_list,
    sent_proposal,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(request, manager):
    proposal_sent = request.getfixturevalue("sent_proposal")
    accept(proposal_sent)
    contract = Document.objects.get(deal=proposal_sent.deal, kind=Kind.CONTRACT)
    document_services.send_document(contract, actor=manager)
    accept(contract)
    accept(Document.objects.get(deal=proposal_sent.deal, kind=Kind.APPENDIX))
    signed_deal = proposal_sent.deal
    signed_deal.refresh_from_db()
    return signed_deal


def test_one_click_invoices_the_deposit_step_of_the_signed_contract(signed, manager):
    steps = document_services.payment_schedule(signed)

    invoice, _token = services.create_from_schedule(signed, 1, actor=manager)

    assert invoice.total == steps[0].amount
    assert invoice.lines.get().description == steps[0].label
    contract = document_services.signed_contract(signed)
    assert f"договор № {contract.display_number}" in invoice.purpose
    signed.refresh_from_db()
    assert signed.stage_id == INVOICED


def test_the_deposit_wins_the_deal_and_it_is_paid_only_when_every_step_is(signed, manager):
    """After the deposit the project is won and in work; paid once nothing more is owed.
    The deal counts as won from the deposit on."""
    won_at = []
    for number in (1, 2):
        invoice, _token = services.create_from_schedule(signed, number, actor=manager)
        payments.record_manual_payment(
            invoice, amount=invoice.total, received_on=invoice.issue_date, actor=manager
        )
        signed.refresh_from_db()
        assert signed.stage_id == (IN_WORK if number == 1 else PAID)
        assert signed.stage.kind == Stage.Kind.WON
        won_at.append(signed.closed_at)
    assert won_at[0] is not None and won_at[1] == won_at[0]


def test_a_partly_paid_deposit_leaves_the_deal_invoiced(signed, manager):
    invoice, _token = services.create_from_schedule(signed, 1, actor=manager)
    payments.record_manual_payment(
        invoice, amount=invoice.total / 2, received_on=invoice.issue_date, actor=manager
    )
    signed.refresh_from_db()
    assert signed.stage_id == INVOICED


def test_the_panel_offers_each_step_not_yet_invoiced(signed, manager, rf):
    services.create_from_schedule(signed, 1, actor=manager)
    request = rf.get("/")
    request.user = manager

    html = panels.billing_panel(request, signed)

    assert f"/billing/deal/{signed.pk}/schedule/2/" in html
    assert f"/billing/deal/{signed.pk}/schedule/1/" not in html
    assert Invoice.objects.get(deal=signed).number in html
