"""YooKassa (ЮKassa) through the official SDK.

YooKassa notifications carry no signature. We accept one only from YooKassa's published
networks (``settings.YOOKASSA_WEBHOOK_NETWORKS``) and then trust nothing in it but the
payment id: the payment's status, amount and metadata come from re-fetching it over the API
with the shop's credentials.

The SDK keeps its configuration in class attributes, so every call sets it under a lock; the
SDK's HTTP session gets a timeout (it has none by default) and its errors become
ProviderError. ``settings.YOOKASSA_API_URL`` points it at a stand-in in tests only.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from requests.adapters import HTTPAdapter
from urllib3 import Retry
from yookassa import Configuration
from yookassa import Payment as SdkPayment
from yookassa.client import ApiClient
from yookassa.domain.common import RequestObject

from studiocrm.billing.models import Invoice, Payment
from studiocrm.billing.providers.base import (
    PaymentProvider,
    ProviderError,
    ProviderPayment,
    Redirect,
    SettingField,
    WebhookEvent,
    WebhookRejected,
)
from studiocrm.billing.providers.yookassa import receipt
from studiocrm.core.http import client_ip

NETWORK_TIMEOUT = 15
PAYMENT_EVENTS = {"payment.succeeded", "payment.canceled", "payment.waiting_for_capture"}
_STATUS = {
    "pending": ProviderPayment.PENDING,
    # We create payments with capture=true; a held payment is still not money received.
    "waiting_for_capture": ProviderPayment.PENDING,
    "succeeded": ProviderPayment.SUCCEEDED,
    "canceled": ProviderPayment.CANCELED,
}
_configuration_lock = threading.Lock()


class _TimeoutSession(requests.Session):
    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", NETWORK_TIMEOUT)
        return super().request(*args, **kwargs)


class _ApiClient(ApiClient):
    """The SDK's client with a request timeout and errors we can classify."""

    def get_session(self) -> requests.Session:
        session = _TimeoutSession()
        # As the SDK does: YooKassa answers 202 while it is still processing a POST.
        retries = Retry(
            total=self.max_attempts,
            backoff_factor=self.timeout / 1000,
            allowed_methods=["POST"],
            status_forcelist=[202],
        )
        session.mount("https://", HTTPAdapter(max_retries=retries))
        return session

    def request(
        self,
        method: str = "",
        path: str = "",
        query_params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> dict[str, Any]:
        if isinstance(body, RequestObject):
            body.validate()
            body = dict(body)
        try:
            response = self.execute(
                body, method, path, query_params, self.prepare_request_headers(headers)
            )
        except requests.HTTPError as error:
            # The SDK's session raises for an error status before we see the response.
            raise _status_error(error.response) from error
        except requests.RequestException as error:
            raise ProviderError(f"YooKassa unreachable: {error}", permanent=False) from error
        if response.status_code != 200:
            raise _status_error(response)
        try:
            return response.json()
        except ValueError as error:
            raise ProviderError("YooKassa answered with invalid JSON", permanent=False) from error


def _status_error(response: requests.Response | None) -> ProviderError:
    """A refusal (4xx but 429: unknown payment, bad credentials) is permanent; the rest may
    pass."""
    if response is None:
        return ProviderError("YooKassa answered an error without a response", permanent=False)
    permanent = 400 <= response.status_code < 500 and response.status_code != 429
    return ProviderError(
        f"YooKassa answered {response.status_code}: {response.text[:300]}", permanent=permanent
    )


class _SdkPayment(SdkPayment):
    def __init__(self) -> None:
        self.client = _ApiClient()


class YooKassaProvider(PaymentProvider):
    code = "yookassa"
    name = _("Card, SBP and wallets (YooKassa)")
    settings_fields = (
        SettingField("account_id", _("Shop ID (shopId)")),
        SettingField("secret_key", _("Secret key"), secret=True),
        SettingField(
            "receipts",
            _("54-FZ receipts"),
            option=True,
            choices=(
                ("on", pgettext_lazy("54-FZ receipts", "Send")),
                ("off", pgettext_lazy("54-FZ receipts", "Do not send")),
            ),
            default="on",
            help_text=_(
                "YooKassa passes the receipt to your online cash register or to "
                "“Receipts from YooKassa”; the client gets it by email or SMS. Turn off only "
                "if the shop issues receipts another way."
            ),
        ),
        SettingField(
            "tax_system_code",
            _("Tax system"),
            option=True,
            required=False,
            choices=receipt.TAX_SYSTEMS,
            help_text=_("Needed when the cash register is set up for several tax systems."),
        ),
        SettingField(
            "vat_code",
            _("VAT code of receipt lines"),
            option=True,
            choices=receipt.VAT_CHOICES,
            default="auto",
            help_text=_(
                "Automatic: no VAT → 1; with VAT, the invoice's rate, or for a payment before "
                "the work is handed over the calculated rate (20/120, 22/122)."
            ),
        ),
        SettingField(
            "payment_subject",
            _("Subject of payment"),
            option=True,
            choices=receipt.PAYMENT_SUBJECTS,
            default="service",
        ),
        SettingField(
            "payment_mode",
            _("Payment method sign"),
            option=True,
            choices=receipt.PAYMENT_MODES,
            default="full_prepayment",
            help_text=_(
                "Invoices are usually paid before the work is handed over: full prepayment."
            ),
        ),
    )

    def is_configured(self) -> bool:
        return bool(self.account.account_id and self.account.secret_key)

    def receipt_options(self) -> dict[str, str] | None:
        """What the 54-FZ receipt is made with, or None when receipts are off."""
        if self.option("receipts") == "off":
            return None
        names = ("tax_system_code", "vat_code", "payment_subject", "payment_mode")
        return {name: self.option(name) for name in names}

    def accepts(self, invoice: Invoice) -> bool:
        """Roubles only (what a YooKassa shop takes by default), and with receipts on only
        invoices a valid receipt can be made for (a client email or phone, a VAT rate with
        a code): YooKassa refuses a payment whose receipt it cannot send."""
        if invoice.currency != "RUB":
            return False
        options = self.receipt_options()
        if options is None:
            return True
        try:
            receipt.customer(invoice)
            receipt.vat_code(
                invoice, setting=options["vat_code"], payment_mode=options["payment_mode"]
            )
        except receipt.ReceiptUnavailable:
            return False
        return True

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if not self.is_configured():
            raise ProviderError("YooKassa shop ID or secret key is not set", permanent=True)
        with _configuration_lock:
            Configuration.configure(
                self.account.account_id,
                self.account.secret_key,
                api_url=settings.YOOKASSA_API_URL,
            )
            try:
                return getattr(_SdkPayment, method)(*args, **kwargs)
            except (ValueError, TypeError, AttributeError) as error:
                # The SDK validates responses into its own objects; a response it cannot
                # read is the provider's (or a proxy's) fault and may pass.
                raise ProviderError(f"YooKassa: {error}", permanent=False) from error

    def start_payment(self, payment: Payment, *, return_url: str) -> Redirect:
        invoice = payment.invoice
        params = {
            "amount": {"value": f"{payment.amount:.2f}", "currency": payment.currency},
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": return_url},
            "description": str(invoice.purpose or invoice.number)[:128],
            "metadata": {"payment_reference": payment.reference, "invoice": invoice.number},
        }
        options = self.receipt_options()
        if options is not None:
            try:
                params["receipt"] = receipt.build_receipt(payment, options)
            except receipt.ReceiptUnavailable as error:
                raise ProviderError(f"54-FZ receipt: {error}", permanent=True) from error
        response = self._call("create", params, payment.reference)
        confirmation = getattr(response, "confirmation", None)
        url = getattr(confirmation, "confirmation_url", None)
        if not response.id or not url:
            raise ProviderError("YooKassa returned a payment without a URL", permanent=False)
        payment.provider_payment_id = response.id
        return Redirect(url=url)

    def verify_webhook(self, request: HttpRequest) -> WebhookEvent:
        if not _from_yookassa(client_ip(request)):
            raise WebhookRejected("source address is not a YooKassa network", status=403)
        try:
            body = json.loads(request.body)
            event_type = str(body["event"])
            data_object = body["object"]
            object_id = str(data_object["id"])
        except (ValueError, KeyError, TypeError) as error:
            raise WebhookRejected(f"malformed notification: {error}") from error
        if body.get("type") != "notification" or not object_id:
            raise WebhookRejected("not a notification")
        # YooKassa sends each event once per object (and repeats it until we answer 200),
        # so the pair is the event's identity.
        return WebhookEvent(
            event_id=f"{event_type}:{object_id}",
            event_type=event_type,
            provider_payment_id=object_id if event_type in PAYMENT_EVENTS else None,
        )

    def fetch_payment(self, provider_payment_id: str) -> ProviderPayment:
        response = self._call("find_one", provider_payment_id)
        try:
            amount = Decimal(str(response.amount.value)).quantize(Decimal("0.01"))
            currency = str(response.amount.currency).upper()
        except (AttributeError, InvalidOperation) as error:
            raise ProviderError("YooKassa payment without an amount", permanent=False) from error
        metadata = response.metadata or {}
        detail = ""
        cancellation = getattr(response, "cancellation_details", None)
        if cancellation is not None:
            detail = f"{cancellation.party}: {cancellation.reason}"
        return ProviderPayment(
            provider_payment_id=str(response.id),
            status=_STATUS.get(str(response.status), ProviderPayment.PENDING),
            amount=amount,
            currency=currency,
            reference=str(metadata.get("payment_reference", "")),
            detail=detail,
        )


def _from_yookassa(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in settings.YOOKASSA_WEBHOOK_NETWORKS:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False
