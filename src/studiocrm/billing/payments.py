"""Money in and out of invoices: online payments, webhooks, reconciliation, manual bank
transfers and refunds.

The rules that keep a payment from counting twice:

- A webhook is verified and its event id inserted under a unique constraint (a replay or a
  concurrent duplicate stops there), and answered at once. A task then re-fetches the payment
  from the provider (outside any transaction: no network call holds a lock) and, in one
  transaction, locks the event row, the invoice and then the payment in that order and
  applies the provider's state. Temporary provider errors are retried with backoff; a
  permanent one (the provider does not know the payment) ends the event.
- A payment moves from pending (or failed/canceled) to received once; nothing moves it back,
  so a failure event after a success changes nothing.
- An invoice's paid and overpaid amounts are recomputed from its rows under the invoice's
  lock (``refresh_invoice``): partial payments add up, and money beyond what is due is kept
  as ``overpaid_amount`` and flagged to the manager, never dropped.
- Receipts go through the outbox with one dedupe key per payment: at most one per payment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from studiocrm.billing.ledger import offline_codes, refresh_invoice, studio_today, sum_amounts
from studiocrm.billing.models import BANK_TRANSFER, Invoice, Payment, ProviderEvent, Refund
from studiocrm.billing.providers import UnknownProvider, codes, get_provider
from studiocrm.billing.providers.base import (
    Instructions,
    PaymentProvider,
    ProviderError,
    ProviderPayment,
    Redirect,
    WebhookEvent,
)
from studiocrm.billing.schedule import payment_schedule
from studiocrm.billing.services import (
    BillingError,
    check_can_edit,
    lock_invoice,
)
from studiocrm.core import audit
from studiocrm.core.models import User
from studiocrm.core.money import round_money
from studiocrm.deals import events
from studiocrm.deals.models import Deal

log = logging.getLogger(__name__)

# Reconciliation gives up on a payment the provider still calls pending after this long.
GIVE_UP_AFTER = timedelta(days=30)
# A pending online payment that never got a provider id (the process died between our
# insert and the provider's answer) is abandoned after this long.
ORPHAN_AFTER = timedelta(hours=1)


class PaymentUnavailable(BillingError):
    """The client cannot pay this way right now (method off, nothing due, provider down)."""


# --- Starting a payment (the client presses "Pay") ---------------------------------------


def start_payment(
    invoice: Invoice, provider_code: str, *, return_url: Callable[[Payment], str]
) -> tuple[Payment, Redirect | Instructions]:
    """Open a payment for what is still due on the invoice with the chosen provider.

    Online: the pending payment row is committed first, then the provider is called (no lock
    held over the network), then its id is stored; if the provider fails, the row is marked
    canceled and PaymentUnavailable is raised. Offline (bank transfer): one pending row per
    invoice is kept and the instructions returned.
    """
    try:
        provider = get_provider(provider_code)
    except UnknownProvider as error:
        raise PaymentUnavailable(_("This payment method is not available.")) from error
    if not provider.account.enabled or not provider.is_configured():
        raise PaymentUnavailable(_("This payment method is not available."))
    with transaction.atomic():
        invoice = lock_invoice(invoice.pk)
        due = invoice.amount_due
        if not invoice.is_open or due <= 0:
            raise PaymentUnavailable(_("Nothing is due on this invoice."))
        if not provider.accepts(invoice):
            raise PaymentUnavailable(_("This payment method is not available for this invoice."))
        if not provider.online:
            payment = _offline_note(invoice, provider.code, due)
            payment.invoice = invoice
            return payment, provider.start_payment(payment, return_url=return_url(payment))
        payment = Payment.objects.create(
            invoice=invoice, provider=provider.code, amount=due, currency=invoice.currency
        )
        audit.record(
            "payment.started",
            payment,
            actor=None,
            data={"amount": str(due), "provider": provider.code},
        )
    payment.invoice = invoice
    try:
        result = provider.start_payment(payment, return_url=return_url(payment))
    except ProviderError as error:
        log.warning("could not start %s payment %s: %s", provider.code, payment.pk, error)
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.CANCELED, status_detail=str(error)[:300]
        )
        raise PaymentUnavailable(
            _("The payment service did not answer. Please try again in a few minutes.")
        ) from error
    Payment.objects.filter(pk=payment.pk).update(provider_payment_id=payment.provider_payment_id)
    return payment, result


def _offline_note(invoice: Invoice, provider_code: str, due: Decimal) -> Payment:
    """The one pending note "the client will pay by this offline method" for a locked
    invoice: created on the first press, reused (amount kept at what is due) afterwards.
    The unique constraint on pending bank-transfer notes settles two presses at once where
    the row lock cannot (SQLite): the loser reads the winner's row."""
    pending = invoice.payments.filter(provider=provider_code, status=Payment.Status.PENDING)
    payment = pending.first()
    if payment is None:
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    invoice=invoice, provider=provider_code, amount=due, currency=invoice.currency
                )
        except IntegrityError:
            payment = pending.get()
        else:
            audit.record("payment.started", payment, actor=None, data={"amount": str(due)})
            return payment
    if payment.amount != due:
        payment.amount = due
        payment.save(update_fields=["amount"])
    return payment


# --- Webhooks and reconciliation ----------------------------------------------------------


# Re-fetches of a stored event that fail for a temporary reason are retried this many
# times, waiting EVENT_RETRY_BASE * 2**attempt between them (1, 2, 4 … minutes, ~17 hours
# in all); a permanent refusal (the provider does not know the payment) ends at once.
EVENT_MAX_ATTEMPTS = 10
EVENT_RETRY_BASE = timedelta(minutes=1)
# A stored event whose task never ran (the worker lost it) is picked up by the sweep.
EVENT_STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class StoredEvent:
    """What the webhook answers: the event row and whether this delivery stored it."""

    event: ProviderEvent
    created: bool


def store_event(provider: PaymentProvider, event: WebhookEvent) -> StoredEvent:
    """Record a verified webhook event once (unique provider + event id) and, after the
    commit, enqueue the task that re-fetches and applies it. Nothing is fetched here, so the
    webhook answers in milliseconds whatever the provider's API is doing. An event that is
    not about a payment is stored as ``ignored`` and needs no task."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = ProviderEvent.objects.create(
                    provider=provider.code,
                    event_id=event.event_id[:255],
                    event_type=event.event_type[:100],
                    provider_payment_id=(event.provider_payment_id or "")[:255],
                    outcome="" if event.provider_payment_id else "ignored",
                    processed_at=None if event.provider_payment_id else timezone.now(),
                )
        except IntegrityError:
            return StoredEvent(
                ProviderEvent.objects.get(provider=provider.code, event_id=event.event_id[:255]),
                created=False,
            )
        if not record.outcome:
            transaction.on_commit(lambda: enqueue_event(record.pk))
    return StoredEvent(record, created=True)


@task()
def process_event_task(event_id: int) -> str:
    """Re-fetch and apply one stored provider event; idempotent (an event with an outcome
    returns it). A temporary provider error schedules the next attempt itself. Defined
    beside ``enqueue_event``, which queues it; ``billing.tasks`` keeps the name."""
    try:
        return process_stored_event(event_id)
    except RetryLater:
        return "retry"


def enqueue_event(event_pk: int, run_after: object | None = None) -> None:
    """Queue the processing of a stored event; if the queue is down, the sweep gets it."""
    try:
        queued = process_event_task.using(run_after=run_after) if run_after else process_event_task
        queued.enqueue(event_pk)
    except Exception:
        log.exception("could not enqueue provider event %s", event_pk)


class RetryLater(Exception):
    """The re-fetch failed for a reason worth retrying; the event was scheduled again."""


def process_stored_event(event_pk: int) -> str:
    """Re-fetch the payment a stored event is about and apply its true state, once.

    Idempotent: an event that already has an outcome returns it. The re-fetch happens
    outside any transaction; the event row is then locked and the outcome written in the
    transaction that applies the payment, so two workers processing the same event apply it
    once. A temporary provider error raises RetryLater after scheduling the next attempt
    (with backoff, up to EVENT_MAX_ATTEMPTS); a permanent one (e.g. Stripe answering 404
    for the session) ends the event as ``provider_refused`` with the reason kept.
    """
    record = ProviderEvent.objects.filter(pk=event_pk).first()
    if record is None:
        return "missing"
    if record.outcome:
        return record.outcome
    try:
        provider = get_provider(record.provider)
        fetched = provider.fetch_payment(record.provider_payment_id)
    except UnknownProvider as error:
        return _finish_event(record.pk, "provider_refused", str(error))
    except ProviderError as error:
        if error.permanent:
            log.warning(
                "%s event %s: the provider refused: %s", record.provider, record.event_id, error
            )
            return _finish_event(record.pk, "provider_refused", str(error))
        return _retry_event(record, error)
    with transaction.atomic():
        record = ProviderEvent.objects.select_for_update().get(pk=record.pk)
        if record.outcome:
            return record.outcome
        outcome = _apply_fetched(record.provider, fetched)
        record.outcome = outcome
        record.processed_at = timezone.now()
        record.retry_at = None
        record.save(update_fields=["outcome", "processed_at", "retry_at"])
    return outcome


def _finish_event(event_pk: int, outcome: str, error: str) -> str:
    updated = ProviderEvent.objects.filter(pk=event_pk, outcome="").update(
        outcome=outcome, last_error=error[:300], processed_at=timezone.now(), retry_at=None
    )
    if not updated:
        return ProviderEvent.objects.get(pk=event_pk).outcome
    return outcome


def _retry_event(record: ProviderEvent, error: ProviderError) -> str:
    attempts = record.attempts + 1
    if attempts >= EVENT_MAX_ATTEMPTS:
        log.error(
            "%s event %s: giving up after %s attempts: %s",
            record.provider,
            record.event_id,
            attempts,
            error,
        )
        ProviderEvent.objects.filter(pk=record.pk, outcome="").update(attempts=attempts)
        return _finish_event(record.pk, "gave_up", str(error))
    retry_at = timezone.now() + EVENT_RETRY_BASE * (2 ** (attempts - 1))
    ProviderEvent.objects.filter(pk=record.pk, outcome="").update(
        attempts=attempts, retry_at=retry_at, last_error=str(error)[:300]
    )
    log.warning(
        "%s event %s: re-fetch failed, retry at %s: %s",
        record.provider,
        record.event_id,
        retry_at,
        error,
    )
    enqueue_event(record.pk, run_after=retry_at)
    raise RetryLater(str(error))


def process_due_events() -> dict[str, int]:
    """Process stored events whose task is overdue: a retry whose time has come, or one
    never processed (its task was lost). A periodic job; safe on several workers, because
    processing an event twice applies it once."""
    now = timezone.now()
    due = ProviderEvent.objects.filter(outcome="").filter(
        Q(retry_at__lte=now) | Q(retry_at__isnull=True, received_at__lt=now - EVENT_STALE_AFTER)
    )
    results: dict[str, int] = {}
    for event_pk in list(due.order_by("received_at").values_list("pk", flat=True)[:200]):
        try:
            outcome = process_stored_event(event_pk)
        except RetryLater:
            outcome = "retry"
        results[outcome] = results.get(outcome, 0) + 1
    return results


def _apply_fetched(provider_code: str, fetched: ProviderPayment) -> str:
    """Find our payment for the provider's and apply its state, under the locks."""
    payment = Payment.objects.filter(
        provider=provider_code, provider_payment_id=fetched.provider_payment_id
    ).first()
    if payment is None and fetched.reference:
        # Our process may have died between creating the payment at the provider and
        # storing its id; the reference we put in its metadata still finds it.
        payment = Payment.objects.filter(
            provider=provider_code, reference=fetched.reference, provider_payment_id__isnull=True
        ).first()
    if payment is None:
        log.warning("%s payment %s is not ours", provider_code, fetched.provider_payment_id)
        return "unknown_payment"
    invoice = lock_invoice(payment.invoice_id)
    payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
    if payment.provider_payment_id is None:
        payment.provider_payment_id = fetched.provider_payment_id
        payment.save(update_fields=["provider_payment_id"])
    return apply_provider_state(invoice, payment, fetched)


def apply_provider_state(invoice: Invoice, payment: Payment, fetched: ProviderPayment) -> str:
    """Apply the provider's view of a payment. Both rows must be locked, invoice first."""
    payment.last_checked_at = timezone.now()
    if payment.status in (Payment.Status.SUCCEEDED, Payment.Status.MISMATCH):
        payment.save(update_fields=["last_checked_at"])
        return "unchanged"
    if fetched.status == ProviderPayment.SUCCEEDED:
        problems = []
        if fetched.reference and fetched.reference != payment.reference:
            problems.append(f"reference {fetched.reference!r}")
        if fetched.currency != payment.currency:
            problems.append(f"currency {fetched.currency}")
        if fetched.amount != payment.amount:
            problems.append(f"amount {fetched.amount}")
        if problems:
            return _flag_mismatch(invoice, payment, fetched, problems)
        payment.status = Payment.Status.SUCCEEDED
        payment.confirmed_at = timezone.now()
        payment.received_on = studio_today()
        payment.status_detail = fetched.detail[:300]
        payment.save(
            update_fields=[
                "status",
                "confirmed_at",
                "received_on",
                "status_detail",
                "last_checked_at",
            ]
        )
        audit.record(
            "payment.received",
            payment,
            actor=None,
            data={"amount": str(payment.amount), "provider": payment.provider},
        )
        _money_received(invoice, payment, actor=None)
        return "applied"
    if fetched.status in (ProviderPayment.FAILED, ProviderPayment.CANCELED):
        if payment.status == Payment.Status.PENDING:
            payment.status = fetched.status
            payment.status_detail = fetched.detail[:300]
            payment.save(update_fields=["status", "status_detail", "last_checked_at"])
            audit.record("payment." + fetched.status, payment, actor=None)
            payment.invoice = invoice
            events.emit(
                events.PAYMENT_FAILED,
                invoice.deal,
                subject=payment,
                payload={"status": fetched.status},
            )
            return fetched.status
        payment.save(update_fields=["last_checked_at"])
        return "unchanged"
    payment.save(update_fields=["last_checked_at"])
    return "pending"


def _flag_mismatch(
    invoice: Invoice, payment: Payment, fetched: ProviderPayment, problems: list[str]
) -> str:
    payment.status = Payment.Status.MISMATCH
    payment.reported_amount = fetched.amount
    payment.reported_currency = fetched.currency[:3]
    payment.status_detail = ("does not match: " + ", ".join(problems))[:300]
    payment.save(
        update_fields=[
            "status",
            "reported_amount",
            "reported_currency",
            "status_detail",
            "last_checked_at",
        ]
    )
    audit.record("payment.mismatch", payment, actor=None, data={"problems": problems})
    payment.invoice = invoice
    events.emit(events.PAYMENT_NEEDS_REVIEW, invoice.deal, subject=payment)
    return "mismatch"


def sync_payment(payment: Payment) -> str:
    """Re-fetch one online payment from its provider and apply the answer (reconciliation
    and the client's return page use this). Raises ProviderError if the provider fails."""
    provider = get_provider(payment.provider)
    if not provider.online or not payment.provider_payment_id:
        return "skipped"
    fetched = provider.fetch_payment(payment.provider_payment_id)
    with transaction.atomic():
        invoice = lock_invoice(payment.invoice_id)
        locked = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
        return apply_provider_state(invoice, locked, fetched)


def reconcile_pending() -> dict[str, int]:
    """Poll the providers for online payments still pending after
    ``BILLING_RECONCILE_AFTER_MINUTES``, so a lost webhook still ends in the right state (a
    periodic job of the worker; safe to run on several workers at once)."""
    now = timezone.now()
    online = [code for code in _known_codes() if code not in offline_codes()]
    results: dict[str, int] = {}
    orphans = Payment.objects.filter(
        status=Payment.Status.PENDING,
        provider__in=online,
        provider_payment_id__isnull=True,
        created_at__lt=now - ORPHAN_AFTER,
    ).update(status=Payment.Status.CANCELED, status_detail="never reached the provider")
    if orphans:
        results["orphaned"] = orphans
    expired = Payment.objects.filter(
        status=Payment.Status.PENDING, provider__in=online, created_at__lt=now - GIVE_UP_AFTER
    ).update(status=Payment.Status.CANCELED, status_detail="still pending after 30 days")
    if expired:
        results["expired"] = expired
    cutoff = now - timedelta(minutes=settings.BILLING_RECONCILE_AFTER_MINUTES)
    due = (
        Payment.objects.filter(
            status=Payment.Status.PENDING,
            provider__in=online,
            provider_payment_id__isnull=False,
            created_at__lt=cutoff,
        )
        .filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=cutoff))
        .order_by("last_checked_at", "created_at")[:200]
    )
    for payment in due:
        try:
            outcome = sync_payment(payment)
        except (ProviderError, UnknownProvider) as error:
            log.warning("reconciling payment %s failed: %s", payment.pk, error)
            Payment.objects.filter(pk=payment.pk).update(last_checked_at=timezone.now())
            outcome = "error"
        results[outcome] = results.get(outcome, 0) + 1
    return results


def _known_codes() -> list[str]:
    return codes()


def mark_overdue() -> int:
    """Turn issued and partly paid invoices past their due date overdue (a periodic job)."""
    today = studio_today()
    changed = 0
    candidates = Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE,
        status__in=[Invoice.Status.ISSUED, Invoice.Status.PARTIALLY_PAID],
        due_date__lt=today,
    ).values_list("pk", flat=True)
    for invoice_id in list(candidates[:1000]):
        with transaction.atomic():
            invoice = lock_invoice(invoice_id)
            if refresh_invoice(invoice).new_status == Invoice.Status.OVERDUE:
                changed += 1
    return changed


# --- Manual payments and refunds ----------------------------------------------------------


def record_manual_payment(
    invoice: Invoice,
    *,
    amount: Decimal,
    received_on: date,
    actor: User,
    note: str = "",
    key: str = "",
    pending: Payment | None = None,
) -> Payment:
    """A manager confirms a bank transfer that reached the studio's account. ``key`` is the
    form's one-time key: submitting the same form twice records one payment. More than is
    due is accepted and flagged as an overpayment."""
    amount = round_money(amount)
    if amount <= 0:
        raise BillingError(_("The amount must be more than zero."))
    with transaction.atomic():
        invoice = lock_invoice(invoice.pk)
        check_can_edit(actor, invoice.deal)
        if invoice.is_draft or invoice.is_credit_note or invoice.status == Invoice.Status.VOID:
            raise BillingError(_("Payments are recorded against issued invoices only."))
        if key and Payment.objects.filter(reference=key).exists():
            return Payment.objects.get(reference=key)
        # The client's pending "I will pay by bank transfer" note becomes this payment
        # (rather than being left behind as a canceled row); ``pending`` picks one.
        notes = Payment.objects.select_for_update(of=("self",)).filter(
            invoice=invoice, status=Payment.Status.PENDING, provider=BANK_TRANSFER
        )
        payment = (notes.filter(pk=pending.pk) if pending is not None else notes).first()
        if payment is None:
            payment = Payment(invoice=invoice, provider=BANK_TRANSFER, currency=invoice.currency)
        if key:
            # The form's key, so a second submit of the same form finds this payment.
            payment.reference = key[:32]
        payment.amount = amount
        payment.status = Payment.Status.SUCCEEDED
        payment.received_on = received_on
        payment.confirmed_at = timezone.now()
        payment.recorded_by = actor
        payment.note = note.strip()[:300]
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError:
            return Payment.objects.get(reference=key)
        audit.record(
            "payment.recorded",
            payment,
            actor=actor,
            data={"amount": str(amount), "invoice": invoice.number},
        )
        _money_received(invoice, payment, actor=actor)
    return payment


def record_refund(
    payment: Payment, *, amount: Decimal, actor: User, note: str = "", key: str = ""
) -> Refund:
    """Record money returned to the client for a received payment (refunded through the
    provider's dashboard or the bank). At most what was received less earlier refunds."""
    amount = round_money(amount)
    if amount <= 0:
        raise BillingError(_("The amount must be more than zero."))
    with transaction.atomic():
        invoice = lock_invoice(payment.invoice_id)
        check_can_edit(actor, invoice.deal)
        payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
        if key and Refund.objects.filter(key=key).exists():
            return Refund.objects.get(key=key)
        if payment.status != Payment.Status.SUCCEEDED:
            raise BillingError(_("Only a received payment can be refunded."))
        refundable = payment.amount - sum_amounts(payment.refunds.all())
        if amount > refundable:
            raise BillingError(
                _("At most %(amount)s can be refunded.") % {"amount": f"{refundable:.2f}"}
            )
        refund = Refund.objects.create(
            payment=payment,
            amount=amount,
            note=note.strip()[:300],
            created_by=actor,
            key=key or None,
        )
        audit.record(
            "payment.refunded",
            payment,
            actor=actor,
            data={"amount": str(amount), "refund": refund.pk},
        )
        refresh_invoice(invoice, actor=actor)
    return refund


# --- After money arrives ------------------------------------------------------------------


def _money_received(invoice: Invoice, payment: Payment, *, actor: User | None) -> None:
    """Recompute the invoice, flag an overpayment, and emit ``payment.received`` saying
    whether the money overpaid the invoice, paid it in full, and left the deal owing
    nothing more (the reactions email the receipt and the manager, move the deal to `in
    work` once an invoice — the deposit — is paid, and to `paid` once settled). Runs inside
    the caller's transaction."""
    result = refresh_invoice(invoice, actor=actor)
    overpaid = result.overpaid_after > result.overpaid_before
    if overpaid:
        audit.record(
            "invoice.overpaid",
            invoice,
            actor=actor,
            data={"overpaid": str(invoice.overpaid_amount), "payment": payment.pk},
        )
    payment.invoice = invoice
    settled = result.new_status == Invoice.Status.PAID and _deal_settled(invoice.deal)
    events.emit(
        events.PAYMENT_RECEIVED,
        invoice.deal,
        actor=actor,
        subject=payment,
        payload={
            "amount": str(payment.amount),
            "currency": payment.currency,
            "overpaid": overpaid,
            "invoice_paid": result.new_status == Invoice.Status.PAID,
            "settled": settled,
        },
    )


def _deal_settled(deal: Deal) -> bool:
    """Every live invoice of the deal is paid and every step of its payment schedule has
    an invoice: nothing more is owed."""
    live = deal.invoices.filter(kind=Invoice.Kind.INVOICE).exclude(
        status__in=[Invoice.Status.DRAFT, Invoice.Status.VOID]
    )
    statuses = set(live.values_list("status", flat=True))
    if statuses != {Invoice.Status.PAID}:
        return False
    try:
        steps = payment_schedule(deal)
    except Exception:  # the schedule is advice here; a broken one must not block a payment
        log.exception("payment schedule of deal %s could not be read", deal.pk)
        return False
    invoiced_steps = set(live.values_list("schedule_step", flat=True))
    return all(step.number in invoiced_steps for step in steps)
