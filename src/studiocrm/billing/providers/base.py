"""The payment provider interface (DESIGN.md §8).

A provider is a small class constructed with the studio's ``ProviderAccount``. The billing
services call its three hooks; a provider never touches invoices or payments in the database
itself, so every state change stays in ``billing.payments`` under its row locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.http import HttpRequest
from django.utils.functional import Promise

if TYPE_CHECKING:
    from studiocrm.billing.models import Invoice, Payment, ProviderAccount


class ProviderError(Exception):
    """The provider could not be reached or refused a call. ``permanent`` says whether
    trying again later can help (a network timeout can; a rejected API key cannot)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class WebhookRejected(Exception):
    """A webhook we will not act on: forged, stale, from a foreign address, or malformed.
    The view answers ``status`` and records nothing."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Redirect:
    """Send the client to the provider's payment page."""

    url: str


@dataclass(frozen=True)
class Instructions:
    """Show the client how to pay (bank details, QR); nothing to redirect to."""

    text: str
    qr_payload: str | None = None


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook, reduced to what we need: the provider's event id (stored under a
    unique constraint), its type, and the provider's id of the payment it is about (None for
    events that are not about a payment)."""

    event_id: str
    event_type: str
    provider_payment_id: str | None


@dataclass(frozen=True)
class ProviderPayment:
    """A payment's true state as the provider reports it when we fetch it."""

    provider_payment_id: str
    status: str  # one of PENDING, SUCCEEDED, FAILED, CANCELED below
    amount: Decimal
    currency: str
    reference: str  # our Payment.reference, echoed back from the metadata we sent
    detail: str = ""

    PENDING: ClassVar[str] = "pending"
    SUCCEEDED: ClassVar[str] = "succeeded"
    FAILED: ClassVar[str] = "failed"
    CANCELED: ClassVar[str] = "canceled"


@dataclass(frozen=True)
class SettingField:
    """A field of the provider's settings form: ``name`` is a ``ProviderAccount`` field, or,
    with ``option``, a key of ``ProviderAccount.options`` (provider-specific settings).
    ``choices`` makes it a select; a field that is not ``required`` may stay empty when the
    method is enabled."""

    name: str
    label: str | Promise
    secret: bool = False
    help_text: str | Promise = ""
    option: bool = False
    required: bool = True
    choices: tuple[tuple[str, str | Promise], ...] = ()
    default: str = ""


@dataclass
class PaymentProvider:
    """Base class of every provider. Subclasses set ``code``, ``name`` and the hooks."""

    account: ProviderAccount
    code: ClassVar[str] = ""
    name: ClassVar[str | Promise] = ""
    # False for methods where a person confirms the money (bank transfer): no webhooks, no
    # re-fetch, no reconciliation; a manager records the payment.
    online: ClassVar[bool] = True
    settings_fields: ClassVar[tuple[SettingField, ...]] = ()
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    def is_configured(self) -> bool:
        """True when the account has what the hooks need. Called to decide whether to offer
        this method to the client; must not call the network."""
        return True

    def option(self, name: str) -> str:
        """A provider-specific setting from the account, else the field's default."""
        value = (self.account.options or {}).get(name)
        if value not in (None, ""):
            return str(value)
        field_ = next((item for item in self.settings_fields if item.name == name), None)
        return field_.default if field_ is not None else ""

    def clean_setting(self, name: str, value: str) -> str:
        """Normalise a settings-form value before it is stored; raise
        ``django.forms.ValidationError`` for one the provider cannot use."""
        return value

    def accepts(self, invoice: Invoice) -> bool:
        """True when this method can take the invoice's money (its currency, and whatever
        else the provider needs from the invoice). Called to decide whether to offer the
        method and again before starting a payment; must not call the network."""
        return True

    def start_payment(self, payment: Payment, *, return_url: str) -> Redirect | Instructions:
        """Called when the client presses "Pay", after the pending ``payment`` row is saved
        (its ``reference`` is final, its ``provider_payment_id`` is still empty). Create the
        payment at the provider for exactly ``payment.amount`` in ``payment.currency``, put
        ``payment.reference`` in the provider's metadata, and return where to send the
        client. Set ``payment.provider_payment_id`` on the object (the caller saves it); do
        not save anything, send no email, and raise ProviderError on failure."""
        raise ProviderError(f"{self.code} does not take online payments", permanent=True)

    def verify_webhook(self, request: HttpRequest) -> WebhookEvent:
        """Called for every POST to this provider's webhook URL, before anything is stored.
        Authenticate the request (signature on the raw body, or source address) and parse
        it; raise WebhookRejected if it is not authentic or not parseable. Must not trust
        amounts or statuses in the body (the caller re-fetches) and must not write anything."""
        raise WebhookRejected(f"{self.code} does not send webhooks", status=404)

    def fetch_payment(self, provider_payment_id: str) -> ProviderPayment:
        """Called after a verified webhook and by reconciliation: ask the provider for the
        payment's current, true state. Read-only at the provider and here; raise
        ProviderError (permanent=False for timeouts and 5xx) when it cannot be fetched."""
        raise ProviderError(f"{self.code} cannot be queried", permanent=True)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Amount in the currency's smallest unit (cents), as card providers expect it."""
    exponent = MINOR_UNIT_EXPONENTS.get(currency.upper(), 2)
    return int((amount * (10**exponent)).to_integral_value())


def from_minor_units(value: int, currency: str) -> Decimal:
    exponent = MINOR_UNIT_EXPONENTS.get(currency.upper(), 2)
    return (Decimal(value) / (10**exponent)).quantize(Decimal("0.01"))


# ISO 4217 currencies without cents, and with three decimal places (Stripe's lists).
MINOR_UNIT_EXPONENTS = {
    **dict.fromkeys(
        ["BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"]
        + ["PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"],
        0,
    ),
    **dict.fromkeys(["BHD", "JOD", "KWD", "OMR", "TND"], 3),
}
