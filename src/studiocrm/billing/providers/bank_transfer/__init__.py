"""Bank transfer: the client pays by the invoice's bank details or its QR code, and a manager
records the payment when it shows up on the studio's account. No webhooks, nothing to fetch."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from studiocrm.billing import qr
from studiocrm.billing.models import BANK_TRANSFER, Invoice, Payment
from studiocrm.billing.providers.base import Instructions, PaymentProvider
from studiocrm.billing.rendering import qr_payload_for
from studiocrm.core.models import Studio
from studiocrm.core.money import format_money


class BankTransferProvider(PaymentProvider):
    code = BANK_TRANSFER
    name = gettext_lazy("Bank transfer")
    online = False

    def is_configured(self) -> bool:
        studio = Studio.load()
        return bool(studio.bank_account and studio.bank_name)

    def accepts(self, invoice: Invoice) -> bool:
        """Roubles need Russian details a GOST R 56042 code can carry (20-digit account,
        BIC, correspondent account), euro an IBAN for the EPC code: a rouble invoice is
        not paid to an IBAN, nor a euro one to a Russian account. Other currencies have no
        payment-code standard: the details alone do, with a bank code (SWIFT) to send to."""
        from studiocrm.billing.rendering import bank_details

        details = bank_details(invoice)
        if invoice.currency in qr.QR_CURRENCIES:
            return qr.payload_for(details, Decimal("1.00"), invoice.currency, "-") is not None
        return bool(details.account.strip() and details.bank_name.strip() and details.bank_code)

    def start_payment(self, payment: Payment, *, return_url: str) -> Instructions:
        invoice = payment.invoice
        return Instructions(
            text=_(
                "Transfer %(amount)s by the bank details on the invoice, with "
                "“%(purpose)s” as the payment purpose. We will confirm the payment when it "
                "reaches our account."
            )
            % {
                "amount": format_money(payment.amount, payment.currency),
                "purpose": invoice.purpose or invoice.number,
            },
            qr_payload=qr_payload_for(invoice, payment.amount),
        )
