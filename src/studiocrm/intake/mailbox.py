"""Applications from email: the periodic job that reads the studio's mailbox over IMAP/TLS.

Why here: reading mail is lead intake, like the form and the API, and a new application
must go through ``services.submit_lead`` (manager picked by the studio's rule and emailed,
contact matched, idempotency key) which lives in this app. A reply on an existing deal
becomes a note plus the ``email.received`` event; ``flow`` (above) reacts to it by emailing
the manager and ringing the bell, so nothing here sends mail.

Each message is handled in its own transaction and recorded under its (UIDVALIDITY, UID)
and Message-ID; only after that commits is the processed flag set on the server. The
mailbox is changed by that flag alone (bodies are fetched with BODY.PEEK, so \\Seen is not
set unless it is the chosen flag). If the server goes away mid-read, what was committed
stays and the rest is read on the next run; a message committed whose flag was not set is
recognised by its UID and only flagged.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from studiocrm.core import audit
from studiocrm.core.models import User
from studiocrm.deals import events
from studiocrm.deals.models import Deal, Note, Source
from studiocrm.intake import mail
from studiocrm.intake.models import EmailAttachment, InboundEmail, Mailbox
from studiocrm.intake.services import InvalidLead, LeadData, submit_lead
from studiocrm.notifications.models import Outbox

log = logging.getLogger(__name__)
FLAG_RE = re.compile(r"\\Seen|\$?[A-Za-z0-9_]{1,60}")
FETCH_LIMIT = 200  # messages per run; the rest wait for the next run
TIMEOUT = 30


class MailboxError(Exception):
    """Connecting, logging in or reading failed; the message is shown on the mailbox page."""


@dataclass
class PollResult:
    seen: int = 0
    processed: int = 0
    skipped: int = 0


def tls_context() -> ssl.SSLContext:
    """Verified TLS; ``MAILBOX_CA_FILE`` adds a CA (a studio's own server, the tests)."""
    context = ssl.create_default_context()
    ca_file = getattr(settings, "MAILBOX_CA_FILE", "")
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def search_criteria(flag: str) -> str:
    return "UNSEEN" if flag.lower() == "\\seen" else f"UNKEYWORD {flag}"


def poll_mailbox() -> PollResult | None:
    """The periodic job (settings.PERIODIC_JOBS). Does nothing unless a mailbox is enabled.
    Safe in several workers: a message is claimed by its unique (UIDVALIDITY, UID) row."""
    mailbox = Mailbox.load()
    if not mailbox.enabled or not mailbox.host:
        return None
    try:
        result = read_mailbox(mailbox)
    except (MailboxError, OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
        log.warning("mailbox: %s", error)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_error=str(error)[:1000], last_checked_at=timezone.now()
        )
        return None
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error="", last_checked_at=timezone.now())
    return result


def read_mailbox(mailbox: Mailbox) -> PollResult:
    if not FLAG_RE.fullmatch(mailbox.processed_flag):
        raise MailboxError(f"bad flag {mailbox.processed_flag!r}")
    result = PollResult()
    try:
        imap = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=tls_context(), timeout=TIMEOUT
        )
    except (TimeoutError, OSError) as error:
        raise MailboxError(f"cannot connect to {mailbox.host}:{mailbox.port}: {error}") from error
    try:
        imap.login(mailbox.username, mailbox.password)
        status, _data = imap.select(_quote(mailbox.folder))
        if status != "OK":
            raise MailboxError(f"no folder {mailbox.folder!r}")
        uidvalidity = int((imap.response("UIDVALIDITY")[1] or [b"0"])[0])
        status, data = imap.uid("SEARCH", search_criteria(mailbox.processed_flag))
        if status != "OK":
            raise MailboxError("search failed")
        uids = [int(uid) for uid in (data[0] or b"").split()][:FETCH_LIMIT]
        for uid in uids:
            result.seen += 1
            if InboundEmail.objects.filter(uidvalidity=uidvalidity, uid=uid).exists():
                result.skipped += 1
            else:
                raw, size = _fetch(imap, uid)
                if process_message(raw, uidvalidity=uidvalidity, uid=uid, size=size) is None:
                    result.skipped += 1
                else:
                    result.processed += 1
            imap.uid("STORE", str(uid), "+FLAGS", f"({mailbox.processed_flag})")
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            imap.logout()
    return result


def message_limit() -> int:
    return getattr(settings, "MAILBOX_MAX_MESSAGE_BYTES", 25 * 1024 * 1024)


def _fetch(imap: imaplib.IMAP4, uid: int) -> tuple[bytes, int]:
    """The whole message, or only its header when it is larger than the limit (the size
    comes first, so a 500 MB letter is never downloaded)."""
    status, data = imap.uid("FETCH", str(uid), "(RFC822.SIZE)")
    match = re.search(rb"RFC822\.SIZE (\d+)", data[0] if data and data[0] else b"")
    if status != "OK" or match is None:
        raise MailboxError(f"cannot fetch message {uid}")
    size = int(match.group(1))
    part = "BODY.PEEK[HEADER]" if size > message_limit() else "BODY.PEEK[]"
    status, parts = imap.uid("FETCH", str(uid), f"({part})")
    raw = _body(parts)
    if status != "OK" or raw is None:
        raise MailboxError(f"cannot fetch message {uid}")
    return raw, size


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _body(parts: list) -> bytes | None:
    for part in parts or []:
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
            return part[1]
    return None


def find_thread_deal(parsed: mail.ParsedEmail) -> Deal | None:
    """The deal a reply belongs to: a deal reference in the subject, else a message in
    In-Reply-To/References that we received (an earlier email) or sent (an outbox letter)."""
    reference = parsed.deal_reference
    if reference is not None:
        deal = Deal.objects.filter(pk=reference).first()
        if deal is not None:
            return deal
    if not parsed.references:
        return None
    earlier = (
        InboundEmail.objects.filter(message_id__in=parsed.references, deal__isnull=False)
        .select_related("deal")
        .first()
    )
    if earlier is not None:
        return earlier.deal
    outbox_ids = [
        int(match.group(1))
        for reference in parsed.references
        if (match := mail.OUTBOX_MESSAGE_ID.fullmatch(reference))
    ]
    sent = Outbox.objects.filter(pk__in=outbox_ids, deal__isnull=False).first()
    return Deal.objects.filter(pk=sent.deal_id).first() if sent else None


def process_message(
    raw: bytes, *, uidvalidity: int, uid: int, size: int | None = None
) -> InboundEmail | None:
    """Record one message and act on it, in one transaction. Returns None when it was
    processed before (same UID or the same Message-ID). A message over the size limit comes
    as its header only: it is kept and reported, and opens nothing."""
    oversized = size is not None and size > message_limit()
    saved: list[EmailAttachment] = []
    try:
        parsed = mail.parse(raw)
    except Exception as error:  # noqa: BLE001 - an unparseable message is kept and reported
        parsed = mail.ParsedEmail(problems=[f"cannot parse: {error}"])
    try:
        with transaction.atomic():
            record = InboundEmail(
                uidvalidity=uidvalidity,
                uid=uid,
                message_id=parsed.message_id or None,
                from_address=parsed.from_address,
                subject=parsed.subject,
                problem="; ".join(parsed.problems)[:2000],
            )
            record.raw.save(f"{uidvalidity}-{uid}.eml", ContentFile(raw), save=False)
            if oversized:
                record.note_id = None
                record.outcome = InboundEmail.Outcome.REFUSED
                record.problem = (
                    f"message of {size} bytes is over the limit of {message_limit()}; "
                    "only its header is kept"
                )
            else:
                record.outcome = _act(record, parsed)
            record.save()
            for attachment in parsed.attachments if record.deal_id else []:
                stored = EmailAttachment(
                    email=record,
                    name=attachment.name,
                    content_type=attachment.content_type,
                    size=len(attachment.data),
                )
                stored.file.save(attachment.name, ContentFile(attachment.data), save=False)
                saved.append(stored)
                stored.save()
            if record.deal_id and record.outcome == InboundEmail.Outcome.REPLY:
                events.emit(
                    events.EMAIL_RECEIVED,
                    record.deal,
                    subject=record,
                    payload={
                        "from": parsed.from_address,
                        "subject": parsed.subject,
                        "note": record.note_id,
                    },
                )
            audit.record(
                "intake.email_received",
                record,
                actor=None,
                data={
                    "outcome": record.outcome,
                    "deal": record.deal_id,
                    "uid": uid,
                    "problem": bool(record.problem),
                },
            )
    except IntegrityError:
        # The same UID or Message-ID committed already (another worker, a second copy).
        for name in [record.raw.name, *(stored.file.name for stored in saved)]:
            if name:
                record.raw.storage.delete(name)
        return None
    return record


def _note_text(parsed: mail.ParsedEmail) -> str:
    lines = [f"✉ {parsed.from_name} <{parsed.from_address}>".replace("  ", " ")]
    if parsed.subject:
        lines.append(parsed.subject)
    if parsed.attachments:
        lines.append("📎 " + ", ".join(attachment.name for attachment in parsed.attachments))
    return "\n".join(lines) + "\n\n" + (parsed.text or "—")


def _act(record: InboundEmail, parsed: mail.ParsedEmail) -> str:
    record.note_id = None
    if parsed.bounce:
        return InboundEmail.Outcome.BOUNCE
    if parsed.auto_reply:
        return InboundEmail.Outcome.AUTO_REPLY
    if not parsed.from_address:
        return InboundEmail.Outcome.MALFORMED
    deal = find_thread_deal(parsed)
    if deal is not None:
        record.deal = deal
        note = Note.objects.create(deal=deal, author=None, text=_note_text(parsed))
        record.note_id = note.pk
        return InboundEmail.Outcome.REPLY
    name = parsed.from_name or parsed.from_address.split("@")[0]
    try:
        result = submit_lead(
            LeadData(
                name=name[:200],
                email=parsed.from_address,
                message=(parsed.subject + "\n\n" + parsed.text).strip()[:5000],
            ),
            source=Source.EMAIL,
            idempotency_key=parsed.message_id or f"uid:{record.uidvalidity}:{record.uid}",
        )
    except InvalidLead as error:
        record.problem = "; ".join(filter(None, [record.problem, str(error)]))[:2000]
        return InboundEmail.Outcome.REFUSED
    record.deal = result.deal
    note = Note.objects.create(deal=result.deal, author=None, text=_note_text(parsed))
    record.note_id = note.pk
    return InboundEmail.Outcome.LEAD


def save_mailbox(mailbox: Mailbox, changes: dict, *, actor: User) -> Mailbox:
    """Store the mailbox settings; an empty password keeps the stored one. Audited by field
    name, never the password."""
    with transaction.atomic():
        locked = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        changed = []
        for name, value in changes.items():
            if name == "password" and not value:
                continue
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        if changed:
            locked.save(update_fields=changed)
        audit.record("intake.mailbox_saved", locked, actor=actor, data={"fields": changed})
    return locked
