"""Invoices, their payments and refunds, provider accounts and the webhook events we have seen.

Money is Decimal with two places. An invoice's money fields (totals, paid, overpaid) are
derived from its lines, credit notes, payments and refunds by ``billing.services``; they are
stored so that lists and the deal page read them without arithmetic, and they are only ever
written under a row lock on the invoice.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from studiocrm.core.fields import EncryptedTextField
from studiocrm.core.models import Studio
from studiocrm.portal.links import ClientLink

ZERO = Decimal("0.00")
# The provider code of payments a manager confirms by hand (providers/bank_transfer).
BANK_TRANSFER = "bank_transfer"


class InvoiceDeletionForbidden(Exception):
    """An issued invoice or credit note is never deleted (corrections are credit notes)."""


def new_reference() -> str:
    """A public, unguessable reference for a payment (return URL, provider metadata)."""
    return secrets.token_hex(16)


class Invoice(ClientLink):
    """An invoice (or a credit note correcting one) for a deal.

    A draft has no number and may change or be deleted. Issuing takes the next number of the
    series for the year under a row lock, freezes the seller's and the buyer's details, and
    from then on the document never changes: corrections are credit notes, mistakes are voided.
    """

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        CREDIT_NOTE = "credit_note", _("Credit note")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Issued")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", pgettext_lazy("invoice status", "Paid")
        OVERDUE = "overdue", pgettext_lazy("invoice status", "Overdue")
        VOID = "void", _("Void")

    deal = models.ForeignKey(
        "deals.Deal", on_delete=models.PROTECT, related_name="invoices", verbose_name=_("deal")
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.INVOICE)
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("corrects invoice"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    series = models.CharField(max_length=16, default="INV")
    year = models.PositiveIntegerField(null=True, blank=True)
    sequence_number = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(_("number"), max_length=40, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    tax_mode = models.CharField(
        _("tax mode"),
        max_length=16,
        choices=Studio.TaxMode.choices,
        default=Studio.TaxMode.NO_VAT,
    )
    vat_rate = models.DecimalField(
        _("VAT rate, %"),
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    schedule_step = models.PositiveSmallIntegerField(null=True, blank=True)
    purpose = models.CharField(
        _("payment purpose"),
        max_length=200,
        blank=True,
        help_text=_("Printed on the invoice and in the payment QR code."),
    )
    notes = models.TextField(_("notes for the client"), blank=True)
    due_days = models.PositiveSmallIntegerField(
        _("days to pay"), default=5, validators=[MaxValueValidator(365)]
    )
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    tax_amount = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=ZERO)
    credited_amount = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    paid_amount = models.DecimalField(_("paid"), max_digits=14, decimal_places=2, default=ZERO)
    overpaid_amount = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    # Frozen at issue: the document keeps the details it was issued with.
    seller = models.JSONField(default=dict, blank=True)
    buyer = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invoice")
        constraints = [
            models.UniqueConstraint(
                fields=["series", "year", "sequence_number"], name="unique_invoice_number_in_series"
            ),
            models.UniqueConstraint(
                fields=["number"], condition=~Q(number=""), name="unique_invoice_number"
            ),
            # One live invoice per payment-schedule step: a double click issues one invoice.
            models.UniqueConstraint(
                fields=["deal", "schedule_step"],
                condition=Q(schedule_step__isnull=False, kind="invoice") & ~Q(status="void"),
                name="unique_live_invoice_per_schedule_step",
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0) & Q(overpaid_amount__gte=0),
                name="invoice_paid_amounts_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"]),
            models.Index(fields=["deal", "kind"]),
        ]

    def __str__(self) -> str:
        return self.number or str(_("Draft invoice #%(pk)s") % {"pk": self.pk})

    def get_absolute_url(self) -> str:
        return reverse("billing:detail", args=[self.pk])

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.number or self.status != self.Status.DRAFT:
            raise InvoiceDeletionForbidden(_("Issued invoices are never deleted."))
        return super().delete(*args, **kwargs)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == self.Kind.CREDIT_NOTE

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_open(self) -> bool:
        """Issued and still expecting money."""
        return self.status in (
            self.Status.ISSUED,
            self.Status.PARTIALLY_PAID,
            self.Status.OVERDUE,
        )

    @property
    def amount_due(self) -> Decimal:
        """What the client still owes: total less credit notes less what is paid."""
        if self.status in (self.Status.DRAFT, self.Status.VOID) or self.is_credit_note:
            return ZERO
        return max(ZERO, self.total - self.credited_amount - self.paid_amount)


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(pgettext_lazy("invoice line", "description"), max_length=500)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=3,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(
        _("price"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description


class ProviderAccount(models.Model):
    """A payment provider's settings for this studio. Secrets are write-only in the UI."""

    provider = models.SlugField(max_length=32, unique=True)
    enabled = models.BooleanField(_("enabled"), default=False)
    account_id = models.CharField(_("account / shop ID"), max_length=100, blank=True)
    # Encrypted at rest (core.fields); never written to the audit log.
    secret_key = EncryptedTextField(blank=True)
    secret_key_set_at = models.DateTimeField(null=True, blank=True)
    webhook_secret = EncryptedTextField(blank=True)
    webhook_secret_set_at = models.DateTimeField(null=True, blank=True)
    # Provider-specific, non-secret settings (currencies, 54-FZ receipt codes), by the
    # names of the provider's ``settings_fields`` marked ``option``.
    options = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider"]
        verbose_name = _("payment provider account")

    def __str__(self) -> str:
        return self.provider

    def secret_hint(self, name: str) -> str:
        """ "••••1234": enough to recognise a stored secret, never enough to use it."""
        value = getattr(self, name, "") or ""
        return f"••••{value[-4:]}" if len(value) >= 12 else ("••••" if value else "")

    def secret_set_at(self, name: str) -> object:
        return getattr(self, f"{name}_set_at", None)


class Payment(models.Model):
    """Money in for an invoice: an online payment (pending until the provider confirms it)
    or a bank transfer a manager confirmed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Received")
        FAILED = "failed", pgettext_lazy("payment status", "Failed")
        CANCELED = "canceled", _("Canceled")
        MISMATCH = "mismatch", _("Needs review")

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    provider = models.SlugField(_("method"), max_length=32)
    reference = models.CharField(max_length=32, unique=True, default=new_reference)
    provider_payment_id = models.CharField(max_length=255, null=True, blank=True)
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    currency = models.CharField(max_length=3)
    # What the provider reported when it did not match what we asked for.
    reported_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    reported_currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_detail = models.CharField(max_length=300, blank=True)
    note = models.CharField(pgettext_lazy("comment", "note"), max_length=300, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"],
                condition=Q(provider_payment_id__isnull=False),
                name="unique_provider_payment",
            ),
            # The client's "I will pay by bank transfer" is one note per invoice, however
            # often the button is pressed (two tabs at once included).
            models.UniqueConstraint(
                fields=["invoice", "provider"],
                condition=Q(status="pending", provider=BANK_TRANSFER),
                name="one_pending_bank_transfer_per_invoice",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} {self.currency} ({self.status})"

    @property
    def refunded_amount(self) -> Decimal:
        return sum((refund.amount for refund in self.refunds.all()), ZERO)


class Refund(models.Model):
    """Money returned to the client for a payment (recorded by a manager)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(
        _("amount"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    note = models.CharField(pgettext_lazy("comment", "note"), max_length=300, blank=True)
    # The form's one-time key: submitting the same refund form twice records one refund.
    key = models.CharField(max_length=32, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"-{self.amount}"


class ProviderEvent(models.Model):
    """A webhook event we accepted. The unique (provider, event_id) makes a replay a no-op.

    The webhook only verifies and stores the event; a task re-fetches the payment and
    applies it. ``outcome`` stays empty until then; ``attempts``, ``retry_at`` and
    ``last_error`` track re-fetches that failed for a reason worth retrying.
    """

    provider = models.SlugField(max_length=32)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    provider_payment_id = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="unique_provider_event")
        ]
        indexes = [models.Index(fields=["outcome", "retry_at"], name="provider_event_pending")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"
