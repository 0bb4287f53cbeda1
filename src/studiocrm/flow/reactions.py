"""The sales path as one table: what happens (an event) → what the studio does about it.

Domain services emit events (``deals.events``) inside their transactions; ``react`` is the
handler named in ``settings.EVENT_HANDLERS`` and runs the reactions listed in ``REACTIONS``
for the event, in order, in that same transaction. A reaction moves the deal forward (the
one forward-only rule in ``deals.services.advance_deal``), queues a client or manager email
(``flow.messages``: outbox rows, delivered after commit, one per dedupe key), or creates or
closes a manager task. Reading the table top to bottom follows one deal from the lead form
to the paid deposit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from studiocrm.billing.models import Invoice, Payment
from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import Brief
from studiocrm.core.models import User
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals import events
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import (
    BRIEF_RECEIVED,
    BRIEF_SENT,
    CONTRACT_SENT,
    CONTRACT_SIGNED,
    ESTIMATED,
    IN_WORK,
    INVOICED,
    PAID,
    PROPOSAL_ACCEPTED,
    PROPOSAL_SENT,
    Deal,
    Event,
    Task,
)
from studiocrm.documents import services as document_services
from studiocrm.documents.models import Acceptance, Document, Kind, Revision
from studiocrm.flow import addressing, manager_letters, notify, rules, status
from studiocrm.flow import checklist as checklists
from studiocrm.flow.letters import send_letter
from studiocrm.flow.messages import (
    manager_language,
    responsible_manager,
)

Reaction = Callable[[Event], None]


def react(event: Event) -> None:
    """The event handler (``settings.EVENT_HANDLERS``): run the event's reactions, then
    ring the manager's bell for what a client did (``flow.notify``), and start the timers of
    the studio's rules for it (``flow.rules``)."""
    for reaction in REACTIONS.get(event.name, ()):
        reaction(event)
    if event.deal is not None and event.name in notify.CLIENT_ACTIONS:
        notify.client_acted(event)
    rules.schedule(event)


# --- Building blocks ---------------------------------------------------------------------


def advance_to(stage_code: str) -> Reaction:
    """Move the event's deal forward to ``stage_code`` (never back, never out of won/lost)."""

    def advance(event: Event) -> None:
        deal_services.advance_deal(event.deal, stage_code, actor=event.actor)

    advance.__name__ = f"advance_to_{stage_code}"
    return advance


def _task_for(
    assignee: User | None,
    deal: Deal,
    *,
    title: str,
    params: dict,
    due: timedelta,
    actor: User | None,
) -> Task | None:
    """A task for ``assignee``, titled in the assignee's language (not the sender's)."""
    if assignee is None:
        return None
    with translation.override(manager_language(assignee)):
        localized = _(title) % params if params else _(title)
    return deal_services.add_task(
        title=localized, due_at=timezone.now() + due, assignee=assignee, actor=actor, deal=deal
    )


# --- Lead --------------------------------------------------------------------------------


def email_manager_new_lead(event: Event) -> None:
    deal = event.deal
    if not event.payload.get("notify_manager") or deal.manager is None:
        return
    manager_letters.new_lead(deal.manager, deal)


def email_manager_client_email(event: Event) -> None:
    """A client's email landed on the deal (intake's mailbox): tell the manager."""
    manager_letters.client_email(
        responsible_manager(event.deal),
        event.deal,
        sender=event.payload.get("from", ""),
        subject=event.payload.get("subject", ""),
        key=f"email-received:{event.pk}",
    )


# --- Brief -------------------------------------------------------------------------------


def _brief_manager(brief: Brief) -> User | None:
    return brief.deal.manager or brief.sent_by


def _letter(key: str, deal: Deal, addressee: addressing.Addressee, dedupe_key: str) -> None:
    """Queue the studio's letter ``key`` (``flow.letters``) to a client addressee."""
    send_letter(
        key,
        to=addressee.to,
        deal=deal,
        language=addressee.language,
        context=addressee.context,
        dedupe_key=dedupe_key,
        reply_to=addressee.reply_to,
        manager=addressee.manager,
    )


def _email_manager_about_brief(brief: Brief, *, key: str, dedupe_key: str) -> None:
    manager_letters.about_brief(_brief_manager(brief), brief, key=key, dedupe_key=dedupe_key)


def brief_reminder(title: str) -> Reaction:
    """A "not returned — call the client" task in REMINDER_DAYS for the deal's manager."""

    def remind(event: Event) -> None:
        brief: Brief = event.subject
        task = _task_for(
            brief.deal.manager or event.actor,
            brief.deal,
            title=title,
            params={},
            due=timedelta(days=brief_services.REMINDER_DAYS),
            actor=event.actor,
        )
        brief_services.set_reminder(brief, task)

    return remind


def email_client_brief_link(event: Event) -> None:
    brief: Brief = event.subject
    if event.name == events.BRIEF_LINK_RESENT:
        key = f"brief-resent:{brief.pk}:{event.payload['sent_count']}"
    else:
        key = f"brief-sent:{brief.pk}"
    _letter("brief_link", brief.deal, addressing.for_brief(brief), key)


def email_client_brief_reopened(event: Event) -> None:
    brief: Brief = event.subject
    addressee = addressing.for_brief(brief)
    addressee.context["comment"] = brief.reopen_comment
    _letter(
        "brief_reopened", brief.deal, addressee, f"brief-reopened:{brief.pk}:{brief.reopen_count}"
    )


def close_brief_reminder(event: Event) -> None:
    brief: Brief = event.subject
    if brief.reminder_task_id is not None:
        deal_services.close_task(
            brief.reminder_task_id, reason={"reason": "brief submitted", "brief": brief.pk}
        )


def email_manager_brief_submitted(event: Event) -> None:
    brief: Brief = event.subject
    _email_manager_about_brief(
        brief,
        key="manager_brief_submitted",
        dedupe_key=f"brief-submitted:{brief.pk}:{brief.reopen_count}",
    )


def email_manager_brief_viewed(event: Event) -> None:
    brief: Brief = event.subject
    _email_manager_about_brief(
        brief,
        key="manager_brief_viewed",
        dedupe_key=f"brief-viewed:{brief.pk}",
    )


# --- Estimate ----------------------------------------------------------------------------


def set_deal_amount(event: Event) -> None:
    """The deal is worth the saved estimate's main option, or what the client accepted."""
    total = event.payload.get("total")
    if total:
        deal_services.set_estimated_amount(event.deal, Decimal(total), actor=event.actor)


# --- Documents ---------------------------------------------------------------------------


def _email_manager_about_document(
    document: Document,
    *,
    key: str,
    dedupe_key: str,
    extra: dict | None = None,
    reply_to: str = "",
) -> None:
    """To the deal's manager, else the studio's default manager, else an owner."""
    manager_letters.about_document(
        responsible_manager(document.deal),
        document,
        key=key,
        dedupe_key=dedupe_key,
        extra=extra,
        reply_to=reply_to,
    )


def email_client_documents(event: Event) -> None:
    """One letter for a document and the parts sent with it (a contract and its
    appendices), a link each, in the document's language."""
    main: Document = event.subject
    by_pk = Document.objects.in_bulk(event.payload["documents"])
    documents = [by_pk[pk] for pk in event.payload["documents"]]
    revisions = Revision.objects.in_bulk(event.payload["revisions"])
    version = revisions[event.payload["revisions"][0]].number
    addressee = addressing.for_documents(main, documents, version=version)
    addressee.to = event.payload["to"]
    key = "proposal_ready" if main.kind == Kind.PROPOSAL else "contract_ready"
    dedupe_key = f"document-sent:{main.pk}:v{version}"
    if event.payload.get("renewed"):  # an expired proposal sent again: a new letter
        dedupe_key += f":until-{event.payload['valid_until']}"
    _letter(key, main.deal, addressee, dedupe_key)


def close_review_task(event: Event) -> None:
    """A sent contract no longer needs its "review and send" reminder."""
    document: Document = event.subject
    if document.review_task_id:
        deal_services.close_task(
            document.review_task_id, reason={"reason": "document sent", "document": document.pk}
        )


def advance_on_send(event: Event) -> None:
    kind = event.subject.kind
    if kind == Kind.PROPOSAL:
        deal_services.advance_deal(event.deal, PROPOSAL_SENT, actor=event.actor)
    elif kind == Kind.CONTRACT:
        deal_services.advance_deal(event.deal, CONTRACT_SENT, actor=event.actor)


def email_manager_document_viewed(event: Event) -> None:
    document: Document = event.subject
    _email_manager_about_document(
        document,
        key="manager_document_viewed",
        dedupe_key=f"document-viewed:{document.pk}",
    )


def email_manager_accepted(event: Event) -> None:
    """One email per act of signing; a contract signed with its appendices names them."""
    acceptance: Acceptance = event.subject
    together = Document.objects.in_bulk(event.payload.get("together", []))
    _email_manager_about_document(
        acceptance.document,
        key="manager_accepted",
        dedupe_key=f"document-accepted:{acceptance.pk}",
        extra=manager_letters.acceptance_data(
            acceptance, [together[pk] for pk in event.payload.get("together", [])]
        ),
    )


def tell_manager_proposal_expired(event: Event) -> None:
    """The bell and an email: the client can no longer accept; send it again to renew."""
    document: Document = event.subject
    notify.tell_manager(
        event.deal,
        gettext_noop("The proposal expired unaccepted"),
        key=f"bell:{event.pk}",
        event=event,
    )
    _email_manager_about_document(
        document,
        key="manager_proposal_expired",
        dedupe_key=f"proposal-expired:{document.pk}:{event.payload['valid_until']}",
    )


def contract_review_task(event: Event) -> None:
    """The manager reviews a freshly issued contract and sends it within four hours."""
    contract: Document = event.subject
    deal = contract.deal
    if not deal.manager_id:
        return
    task = _task_for(
        deal.manager,
        deal,
        title=gettext_noop("Review and send %(title)s"),
        params={"title": contract.title},
        due=timedelta(hours=4),
        actor=None,
    )
    document_services.set_review_task(contract, task)


def answer_question_task(event: Event) -> None:
    document: Document = event.subject
    _task_for(
        responsible_manager(event.deal),
        event.deal,
        title=gettext_noop("Answer the client's question about %(title)s"),
        params={"title": document.title},
        due=timedelta(hours=2),
        actor=None,
    )


def email_manager_question(event: Event) -> None:
    document: Document = event.subject
    payload = event.payload
    _email_manager_about_document(
        document,
        key="manager_question",
        dedupe_key=f"document-question:{document.pk}:{payload['note']}",
        extra={
            "question": {"text": payload["text"], "who": payload["name"], "email": payload["email"]}
        },
        reply_to=payload["email"],
    )


# --- Billing -----------------------------------------------------------------------------


def advance_on_invoice(event: Event) -> None:
    if not event.subject.is_credit_note:
        deal_services.advance_deal(event.deal, INVOICED, actor=event.actor)


def email_client_invoice_link(event: Event) -> None:
    invoice: Invoice = event.subject
    if invoice.is_credit_note or not event.payload.get("notify_client"):
        return
    addressee = addressing.for_invoice(invoice)
    addressee.to = invoice.buyer.get("email", "")
    _letter(
        "invoice_issued",
        invoice.deal,
        addressee,
        f"billing-invoice-link:{invoice.pk}:{invoice.token_hash[:16]}",
    )


def _invoice_manager(invoice: Invoice) -> User | None:
    manager = invoice.deal.manager
    return manager if manager is not None and manager.is_active else None


def email_manager_invoice_viewed(event: Event) -> None:
    invoice: Invoice = event.subject
    manager_letters.invoice_viewed(_invoice_manager(invoice), invoice)


def _email_manager_about_payment(payment: Payment, *, key: str, dedupe_key: str) -> None:
    manager_letters.about_payment(
        _invoice_manager(payment.invoice), payment, key=key, dedupe_key=dedupe_key
    )


def email_client_receipt(event: Event) -> None:
    payment: Payment = event.subject
    _letter(
        "payment_received",
        payment.invoice.deal,
        addressing.for_payment(payment),
        f"billing-receipt:{payment.pk}",
    )


def email_manager_payment(event: Event) -> None:
    payment: Payment = event.subject
    _email_manager_about_payment(
        payment,
        key="manager_payment_received",
        dedupe_key=f"billing-payment:{payment.pk}",
    )
    if event.payload.get("overpaid"):
        _email_manager_about_payment(
            payment,
            key="manager_overpaid",
            dedupe_key=f"billing-overpaid:{payment.pk}",
        )


def advance_when_paid(event: Event) -> None:
    """An invoice paid in full (the deposit) wins the deal: it is in work. Paid once
    nothing more is owed: every live invoice paid, every schedule step invoiced."""
    if event.payload.get("settled"):
        deal_services.advance_deal(event.deal, PAID, actor=None)
    elif event.payload.get("invoice_paid"):
        deal_services.advance_deal(event.deal, IN_WORK, actor=None)


def open_kickoff_checklist(event: Event) -> None:
    """The deposit starts the work: the deal gets its "what to prepare" checklist, which the
    kickoff letter (a rule) links to."""
    payment: Payment = event.subject
    deal = payment.invoice.deal
    checklists.open_for(deal, addressing.language_of(payment.invoice.language))


def email_manager_payment_review(event: Event) -> None:
    payment: Payment = event.subject
    _email_manager_about_payment(
        payment,
        key="manager_payment_review",
        dedupe_key=f"billing-mismatch:{payment.pk}",
    )


# --- Tasks -------------------------------------------------------------------------------


def email_task_reminder(event: Event) -> None:
    task: Task = event.subject
    link = absolute_url(task.deal.get_absolute_url() if task.deal else "/deals/my-day/")
    manager_letters.task_due(task, link)


# --- The table ---------------------------------------------------------------------------

REACTIONS: dict[str, tuple[Reaction, ...]] = {
    events.LEAD_RECEIVED: (email_manager_new_lead,),
    events.BRIEF_SENT: (
        advance_to(BRIEF_SENT),
        brief_reminder(gettext_noop("Brief not returned — call the client")),
        email_client_brief_link,
    ),
    events.BRIEF_LINK_RESENT: (email_client_brief_link,),
    events.BRIEF_FIRST_VIEWED: (email_manager_brief_viewed,),
    events.BRIEF_REOPENED: (
        brief_reminder(gettext_noop("Reopened brief not returned — call the client")),
        email_client_brief_reopened,
    ),
    events.BRIEF_SUBMITTED: (
        advance_to(BRIEF_RECEIVED),
        close_brief_reminder,
        email_manager_brief_submitted,
    ),
    events.ESTIMATE_SAVED: (set_deal_amount, advance_to(ESTIMATED)),
    events.DOCUMENT_SENT: (email_client_documents, close_review_task, advance_on_send),
    events.DOCUMENT_FIRST_VIEWED: (email_manager_document_viewed,),
    events.PROPOSAL_ACCEPTED: (
        advance_to(PROPOSAL_ACCEPTED),
        set_deal_amount,
        email_manager_accepted,
    ),
    events.PROPOSAL_EXPIRED: (tell_manager_proposal_expired,),
    events.CONTRACT_ISSUED: (contract_review_task,),
    events.DOCUMENT_SIGNED: (email_manager_accepted,),
    events.CONTRACT_SIGNED: (advance_to(CONTRACT_SIGNED),),
    events.DOCUMENT_QUESTION: (answer_question_task, email_manager_question),
    events.INVOICE_ISSUED: (advance_on_invoice, email_client_invoice_link),
    events.INVOICE_LINK_RENEWED: (email_client_invoice_link,),
    events.INVOICE_FIRST_VIEWED: (email_manager_invoice_viewed,),
    events.PAYMENT_RECEIVED: (
        open_kickoff_checklist,
        email_client_receipt,
        email_manager_payment,
        advance_when_paid,
    ),
    events.PAYMENT_NEEDS_REVIEW: (email_manager_payment_review,),
    events.TASK_DUE: (email_task_reminder,),
    events.STAGE_CHANGED: (status.on_stage_changed,),
    events.EMAIL_RECEIVED: (email_manager_client_email,),
}
