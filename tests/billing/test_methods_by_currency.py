"""A payment method is offered only for the currencies it takes: YooKassa roubles only,
Stripe every currency but roubles unless the owner lists RUB, bank transfer where the
studio's details fit the currency's payment-code standard."""

from __future__ import annotations

import pytest

from studiocrm.billing.forms import ProviderAccountForm
from studiocrm.billing.models import Payment, ProviderAccount
from studiocrm.billing.providers import get_provider
from tests.billing.conftest import STRIPE_KEY, STRIPE_WEBHOOK_SECRET, euro_deal, make_invoice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def all_methods(db, yookassa_account, bank_transfer_account):
    stripe = ProviderAccount.objects.update_or_create(
        provider="stripe",
        defaults={
            "enabled": True,
            "secret_key": STRIPE_KEY,
            "webhook_secret": STRIPE_WEBHOOK_SECRET,
        },
    )[0]
    return stripe


def page(client, invoice) -> str:
    return client.get(f"/c/pay/{invoice.link_token()}/").content.decode()


def euro_invoice(deal, manager, studio, *, iban: bool):
    deal = euro_deal(deal, studio, iban="DE89370400440532013000" if iban else "")
    return make_invoice(deal, manager, "250.00")


def test_a_rouble_invoice_offers_yookassa_and_bank_transfer_but_not_stripe(
    invoice, anonymous_client, all_methods
):
    html = page(anonymous_client, invoice)

    assert "/pay/yookassa/" in html and "/pay/bank_transfer/" in html
    assert "/pay/stripe/" not in html


def test_stripe_takes_roubles_once_the_owner_lists_rub(invoice, anonymous_client, all_methods):
    all_methods.options = {"currencies": "RUB EUR"}
    all_methods.save()

    assert "/pay/stripe/" in page(anonymous_client, invoice)


def test_a_euro_invoice_offers_stripe_not_yookassa_nor_a_transfer_to_a_rouble_account(
    deal, manager, studio, anonymous_client, all_methods
):
    invoice = euro_invoice(deal, manager, studio, iban=False)

    html = page(anonymous_client, invoice)

    assert "/pay/stripe/" in html
    assert "/pay/yookassa/" not in html and "/pay/bank_transfer/" not in html


def test_a_euro_invoice_offers_bank_transfer_when_the_studio_has_an_iban(
    deal, manager, studio, anonymous_client, all_methods
):
    invoice = euro_invoice(deal, manager, studio, iban=True)

    assert "/pay/bank_transfer/" in page(anonymous_client, invoice)


def test_pressing_pay_with_a_method_that_does_not_take_the_currency_is_refused(
    deal, manager, studio, anonymous_client, all_methods
):
    invoice = euro_invoice(deal, manager, studio, iban=False)

    response = anonymous_client.post(f"/c/pay/{invoice.link_token()}/pay/yookassa/")

    assert response.status_code == 409
    assert "недоступен для этого счёта" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_clear_message_when_only_bank_transfer_fits(invoice, anonymous_client, all_methods):
    ProviderAccount.objects.filter(provider="yookassa").update(enabled=False)

    html = page(anonymous_client, invoice)

    assert "Онлайн-оплата недоступна для счетов в RUB" in html


def test_a_clear_message_when_no_method_fits(
    deal, manager, studio, anonymous_client, bank_transfer_account
):
    deal.currency = "USD"
    deal.save()
    studio.bank_code = ""
    studio.save()
    invoice = make_invoice(deal, manager, "10.00")

    html = page(anonymous_client, invoice)

    assert 'class="pay-buttons"' not in html
    assert "Для счетов в USD на этой странице нет способа оплаты" in html
    assert "hello@studio.test" in html


def test_the_owner_lists_stripe_currencies_as_iso_codes(all_methods):
    provider = get_provider("stripe")
    form = ProviderAccountForm(
        {"stripe-enabled": "on", "stripe-currencies": "eur, usd  EUR"}, provider=provider
    )
    assert form.is_valid(), form.errors
    assert form.changes()["options"] == {"currencies": "EUR USD"}

    wrong = ProviderAccountForm(
        {"stripe-enabled": "on", "stripe-currencies": "euro"}, provider=provider
    )
    assert not wrong.is_valid()
    assert "EURO" in str(wrong.errors["currencies"])
