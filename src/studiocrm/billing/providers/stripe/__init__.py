"""Stripe Checkout through the official SDK.

The client pays on a Checkout Session page; Stripe signs each webhook with the endpoint's
signing secret (``Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256(secret, "<t>.<raw body>")>``),
which we verify on the raw body before parsing it. We then re-fetch the session (with its
payment intent) to learn the truth; the webhook's own copy of the session is never trusted.

``settings.STRIPE_API_BASE`` points the SDK elsewhere for tests and local stand-ins only.
"""

from __future__ import annotations

import json
import re
from typing import Any

import stripe
from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from studiocrm.billing.models import Invoice, Payment
from studiocrm.billing.providers.base import (
    PaymentProvider,
    ProviderError,
    ProviderPayment,
    Redirect,
    SettingField,
    WebhookEvent,
    WebhookRejected,
    from_minor_units,
    to_minor_units,
)

# Seconds a signed webhook stays acceptable (Stripe's own default): an older timestamp is
# a replay of a captured request.
SIGNATURE_TOLERANCE = 300
NETWORK_TIMEOUT = 15
# Events that can change a session's payment state; everything else is acknowledged only.
PAYMENT_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}
# A completed session whose payment intent is back to one of these has failed.
FAILED_INTENT_STATES = {"requires_payment_method", "canceled"}


class StripeProvider(PaymentProvider):
    code = "stripe"
    name = _("Card (Stripe)")
    settings_fields = (
        SettingField(
            "secret_key", _("Secret API key"), secret=True, help_text=_("Starts with sk_.")
        ),
        SettingField(
            "webhook_secret",
            _("Webhook signing secret"),
            secret=True,
            help_text=_("Starts with whsec_; shown when you add the webhook endpoint."),
        ),
        SettingField(
            "currencies",
            _("Currencies"),
            option=True,
            required=False,
            help_text=_(
                "ISO codes of the currencies your Stripe account charges in, e.g. EUR USD. "
                "Empty: every currency except roubles (list RUB only if your account "
                "supports it)."
            ),
        ),
    )

    def is_configured(self) -> bool:
        return bool(self.account.secret_key and self.account.webhook_secret)

    def currencies(self) -> set[str] | None:
        """The currencies the owner listed, or None for Stripe's own list less roubles."""
        listed = set(self.option("currencies").split())
        return listed or None

    def clean_setting(self, name: str, value: str) -> str:
        if name != "currencies":
            return value
        codes = [code.upper() for code in re.split(r"[\s,;]+", value or "") if code]
        wrong = [code for code in codes if not re.fullmatch(r"[A-Z]{3}", code)]
        if wrong:
            raise forms.ValidationError(
                _("Not a currency code: %(codes)s. Use ISO codes such as EUR USD.")
                % {"codes": ", ".join(wrong)}
            )
        return " ".join(dict.fromkeys(codes))

    def accepts(self, invoice: Invoice) -> bool:
        """Roubles only when the owner lists RUB: Stripe does not serve Russian businesses
        and most Stripe accounts cannot charge in roubles, so by default a rouble invoice
        never shows a card button that would fail at Stripe."""
        listed = self.currencies()
        if listed is not None:
            return invoice.currency in listed
        return invoice.currency != "RUB"

    def _client(self) -> stripe.StripeClient:
        if not self.account.secret_key:
            raise ProviderError("Stripe secret key is not set", permanent=True)
        return stripe.StripeClient(
            self.account.secret_key,
            base_addresses={"api": settings.STRIPE_API_BASE},
            http_client=stripe.RequestsClient(timeout=NETWORK_TIMEOUT),
            max_network_retries=1,
        )

    def start_payment(self, payment: Payment, *, return_url: str) -> Redirect:
        invoice = payment.invoice
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": payment.reference,
            "success_url": return_url,
            "cancel_url": return_url,
            "metadata": {"payment_reference": payment.reference, "invoice": invoice.number},
            "payment_intent_data": {"metadata": {"payment_reference": payment.reference}},
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": payment.currency.lower(),
                        "unit_amount": to_minor_units(payment.amount, payment.currency),
                        "product_data": {"name": str(invoice.purpose or invoice.number)[:250]},
                    },
                }
            ],
        }
        try:
            session = self._client().v1.checkout.sessions.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": f"checkout-{payment.reference}"},
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        if not session.url:
            raise ProviderError("Stripe returned a session without a URL", permanent=False)
        payment.provider_payment_id = session.id
        return Redirect(url=session.url)

    def verify_webhook(self, request: HttpRequest) -> WebhookEvent:
        secret = self.account.webhook_secret
        if not secret:
            raise WebhookRejected("the webhook signing secret is not configured", status=503)
        payload = request.body
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                request.headers.get("Stripe-Signature"),
                secret,
                tolerance=SIGNATURE_TOLERANCE,
            )
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
            raise WebhookRejected(f"signature: {error}") from error
        try:
            event = json.loads(payload)
            event_id = str(event["id"])
            event_type = str(event["type"])
            data_object = event.get("data", {}).get("object", {})
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise WebhookRejected(f"malformed event: {error}") from error
        session_id = None
        if event_type in PAYMENT_EVENTS and isinstance(data_object, dict):
            session_id = data_object.get("id")
            if not isinstance(session_id, str) or not session_id:
                raise WebhookRejected("payment event without a session id")
        return WebhookEvent(
            event_id=event_id, event_type=event_type, provider_payment_id=session_id
        )

    def fetch_payment(self, provider_payment_id: str) -> ProviderPayment:
        try:
            session = self._client().v1.checkout.sessions.retrieve(
                provider_payment_id, params={"expand": ["payment_intent"]}
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        currency = str(session.currency or "").upper()
        amount = from_minor_units(int(session.amount_total or 0), currency)
        intent = session.payment_intent
        intent_status = getattr(intent, "status", None) if intent is not None else None
        if session.payment_status in ("paid", "no_payment_required"):
            status = ProviderPayment.SUCCEEDED
        elif session.status == "expired":
            status = ProviderPayment.CANCELED
        elif session.status == "complete" and intent_status in FAILED_INTENT_STATES:
            status = ProviderPayment.FAILED
        else:
            status = ProviderPayment.PENDING
        metadata = session.metadata.to_dict() if session.metadata else {}
        reference = str(metadata.get("payment_reference") or session.client_reference_id or "")
        return ProviderPayment(
            provider_payment_id=session.id,
            status=status,
            amount=amount,
            currency=currency,
            reference=reference,
            detail=f"session {session.status}, payment {session.payment_status}",
        )


def _provider_error(error: stripe.StripeError) -> ProviderError:
    status = error.http_status
    temporary = isinstance(
        error, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError
    ) or (status is not None and status >= 500)
    return ProviderError(f"Stripe: {error.user_message or error}", permanent=not temporary)
