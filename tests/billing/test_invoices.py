"""Invoices: drafts, issuing (numbers, frozen details, deal stage, client email), void,
credit notes, one click from the payment schedule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from studiocrm.billing import services
from studiocrm.billing.models import Invoice, InvoiceDeletionForbidden
from studiocrm.billing.payments import record_manual_payment
from studiocrm.billing.schedule import Step
from studiocrm.billing.services import BillingError, LineInput, NotAllowed, ScheduleStepInvoiced
from studiocrm.billing.workdays import add_working_days
from studiocrm.core.models import AuditLog, Studio
from studiocrm.deals.models import IN_WORK, INVOICED, PAID, PROPOSAL_SENT, StageChange
from studiocrm.notifications.models import Outbox
from tests.billing.conftest import make_invoice

pytestmark = pytest.mark.django_db


def _lines(*amounts: str) -> list[LineInput]:
    return [
        LineInput(description=f"Item {n}", quantity=Decimal(1), unit_price=Decimal(a))
        for n, a in enumerate(amounts, start=1)
    ]


def test_a_draft_has_no_number_and_totals_from_its_lines(deal, manager):
    invoice = services.create_invoice(deal, lines=_lines("100.10", "200.20"), actor=manager)
    assert invoice.status == Invoice.Status.DRAFT
    assert invoice.number == ""
    assert invoice.total == Decimal("300.30")
    assert invoice.currency == "RUB"


def test_issuing_numbers_the_invoice_in_its_series_and_year(deal, manager):
    first = make_invoice(deal, manager, "100")
    second = make_invoice(deal, manager, "200")
    year = first.issue_date.year
    assert (first.sequence_number, second.sequence_number) == (1, 2)
    assert first.number == f"{year}-0001"
    assert second.number == f"{year}-0002"


def test_issuing_freezes_the_sellers_details(deal, manager, studio):
    invoice = make_invoice(deal, manager, "100")
    studio.bank_account = "40702810000000000999"
    studio.save()
    invoice.refresh_from_db()
    assert invoice.seller["bank_account"] == "40702810900000000001"
    assert invoice.buyer["name"] == "ООО «Ромашка»"


def test_issuing_sets_the_due_date_in_working_days_as_the_contract_counts(
    deal, manager, monkeypatch
):
    # Wednesday 30 April 2025: 1 May is a holiday, 2 May a day off moved from 4 January,
    # then a weekend; three working days later is Wednesday 7 May, not Saturday 3 May.
    monkeypatch.setattr(services, "studio_today", lambda studio=None: date(2025, 4, 30))
    invoice = services.create_invoice(deal, lines=_lines("100"), actor=manager, due_days=3)

    services.issue_invoice(invoice, actor=manager)

    invoice.refresh_from_db()
    assert (invoice.issue_date, invoice.due_date) == (date(2025, 4, 30), date(2025, 5, 7))


def test_issuing_moves_the_deal_to_invoiced(deal, manager):
    make_invoice(deal, manager, "100")
    deal.refresh_from_db()
    assert deal.stage_id == INVOICED
    assert StageChange.objects.filter(deal=deal, to_stage_id=INVOICED).count() == 1


def test_issuing_does_not_move_a_deal_that_is_already_further(deal, manager):
    deal.stage_id = PAID
    deal.save()
    make_invoice(deal, manager, "100")
    deal.refresh_from_db()
    assert deal.stage_id == PAID


def test_issuing_moves_an_earlier_deal_forward_too(deal, manager):
    deal.stage_id = PROPOSAL_SENT
    deal.save()
    make_invoice(deal, manager, "100")
    deal.refresh_from_db()
    assert deal.stage_id == INVOICED


def test_issuing_emails_the_client_a_link_that_opens_the_invoice(deal, manager):
    invoice = make_invoice(deal, manager, "100")
    message = Outbox.objects.get(to="buyer@client.test")
    assert f"/c/pay/{invoice.client_token}/" in message.body
    assert Invoice.find_by_token(invoice.client_token) == invoice


def test_issuing_twice_is_refused_and_keeps_the_number(deal, manager):
    invoice = make_invoice(deal, manager, "100")
    with pytest.raises(BillingError):
        services.issue_invoice(invoice, actor=manager)
    invoice.refresh_from_db()
    assert invoice.sequence_number == 1


def test_a_zero_invoice_cannot_be_issued(deal, manager):
    invoice = services.create_invoice(deal, lines=_lines("0"), actor=manager)
    with pytest.raises(BillingError):
        services.issue_invoice(invoice, actor=manager)
    invoice.refresh_from_db()
    assert invoice.is_draft and invoice.number == ""


def test_another_manager_cannot_issue_and_nothing_changes(deal, manager, other_manager):
    invoice = services.create_invoice(deal, lines=_lines("100"), actor=manager)
    with pytest.raises(NotAllowed):
        services.issue_invoice(invoice, actor=other_manager)
    invoice.refresh_from_db()
    assert invoice.is_draft
    assert not Outbox.objects.exists()


def test_an_issued_invoice_is_never_deleted(invoice):
    with pytest.raises(InvoiceDeletionForbidden):
        invoice.delete()
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_deleting_a_draft_leaves_no_gap_in_the_numbers(deal, manager):
    draft = services.create_invoice(deal, lines=_lines("100"), actor=manager)
    services.delete_draft(draft, actor=manager)
    invoice = make_invoice(deal, manager, "100")
    assert invoice.sequence_number == 1


def test_an_issued_invoice_cannot_be_edited(invoice, manager):
    with pytest.raises(BillingError):
        services.update_draft(invoice, lines=_lines("1"), actor=manager)
    invoice.refresh_from_db()
    assert invoice.total == Decimal("1000.00")


def test_voiding_keeps_the_number_and_the_row(invoice, manager):
    services.void_invoice(invoice, actor=manager, reason="Wrong client")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.VOID
    assert invoice.number.endswith("-0001")
    assert AuditLog.objects.filter(verb="invoice.voided", object_id=str(invoice.pk)).exists()


def test_an_invoice_with_money_received_cannot_be_voided(invoice, manager):
    record_manual_payment(
        invoice, amount=Decimal("10"), received_on=invoice.issue_date, actor=manager
    )
    with pytest.raises(BillingError):
        services.void_invoice(invoice, actor=manager, reason="Oops")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PARTIALLY_PAID


def test_a_credit_note_has_its_own_series_and_reduces_what_is_due(invoice, manager):
    note = services.create_credit_note(
        invoice, amount=Decimal("300"), reason="Discount", actor=manager
    )
    invoice.refresh_from_db()
    assert note.number == f"CN-{note.issue_date.year}-0001"
    assert note.corrects == invoice
    assert invoice.credited_amount == Decimal("300.00")
    assert invoice.amount_due == Decimal("700.00")


def test_a_credit_note_cannot_exceed_what_is_left_to_credit(invoice, manager):
    services.create_credit_note(invoice, amount=Decimal("900"), reason="Discount", actor=manager)
    with pytest.raises(BillingError):
        services.create_credit_note(invoice, amount=Decimal("200"), reason="More", actor=manager)
    assert Invoice.objects.filter(kind=Invoice.Kind.CREDIT_NOTE).count() == 1


def test_crediting_below_what_was_paid_flags_the_difference_as_overpaid(invoice, manager):
    record_manual_payment(
        invoice, amount=Decimal("1000"), received_on=invoice.issue_date, actor=manager
    )
    services.create_credit_note(invoice, amount=Decimal("250"), reason="Scope cut", actor=manager)
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("750.00")
    assert invoice.overpaid_amount == Decimal("250.00")
    assert invoice.status == Invoice.Status.PAID


def test_vat_on_top_adds_tax_to_the_total(deal, manager, studio):
    studio.tax_mode = Studio.TaxMode.VAT_ON_TOP
    studio.vat_rate = Decimal("20")
    studio.save()
    invoice = services.create_invoice(deal, lines=_lines("1000"), actor=manager)
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (
        Decimal("1000.00"),
        Decimal("200.00"),
        Decimal("1200.00"),
    )


def test_vat_included_shows_the_tax_inside_the_total(deal, manager, studio):
    studio.tax_mode = Studio.TaxMode.VAT_INCLUDED
    studio.vat_rate = Decimal("20")
    studio.save()
    invoice = services.create_invoice(deal, lines=_lines("1200"), actor=manager)
    assert (invoice.tax_amount, invoice.total) == (Decimal("200.00"), Decimal("1200.00"))


SCHEDULE = [
    Step(
        number=1,
        label="Предоплата 50%",
        amount=Decimal("50000"),
        currency="RUB",
        percent=Decimal(50),
        due_days=3,
    ),
    Step(
        number=2,
        label="Окончательный расчёт 50%",
        amount=Decimal("50000"),
        currency="RUB",
        percent=Decimal(50),
        due_days=5,
    ),
]


def test_one_click_issues_the_invoice_for_a_schedule_step(deal, manager):
    invoice, token = services.create_from_schedule(deal, 1, actor=manager, steps=SCHEDULE)
    assert invoice.status == Invoice.Status.ISSUED
    assert invoice.total == Decimal("50000.00")
    assert invoice.schedule_step == 1
    assert invoice.due_date == add_working_days(invoice.issue_date, 3)  # the step's 3 days
    assert invoice.lines.get().description == "Предоплата 50%"
    assert Invoice.find_by_token(token) == invoice


def test_a_second_click_on_the_same_step_issues_nothing_more(deal, manager):
    services.create_from_schedule(deal, 1, actor=manager, steps=SCHEDULE)
    with pytest.raises(ScheduleStepInvoiced):
        services.create_from_schedule(deal, 1, actor=manager, steps=SCHEDULE)
    assert Invoice.objects.filter(deal=deal).count() == 1


def test_a_voided_step_invoice_can_be_issued_again(deal, manager):
    first, _token = services.create_from_schedule(deal, 1, actor=manager, steps=SCHEDULE)
    services.void_invoice(first, actor=manager, reason="Wrong amount")
    second, _token = services.create_from_schedule(deal, 1, actor=manager, steps=SCHEDULE)
    assert second.pk != first.pk
    assert second.sequence_number == 2


def test_paying_the_deposit_step_puts_the_deal_in_work(deal, manager, monkeypatch):
    monkeypatch.setattr("studiocrm.billing.payments.payment_schedule", lambda deal: SCHEDULE)
    invoice, _token = services.create_from_schedule(deal, 1, actor=manager, steps=SCHEDULE)
    record_manual_payment(
        invoice, amount=invoice.total, received_on=invoice.issue_date, actor=manager
    )
    deal.refresh_from_db()
    assert deal.stage_id == IN_WORK


def test_paying_every_step_moves_the_deal_to_paid(deal, manager, monkeypatch):
    monkeypatch.setattr("studiocrm.billing.payments.payment_schedule", lambda deal: SCHEDULE)
    for step in (1, 2):
        invoice, _token = services.create_from_schedule(deal, step, actor=manager, steps=SCHEDULE)
        record_manual_payment(
            invoice, amount=invoice.total, received_on=invoice.issue_date, actor=manager
        )
    deal.refresh_from_db()
    assert deal.stage_id == PAID


def test_a_step_invoice_never_adds_vat_on_top_of_the_agreed_amount(deal, manager, studio):
    studio.tax_mode = Studio.TaxMode.VAT_ON_TOP
    studio.vat_rate = Decimal("20")
    studio.save()
    steps = [Step(1, "Предоплата", Decimal("1200"), "RUB")]
    invoice, _token = services.create_from_schedule(deal, 1, actor=manager, steps=steps)
    assert (invoice.total, invoice.tax_amount) == (Decimal("1200.00"), Decimal("200.00"))
    assert invoice.tax_mode == Studio.TaxMode.VAT_INCLUDED
