"""Bank transfer: the client pays by the invoice's bank details or its QR code, and a manager
records the payment when it shows up on the studio's account. No webhooks, nothing to fetch."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from studiocrm.billing.models import Payment
from studiocrm.billing.providers.base import Instructions, PaymentProvider
from studiocrm.billing.rendering import qr_payload_for
from studiocrm.core.models import Studio
from studiocrm.core.money import format_money


class BankTransferProvider(PaymentProvider):
    code = "bank_transfer"
    name = gettext_lazy("Bank transfer")
    online = False

    def is_configured(self) -> bool:
        studio = Studio.load()
        return bool(studio.bank_account and studio.bank_name)

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
