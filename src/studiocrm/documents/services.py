"""Every state change of documents goes through these functions.

Each runs in one transaction, locks the document it changes, writes the audit row and the
outbox rows in that transaction, and leaves PDFs and email delivery for after the commit.

Contract for billing (keep it stable)
-------------------------------------

``payment_schedule(deal) -> list[PaymentStep]``
    The payments the client agreed to, read from the deal's signed contract: the frozen
    context of the accepted revision of its appendix (the specification) if the appendix is
    signed, else of the contract itself. Empty list if the deal has no signed contract.
    ``PaymentStep`` is a frozen dataclass ``(number: int, label: str, amount: Decimal,
    currency: str, percent: Decimal | None, due_days: int)``; numbers start at 1, amounts
    add up exactly to the contract total (the last step takes the rounding remainder).
    ``due_days`` counts from the event the label names (the first step: signing the
    contract; the others: acceptance of the work). The default schedule is 50 % deposit and
    50 % on acceptance; a studio changes it per template (Settings → Document templates) or
    per document (the document's editor), and a contract copies the schedule of the
    proposal the client accepted.

``signed_contract(deal) -> Document | None``
    The deal's contract (``kind == "contract"``) that the client has signed (it has an
    acceptance), the most recent one if there are several; None otherwise.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.core.numbering import next_number
from studiocrm.core.studio_zone import studio_zone
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals import events
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import (
    Deal,
    Task,
)
from studiocrm.documents import defaults, estimate_data, sandbox
from studiocrm.documents.context import ScheduleError, canonical_json, validate_schedule
from studiocrm.documents.filters import long_date as _long_date
from studiocrm.documents.filters import to_decimal
from studiocrm.documents.models import (
    Acceptance,
    Document,
    DocumentTemplate,
    Kind,
    PdfFile,
    Revision,
)
from studiocrm.documents.rendering import Rendered, render_document, sha256_text
from studiocrm.documents.tasks import render_pdf
from studiocrm.estimates import public as estimates
from studiocrm.portal.links import LinkTokenLost

log = logging.getLogger(__name__)

# The consent a client ticks before accepting. Change the text → change the version: every
# acceptance keeps the exact text and version it was given. The text names the button the
# page shows ({button}), which differs between a proposal and a document to sign.
CONSENT_VERSION = "2026-02"
CONSENT_TEXTS = {
    "ru": (
        "Я прочитал(а) документ полностью, принимаю его условия и соглашаюсь, что ввод моего "
        "имени и адреса электронной почты и нажатие кнопки «{button}» являются моей простой "
        "электронной подписью, равнозначной собственноручной. Я согласен(на) на обработку "
        "указанных данных для заключения и исполнения договора."
    ),
    "en": (
        "I have read the whole document, I accept its terms, and I agree that typing my name "
        "and email address and pressing “{button}” is my simple electronic signature, with the "
        "same effect as a handwritten one. I consent to the processing of these details to "
        "conclude and perform the agreement."
    ),
}
PENDING_PDF_RETRY = timedelta(minutes=10)
QUESTION_MAX_LENGTH = 5000


# Errors -------------------------------------------------------------------------------------


class DocumentError(Exception):
    """A change the document's state or the input does not allow; the message says why."""


class NotAllowed(DocumentError):
    pass


class NoEstimate(DocumentError):
    pass


class NoRecipient(DocumentError):
    pass


class TemplateInvalid(DocumentError):
    """The template cannot be rendered; ``problem`` has the message and line."""

    def __init__(self, problem: sandbox.TemplateProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class NotOpenForAcceptance(DocumentError):
    pass


class AlreadyAccepted(DocumentError):
    def __init__(self, acceptance: Acceptance | None = None) -> None:
        super().__init__(_("This version has already been accepted."))
        self.acceptance = acceptance


class ProposalExpired(NotOpenForAcceptance):
    """The proposal's validity date has passed: the client asks for a new one instead."""

    def __init__(self, valid_until: date | None) -> None:
        super().__init__(
            _(
                "This proposal was valid until %(date)s and can no longer be accepted. "
                "Ask us for a new one below: we will send it shortly."
            )
            % {"date": long_date(valid_until) if valid_until else ""}
        )
        self.valid_until = valid_until


class StaleRevision(DocumentError):
    """The client accepted a version that is no longer the current one."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "The document has changed since you opened it. Please read the current "
                "version (the page has been reloaded) and accept again."
            )
        )


# Small value types --------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    name: str
    email: str


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None
    user_agent: str


@dataclass(frozen=True)
class PaymentStep:
    number: int
    label: str
    amount: Decimal
    currency: str
    percent: Decimal | None
    due_days: int


def accept_button_label(kind: str, language: str, *, together: bool = False) -> str:
    """The label of the button that accepts a document of this kind (``together``: a contract
    signed with its appendices): the page shows it and the consent text names it, so the two
    always agree."""
    with translation.override(language):
        if kind == Kind.PROPOSAL:
            return _("Accept the proposal")
        if together:
            return _("Sign the contract and appendices")
        return _("Sign")


def consent_text(language: str, kind: str, *, together: bool = False) -> str:
    """The consent for accepting a document of ``kind``, naming the button the page shows."""
    language = language if language in CONSENT_TEXTS else "en"
    return CONSENT_TEXTS[language].format(
        button=accept_button_label(kind, language, together=together)
    )


# Reading ------------------------------------------------------------------------------------


def client_path(document: Document) -> str:
    return reverse("documents_client:page", args=[document.link_token()])


def client_url(document: Document) -> str:
    """The absolute link the client opens (for emails and the manager's "copy link").
    Raises ``portal.links.LinkTokenLost`` if the token cannot be derived any more."""
    return absolute_url(client_path(document))


def _token_derivable(document: Document) -> bool:
    try:
        document.link_token()
    except LinkTokenLost:
        return False
    return True


def latest_acceptance(document: Document) -> Acceptance | None:
    return (
        Acceptance.objects.filter(document=document)
        .select_related("revision")
        .order_by("-accepted_at", "-pk")
        .first()
    )


def signed_contract(deal: Deal) -> Document | None:
    """The deal's most recent contract that has an acceptance, or None (billing contract)."""
    return (
        Document.objects.filter(deal=deal, kind=Kind.CONTRACT, acceptances__isnull=False)
        .order_by("-created_at", "-pk")
        .distinct()
        .first()
    )


def payment_schedule(deal: Deal) -> list[PaymentStep]:
    """The signed payment schedule of the deal (see the module docstring)."""
    contract = signed_contract(deal)
    if contract is None:
        return []
    sources = [
        *Document.objects.filter(parent=contract, kind=Kind.APPENDIX).order_by("sequence", "pk"),
        contract,
    ]
    for source in sources:
        acceptance = latest_acceptance(source)
        if acceptance is None:
            continue
        context = json.loads(acceptance.revision.context)
        currency = context.get("currency") or deal.currency
        return [
            PaymentStep(
                number=int(step["number"]),
                label=str(step["label"]),
                amount=to_decimal(step["amount"]),
                currency=currency,
                percent=to_decimal(step["percent"]) if step.get("percent") is not None else None,
                due_days=int(step.get("due_days") or 0),
            )
            for step in context.get("payment_schedule") or []
        ]
    return []


# Helpers ------------------------------------------------------------------------------------


def _check_can_edit(actor: User | None, deal: Deal) -> None:
    deal_services.check_can_edit(actor, deal, error=NotAllowed)


def _render(document: Document) -> Rendered:
    try:
        return render_document(document)
    except sandbox.TemplateProblem as problem:
        raise TemplateInvalid(problem) from problem


def _freeze(document: Document, rendered: Rendered, *, reason: str, actor: User | None) -> Revision:
    """The revision for this rendering: the latest one if it is identical, else a new one.
    Call with the document locked."""
    latest = Revision.objects.filter(document=document).order_by("-number").first()
    if latest is not None and latest.fingerprint == rendered.fingerprint:
        return latest
    revision = Revision.objects.create(
        document=document,
        number=(latest.number + 1) if latest else 1,
        reason=reason,
        title=document.title,
        html=rendered.html,
        context=rendered.context_json,
        html_sha256=rendered.html_sha256,
        context_sha256=rendered.context_sha256,
        fingerprint=rendered.fingerprint,
        created_by=actor,
    )
    audit.record(
        "document.revision_frozen",
        document,
        actor=actor,
        data={"revision": revision.number, "fingerprint": revision.fingerprint, "reason": reason},
    )
    request_pdf(document, html=revision.html, title=revision.title, revision=revision)
    return revision


def _new_document(
    deal: Deal,
    *,
    kind: str,
    language: str,
    title: str,
    actor: User | None,
    parent: Document | None = None,
    selection: dict | None = None,
    schedule: list | None = None,
    number: int | None = None,
    number_year: int | None = None,
    sequence: int = 1,
) -> Document:
    template = defaults.template_for(kind, language)
    document = Document(
        deal=deal,
        kind=kind,
        language=language,
        template=template,
        title=title[:300],
        source=template.source,
        payment_schedule=list(schedule if schedule is not None else template.payment_schedule),
        parent=parent,
        selection=selection or {},
        number=number,
        number_year=number_year,
        sequence=sequence,
        created_by=actor,
        issued_on=timezone.localdate(),
    )
    document.issue_token()
    document.save()
    audit.record("document.created", document, actor=actor, data={"kind": kind, "deal": deal.pk})
    return document


def document_language(deal: Deal) -> str:
    """Documents speak the estimate's language (its line names are in it), else the
    studio's client language."""
    estimate = estimates.saved_estimate(deal)
    language = estimate.language if estimate else Studio.load().locale
    return language if language in defaults.LANGUAGES else Studio.load().locale


# Validity of proposals ---------------------------------------------------------------------


def long_date(day: date) -> str:
    """The date as the client reads it, in the active language."""
    return _long_date(day, translation.get_language() or Studio.load().locale)


def studio_today() -> date:
    """Today in the studio's time zone: a proposal is valid to the end of its last day there."""
    return timezone.now().astimezone(studio_zone()).date()


def default_valid_until(today: date | None = None) -> date:
    """The studio's validity (Settings → Studio, "proposals valid for") from today."""
    return (today or studio_today()) + timedelta(days=Studio.load().proposal_valid_days)


def is_expired(document: Document, today: date | None = None) -> bool:
    """A proposal not accepted whose last valid day has passed in the studio's time zone."""
    return (
        document.kind == Kind.PROPOSAL
        and document.valid_until is not None
        and document.status != Document.Status.ACCEPTED
        and (today or studio_today()) > document.valid_until
    )


def note_expired(document: Document) -> bool:
    """True if the proposal has expired. The first time, it is recorded and
    ``proposal.expired`` is emitted (the manager is told); later calls change nothing."""
    with transaction.atomic():
        locked = Document.objects.select_for_update().select_related("deal").get(pk=document.pk)
        if not is_expired(locked):
            return False
        if locked.expired_at is None:
            locked.expired_at = timezone.now()
            locked.save(update_fields=["expired_at"])
            audit.record(
                "document.expired",
                locked,
                actor=None,
                data={"valid_until": locked.valid_until.isoformat()},
            )
            events.emit(
                events.PROPOSAL_EXPIRED,
                locked.deal,
                subject=locked,
                payload={"valid_until": locked.valid_until.isoformat()},
            )
    document.valid_until, document.expired_at = locked.valid_until, locked.expired_at
    return True


def expire_proposals(limit: int = 500) -> int:
    """The periodic job: notice every sent proposal of an open deal whose validity has passed
    (once each)."""
    candidates = Document.objects.filter(
        kind=Kind.PROPOSAL,
        deal__closed_at__isnull=True,  # a lost or won deal's old offer tells nobody anything
        status__in=[Document.Status.SENT, Document.Status.CHANGED],
        valid_until__lt=studio_today(),
        expired_at__isnull=True,
    ).order_by("valid_until", "pk")
    return sum(note_expired(document) for document in list(candidates[:limit]))


def request_new_proposal(document: Document, *, request_meta: RequestMeta) -> bool:
    """The client of an expired proposal asks for a new one: the manager gets the request as a
    question (a task and an email). Asking again before a new version is sent adds
    nothing (False)."""
    if not note_expired(document):
        raise DocumentError(_("This proposal can still be accepted."))
    with transaction.atomic():
        locked = Document.objects.select_for_update().select_related("deal").get(pk=document.pk)
        already = locked.deal.events.filter(
            name=events.DOCUMENT_QUESTION,
            object_type="documents.document",
            object_id=str(locked.pk),
            payload__renewal=True,
            at__gte=locked.expired_at,
        ).exists()
    if already:
        return False
    contact = locked.deal.contact
    with translation.override(locked.language):
        text = _("The proposal expired on %(date)s. Please send me a new one.") % {
            "date": long_date(locked.valid_until)
        }
    ask_question(
        locked,
        name=contact.name if contact else "",
        email=contact.email if contact else "",
        text=text,
        request_meta=request_meta,
        renewal=True,
    )
    return True


# Creating -----------------------------------------------------------------------------------


def proposal_of(deal: Deal) -> Document | None:
    return (
        Document.objects.filter(deal=deal, kind=Kind.PROPOSAL)
        .order_by("-created_at", "-pk")
        .first()
    )


def contract_of(deal: Deal) -> Document | None:
    return (
        Document.objects.filter(deal=deal, kind=Kind.CONTRACT)
        .order_by("-created_at", "-pk")
        .first()
    )


def create_proposal(deal: Deal, *, actor: User | None) -> Document:
    """The deal's proposal, made from the studio's template and the saved estimate in one
    click. A deal that has a proposal already gets that one back (a double click makes one)."""
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        _check_can_edit(actor, locked)
        existing = proposal_of(locked)
        if existing is not None:
            return existing
        language = document_language(locked)
        if not estimate_data.DealEstimate(locked, language).exists:
            raise NoEstimate(
                _("Save an estimate for this deal first; the proposal is made from it.")
            )
        with translation.override(language):
            title = _("Proposal: %(deal)s") % {"deal": estimate_data.project_title(locked)}
        return _new_document(
            locked, kind=Kind.PROPOSAL, language=language, title=title, actor=actor
        )


def _issue_contract(proposal: Document, acceptance: Acceptance) -> Document:
    """Contract and appendix from the accepted option, with the next contract number (taken
    in this transaction, so numbers stay gapless). An unsent contract follows a newer
    acceptance; a sent one is left alone."""
    deal = proposal.deal
    selection = {
        "option": acceptance.selection.get("option", ""),
        "optional": list(acceptance.selection.get("optional", [])),
    }
    existing = contract_of(deal)
    if existing is not None:
        if existing.status == Document.Status.DRAFT:
            Document.objects.filter(pk=existing.pk).update(selection=selection)
            Document.objects.filter(parent=existing, kind=Kind.APPENDIX).update(selection=selection)
        return existing
    year = timezone.localdate().year
    number = next_number("contract", year)
    language = proposal.language
    with translation.override(language):
        contract_title = _("Contract No. %(number)s") % {"number": f"{number}/{year}"}
        appendix_title = _("Appendix No. %(sequence)s to contract No. %(number)s") % {
            "sequence": 1,
            "number": f"{number}/{year}",
        }
    contract = _new_document(
        deal,
        kind=Kind.CONTRACT,
        language=language,
        title=contract_title,
        actor=None,
        parent=proposal,
        selection=selection,
        schedule=proposal.payment_schedule,
        number=number,
        number_year=year,
    )
    _new_document(
        deal,
        kind=Kind.APPENDIX,
        language=language,
        title=appendix_title,
        actor=None,
        parent=contract,
        selection=selection,
        schedule=proposal.payment_schedule,
        sequence=1,
    )
    events.emit(events.CONTRACT_ISSUED, deal, subject=contract)
    return contract


def set_review_task(contract: Document, task: Task | None) -> None:
    """Remember the manager's "review and send" task, closed when the contract is sent."""
    contract.review_task = task
    contract.save(update_fields=["review_task"])


def create_act(deal: Deal, *, actor: User | None) -> Document:
    """An acceptance act for the deal's signed contract (Act No. <contract>-<n>)."""
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        _check_can_edit(actor, locked)
        contract = signed_contract(locked)
        if contract is None:
            raise DocumentError(_("An acceptance act needs a signed contract."))
        sequence = Document.objects.filter(parent=contract, kind=Kind.ACT).count() + 1
        with translation.override(contract.language):
            title = _("Acceptance act No. %(number)s-%(sequence)s") % {
                "number": contract.display_number,
                "sequence": sequence,
            }
        return _new_document(
            locked,
            kind=Kind.ACT,
            language=contract.language,
            title=title,
            actor=actor,
            parent=contract,
            selection=dict(contract.selection),
            schedule=contract.payment_schedule,
            sequence=sequence,
        )


# Editing ------------------------------------------------------------------------------------


def check_source(source: str, context: dict[str, Any]) -> str:
    """Render source against a context; the HTML, or TemplateInvalid with line and reason."""
    try:
        return sandbox.render_source(source, context)
    except sandbox.TemplateProblem as problem:
        raise TemplateInvalid(problem) from problem


def update_document(
    document: Document,
    *,
    actor: User,
    title: str,
    source: str,
    schedule: list[dict[str, Any]],
) -> Document:
    """Save the manager's edit. The client sees it on their next reload. Editing a document
    the client has accepted leaves the accepted revision untouched and marks the document
    "changed": the new version needs its own acceptance once sent."""
    try:
        schedule = validate_schedule(schedule)
    except ScheduleError as error:
        raise DocumentError(str(error)) from error
    with transaction.atomic():
        locked = Document.objects.select_for_update().select_related("deal").get(pk=document.pk)
        _check_can_edit(actor, locked.deal)
        accepted = latest_acceptance(locked) if locked.status == Document.Status.ACCEPTED else None
        locked.title = title.strip()[:300] or locked.title
        locked.source = source
        locked.payment_schedule = schedule
        rendered = _render(locked)
        fields = ["title", "source", "payment_schedule", "updated_at"]
        if accepted is not None and rendered.fingerprint != accepted.revision_fingerprint:
            locked.status = Document.Status.CHANGED
            fields.append("status")
        locked.save(update_fields=fields)
        audit.record(
            "document.updated",
            locked,
            actor=actor,
            data={"fingerprint": rendered.fingerprint, "status": locked.status},
        )
    return locked


# Sending ------------------------------------------------------------------------------------


def _contact_email(deal: Deal) -> str:
    return (deal.contact.email if deal.contact else "").strip()


def send_document(
    document: Document, *, actor: User | None, valid_until: date | None = None
) -> Revision:
    """Freeze the current version and emit ``document.sent``: the reactions email the
    client its link and move the deal forward (a proposal to ``proposal_sent``, a contract
    to ``contract_sent``).

    A contract goes out together with its appendices (one email, a link each). Sending an
    unchanged version again sends nothing new (same revision, same dedupe key) — except a
    proposal that had expired: sending renews its validity and the client hears again.

    A proposal is valid until ``valid_until`` (the manager's date), else the date it had if
    that has not passed, else the studio's default from today.
    """
    with transaction.atomic():
        locked = (
            Document.objects.select_for_update(of=("self",))
            .select_related("deal", "deal__contact")
            .get(pk=document.pk)
        )
        deal = locked.deal
        _check_can_edit(actor, deal)
        if locked.kind == Kind.APPENDIX and locked.parent_id:
            parent = Document.objects.get(pk=locked.parent_id)
            if parent.status == Document.Status.DRAFT:
                raise DocumentError(_("An appendix is sent together with its contract."))
        if locked.status == Document.Status.ACCEPTED:
            raise DocumentError(_("The client has accepted this version already."))
        recipient = _contact_email(deal)
        if not recipient:
            raise NoRecipient(_("The deal's contact has no email address. Add one first."))
        documents = [locked]
        if locked.kind == Kind.CONTRACT:
            documents += list(
                Document.objects.select_for_update()
                .filter(parent=locked, kind=Kind.APPENDIX)
                .exclude(status=Document.Status.ACCEPTED)
                .order_by("sequence", "pk")
            )
        renewed = False
        if locked.kind == Kind.PROPOSAL:
            today = studio_today()
            renewed = locked.expired_at is not None or is_expired(locked, today)
            if valid_until is not None:
                if valid_until < today:
                    raise DocumentError(_("The proposal cannot be valid until a past date."))
                locked.valid_until = valid_until
            elif locked.valid_until is None or locked.valid_until < today:
                locked.valid_until = default_valid_until(today)
            locked.expired_at = None
        revisions = []
        now = timezone.now()
        for item in documents:
            item.deal = deal
            revision = _freeze(item, _render(item), reason=Revision.Reason.SENT, actor=actor)
            revisions.append(revision)
            if item.revoked_at is not None or not _token_derivable(item):
                # A revoked link, or one no key derives any more (SECRET_KEY changed without
                # a fallback): the email carries a fresh link.
                item.issue_token()
                item.revoked_at = None
            item.status = Document.Status.SENT
            item.sent_at = now
            item.save(
                update_fields=[
                    "status", "sent_at", "token_hash", "token_salt", "revoked_at",
                    "valid_until", "expired_at",
                ]
            )  # fmt: skip
            audit.record("document.sent", item, actor=actor, data={"revision": revision.number})
        events.emit(
            events.DOCUMENT_SENT,
            deal,
            actor=actor,
            subject=locked,
            payload={
                "to": recipient,
                "documents": [item.pk for item in documents],
                "revisions": [revision.pk for revision in revisions],
                **(
                    {"valid_until": locked.valid_until.isoformat(), "renewed": renewed}
                    if locked.valid_until
                    else {}
                ),
            },
        )
    return revisions[0]


def revoke_link(document: Document, *, actor: User) -> Document:
    """Stop the client's link from working (a new send issues a fresh one)."""
    with transaction.atomic():
        locked = Document.objects.select_for_update().select_related("deal").get(pk=document.pk)
        _check_can_edit(actor, locked.deal)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit.record("document.link_revoked", locked, actor=actor)
    return locked


# The client's side --------------------------------------------------------------------------


def record_first_view(document: Document) -> None:
    """Called once, the first time the client opens the document's page."""
    with transaction.atomic():
        events.emit(events.DOCUMENT_FIRST_VIEWED, document.deal, subject=document)


def mark_viewed(document: Document) -> None:
    Document.objects.filter(pk=document.pk).update(last_viewed_at=timezone.now())


def accept_document(
    document: Document,
    *,
    fingerprint: str,
    signer: Signer,
    request_meta: RequestMeta,
    selection: dict[str, Any] | None = None,
) -> Acceptance:
    """The client accepts (signs) the version they read, identified by its fingerprint.

    Fails with StaleRevision if the document changed since the page was rendered, with
    AlreadyAccepted if this version is accepted (also for the loser of two simultaneous
    clicks: the document row is locked and a revision has one acceptance at most), and with
    NotOpenForAcceptance for a document not sent. Accepting a proposal moves the deal to
    ``proposal_accepted``, sets the deal's amount to the total of the option and extras
    the client accepted, and issues the contract and appendix; signing the contract and all
    its appendices moves it to ``contract_signed``.
    """
    name = " ".join(signer.name.split())[:200]
    email = signer.email.strip()[:254]
    if len(name) < 2 or "@" not in email:
        raise DocumentError(_("Type your full name and email address."))
    if document.kind == Kind.PROPOSAL and note_expired(document):
        # Noticed in its own transaction, so the manager hears of it although this fails.
        raise ProposalExpired(document.valid_until)
    with transaction.atomic():
        locked = Document.objects.select_for_update().select_related("deal").get(pk=document.pk)
        if not locked.link_is_usable or locked.status == Document.Status.DRAFT:
            raise NotOpenForAcceptance(_("This document is not open for acceptance."))
        if locked.status == Document.Status.ACCEPTED:
            raise AlreadyAccepted(latest_acceptance(locked))
        if is_expired(locked):  # midnight passed since the check above
            raise ProposalExpired(locked.valid_until)
        rendered = _render(locked)
        if rendered.fingerprint != fingerprint:
            raise StaleRevision()
        chosen = _selection_record(locked, selection)
        revision = _freeze(locked, rendered, reason=Revision.Reason.ACCEPTED, actor=None)
        if Acceptance.objects.filter(revision=revision).exists():
            raise AlreadyAccepted(latest_acceptance(locked))
        accepted_at = timezone.now()
        text = consent_text(locked.language, locked.kind)
        record = {
            "document": {"id": locked.pk, "kind": locked.kind, "title": locked.title},
            "revision": {
                "number": revision.number,
                "html_sha256": revision.html_sha256,
                "context_sha256": revision.context_sha256,
                "fingerprint": revision.fingerprint,
            },
            "signer": {"name": name, "email": email},
            "consent": {"version": CONSENT_VERSION, "text": text},
            "accepted_at": accepted_at.astimezone(UTC).isoformat(),
            "ip": request_meta.ip or "",
            "user_agent": request_meta.user_agent[:500],
            "selection": chosen,
        }
        record_json = canonical_json(record)
        try:
            with transaction.atomic():
                acceptance = _create_acceptance(
                    locked,
                    revision,
                    signer=Signer(name, email),
                    consent=text,
                    accepted_at=accepted_at,
                    request_meta=request_meta,
                    selection=chosen,
                    record_json=record_json,
                )
        except IntegrityError as error:
            raise AlreadyAccepted(latest_acceptance(locked)) from error
        locked.status = Document.Status.ACCEPTED
        locked.save(update_fields=["status"])
        audit.record(
            "document.accepted",
            locked,
            actor=None,
            data={"revision": revision.number, "fingerprint": revision.fingerprint, "by": name},
        )
        deal = locked.deal
        acceptance.document = locked
        if locked.kind == Kind.PROPOSAL:
            _issue_contract(locked, acceptance)
            # The deal is worth what the client accepted (another option, extras), as
            # priced on the server for the signature record, not the main option.
            events.emit(
                events.PROPOSAL_ACCEPTED,
                deal,
                subject=acceptance,
                payload={"total": chosen.get("total", "")},
            )
        else:
            events.emit(events.DOCUMENT_SIGNED, deal, subject=acceptance)
            contract = locked if locked.kind == Kind.CONTRACT else locked.parent
            if (
                locked.kind in (Kind.CONTRACT, Kind.APPENDIX)
                and contract is not None
                and _contract_fully_signed(contract)
            ):
                events.emit(events.CONTRACT_SIGNED, deal, subject=contract)
    return acceptance


def _create_acceptance(
    document: Document,
    revision: Revision,
    *,
    signer: Signer,
    consent: str,
    accepted_at: Any,
    request_meta: RequestMeta,
    selection: dict[str, Any],
    record_json: str,
) -> Acceptance:
    """The acceptance row of one revision (unique: a second one raises IntegrityError)."""
    return Acceptance.objects.create(
        document=document,
        revision=revision,
        signer_name=signer.name,
        signer_email=signer.email,
        consent_text=consent,
        consent_version=CONSENT_VERSION,
        accepted_at=accepted_at,
        ip=request_meta.ip or None,
        user_agent=request_meta.user_agent[:500],
        revision_fingerprint=revision.fingerprint,
        selection=selection,
        record=record_json,
        record_sha256=sha256_text(record_json),
    )


def appendices_to_sign_with(contract: Document) -> list[Document]:
    """The sent appendices of a contract still waiting for the client's signature: the
    contract's page lets the client sign them together with it."""
    if contract.kind != Kind.CONTRACT:
        return []
    return list(
        contract.children.filter(
            kind=Kind.APPENDIX, status__in=[Document.Status.SENT, Document.Status.CHANGED]
        ).order_by("sequence", "pk")
    )


def accept_together(
    contract: Document,
    *,
    fingerprints: dict[int, str],
    signer: Signer,
    request_meta: RequestMeta,
) -> list[Acceptance]:
    """The client signs a contract and its appendices in one act: one record, one consent,
    covering every part's revision hash; each part gets its acceptance row carrying that same
    record (so each part's certificate shows them all).

    ``fingerprints`` maps each part's id (the contract's included) to the fingerprint of the
    version the client read. The rows are locked in id order, so a concurrent acceptance of
    one part waits; two simultaneous joint signatures make one (AlreadyAccepted for the
    other). An appendix already signed on its own is left as it is.
    """
    name = " ".join(signer.name.split())[:200]
    email = signer.email.strip()[:254]
    if len(name) < 2 or "@" not in email:
        raise DocumentError(_("Type your full name and email address."))
    with transaction.atomic():
        rows = {
            row.pk: row
            for row in Document.objects.select_for_update()
            .select_related("deal")
            .filter(pk__in=sorted(fingerprints))
            .order_by("pk")
        }
        main = rows.get(contract.pk)
        if main is None or main.kind != Kind.CONTRACT or len(rows) != len(fingerprints):
            raise NotOpenForAcceptance(_("This document is not open for acceptance."))
        appendices = sorted(
            (row for row in rows.values() if row.pk != main.pk), key=lambda row: row.sequence
        )
        for part in [main, *appendices]:
            if part is not main and (part.kind != Kind.APPENDIX or part.parent_id != main.pk):
                raise NotOpenForAcceptance(_("This document is not open for acceptance."))
            if not part.link_is_usable or part.status == Document.Status.DRAFT:
                raise NotOpenForAcceptance(_("This document is not open for acceptance."))
        if main.status == Document.Status.ACCEPTED:
            raise AlreadyAccepted(latest_acceptance(main))
        parts = [main, *(row for row in appendices if row.status != Document.Status.ACCEPTED)]
        rendered = {part.pk: _render(part) for part in parts}
        if any(rendered[part.pk].fingerprint != fingerprints[part.pk] for part in parts):
            raise StaleRevision()
        revisions = {
            part.pk: _freeze(part, rendered[part.pk], reason=Revision.Reason.ACCEPTED, actor=None)
            for part in parts
        }
        if Acceptance.objects.filter(revision__in=revisions.values()).exists():
            raise AlreadyAccepted(latest_acceptance(main))
        accepted_at = timezone.now()
        text = consent_text(main.language, main.kind, together=True)
        record = {
            "documents": [
                {
                    "document": {"id": part.pk, "kind": part.kind, "title": part.title},
                    "revision": {
                        "number": revisions[part.pk].number,
                        "html_sha256": revisions[part.pk].html_sha256,
                        "context_sha256": revisions[part.pk].context_sha256,
                        "fingerprint": revisions[part.pk].fingerprint,
                    },
                }
                for part in parts
            ],
            "signer": {"name": name, "email": email},
            "consent": {"version": CONSENT_VERSION, "text": text},
            "accepted_at": accepted_at.astimezone(UTC).isoformat(),
            "ip": request_meta.ip or "",
            "user_agent": request_meta.user_agent[:500],
            "selection": {},
        }
        record_json = canonical_json(record)
        acceptances = []
        try:
            with transaction.atomic():
                for part in parts:
                    acceptances.append(
                        _create_acceptance(
                            part,
                            revisions[part.pk],
                            signer=Signer(name, email),
                            consent=text,
                            accepted_at=accepted_at,
                            request_meta=request_meta,
                            selection={},
                            record_json=record_json,
                        )
                    )
        except IntegrityError as error:
            raise AlreadyAccepted(latest_acceptance(main)) from error
        for part in parts:
            part.status = Document.Status.ACCEPTED
            part.save(update_fields=["status"])
            audit.record(
                "document.accepted",
                part,
                actor=None,
                data={
                    "revision": revisions[part.pk].number,
                    "fingerprint": revisions[part.pk].fingerprint,
                    "by": name,
                    "together_with": [other.pk for other in parts if other is not part],
                },
            )
        acceptances[0].document = main
        events.emit(
            events.DOCUMENT_SIGNED,
            main.deal,
            subject=acceptances[0],
            payload={"together": [part.pk for part in parts[1:]]},
        )
        if _contract_fully_signed(main):
            events.emit(events.CONTRACT_SIGNED, main.deal, subject=main)
    return acceptances


def _contract_fully_signed(contract: Document) -> bool:
    parts = [contract, *Document.objects.filter(parent=contract, kind=Kind.APPENDIX)]
    return all(part.status == Document.Status.ACCEPTED for part in parts)


def _selection_record(document: Document, selection: dict[str, Any] | None) -> dict[str, Any]:
    """What the client chose, cleaned and priced on the server (never the client's totals)."""
    if document.kind != Kind.PROPOSAL:
        return {}
    deal_estimate = estimate_data.DealEstimate(document.deal, document.language)
    if not deal_estimate.exists:
        return {}
    clean = deal_estimate.clean_selection(selection)
    chosen = deal_estimate.chosen(clean)
    if chosen is None:
        return {}
    names = {line["id"]: line["name"] for line in chosen["optional_lines"]}
    return {
        "option": clean["option"],
        "option_name": chosen["name"],
        "optional": clean["optional"],
        "optional_names": [names.get(item, item) for item in clean["optional"]],
        "total": format(chosen["total"], "f"),
        "tax": format(chosen["tax"], "f"),
        "days": chosen["days"],
        "currency": deal_estimate.estimate.currency if deal_estimate.estimate else "",
    }


def ask_question(
    document: Document,
    *,
    name: str,
    email: str,
    text: str,
    request_meta: RequestMeta,
    renewal: bool = False,
) -> None:
    """The client's question about a document: an email to the manager (reply goes to the
    client) and a note plus a task on the deal."""
    text = text.strip()[:QUESTION_MAX_LENGTH]
    name = " ".join(name.split())[:200]
    email = email.strip()[:254]
    if not text:
        raise DocumentError(_("Write your question."))
    with transaction.atomic():
        deal = Deal.objects.select_related("manager").get(pk=document.deal_id)
        with translation.override(Studio.load().locale):
            note_text = _("Question from %(who)s about “%(title)s”:\n\n%(text)s") % {
                "who": name or email or _("the client"),
                "title": document.title,
                "text": text,
            }
        note = deal_services.add_note(deal, note_text, actor=None)  # type: ignore[arg-type]
        audit.record(
            "document.question",
            document,
            actor=None,
            data={"note": note.pk, "ip": request_meta.ip or ""},
        )
        document.deal = deal
        events.emit(
            events.DOCUMENT_QUESTION,
            deal,
            subject=document,
            payload={
                "note": note.pk,
                "text": text,
                "name": name,
                "email": email,
                **({"renewal": True} if renewal else {}),
            },
        )


# Templates ----------------------------------------------------------------------------------


def update_template(
    template: DocumentTemplate,
    *,
    actor: User,
    name: str,
    source: str,
    schedule: list[dict[str, Any]],
) -> DocumentTemplate:
    """Save the owner's edit of a template after it renders on the sample deal. Documents
    already made keep their own copy."""
    if not actor.is_owner:
        raise NotAllowed(_("Only an owner can change document templates."))
    try:
        schedule = validate_schedule(schedule)
    except ScheduleError as error:
        raise DocumentError(str(error)) from error
    check_source(source, defaults.sample_context(template.kind, template.language))
    with transaction.atomic():
        locked = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
        before = (locked.name, locked.source, locked.payment_schedule)
        locked.name = name.strip()[:200] or locked.name
        locked.source = source
        locked.payment_schedule = schedule
        locked.updated_by = actor
        locked.save(
            update_fields=["name", "source", "payment_schedule", "updated_by", "updated_at"]
        )
        audit.record(
            "document_template.updated",
            locked,
            actor=actor,
            data={"kind": locked.kind, "changes": _template_changes(before, locked)},
        )
    return locked


def _template_changes(
    before: tuple[str, str, list[dict[str, Any]]], template: DocumentTemplate
) -> dict[str, Any]:
    """The audit record of a template edit: the name as text, the source by fingerprint
    (it is long), the payment schedule's steps."""
    name, source, schedule = before
    changes: dict[str, Any] = {}
    if name != template.name:
        changes["name"] = {"from": name, "to": template.name}
    if source != template.source:
        changes["source"] = {
            "from": audit.text_fingerprint(source),
            "to": audit.text_fingerprint(template.source),
        }
    if schedule != template.payment_schedule:
        changes["payment_schedule"] = {"from": schedule, "to": template.payment_schedule}
    return changes


def reset_template(template: DocumentTemplate, *, actor: User) -> DocumentTemplate:
    """Put the shipped default text back."""
    if not actor.is_owner:
        raise NotAllowed(_("Only an owner can change document templates."))
    with transaction.atomic():
        locked = DocumentTemplate.objects.select_for_update().get(pk=template.pk)
        previous = locked.source
        locked.source = defaults.default_source(locked.kind, locked.language)
        locked.updated_by = actor
        locked.save(update_fields=["source", "updated_by", "updated_at"])
        audit.record(
            "document_template.reset",
            locked,
            actor=actor,
            data={
                "kind": locked.kind,
                "changes": {
                    "source": {
                        "from": audit.text_fingerprint(previous),
                        "to": audit.text_fingerprint(locked.source),
                    }
                },
            },
        )
    return locked


# PDF ----------------------------------------------------------------------------------------


def request_pdf(
    document: Document, *, html: str, title: str, revision: Revision | None = None
) -> PdfFile:
    """The PDF for this exact HTML: the cached one, or a new row whose rendering is enqueued
    after commit. A request stuck for PENDING_PDF_RETRY (a lost task), or failed that long
    ago, is enqueued again."""
    digest = sha256_text(html)
    pdf = PdfFile.objects.filter(document=document, html_sha256=digest).first()
    enqueue = False
    if pdf is None:
        try:
            with transaction.atomic():
                pdf = PdfFile.objects.create(
                    document=document,
                    html_sha256=digest,
                    html=html,
                    title=title[:300],
                    revision=revision,
                )
            enqueue = True
        except IntegrityError:
            pdf = PdfFile.objects.get(document=document, html_sha256=digest)
    elif (
        pdf.status in (PdfFile.Status.PENDING, PdfFile.Status.FAILED)
        and pdf.requested_at < timezone.now() - PENDING_PDF_RETRY
    ):
        # A lost task, or a failure that may have passed (a full disk): print it again.
        PdfFile.objects.filter(pk=pdf.pk, status=pdf.status).update(
            requested_at=timezone.now(), status=PdfFile.Status.PENDING
        )
        pdf.status = PdfFile.Status.PENDING
        enqueue = True
    if enqueue:
        pdf_id = pdf.pk
        transaction.on_commit(lambda: _enqueue_pdf(pdf_id))
    return pdf


def _enqueue_pdf(pdf_id: int) -> None:
    try:
        render_pdf.enqueue(pdf_id)
    except Exception:  # the next request for the PDF enqueues it again
        log.exception("could not enqueue PDF %s", pdf_id)
