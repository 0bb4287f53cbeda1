"""One email message → what it means for the CRM: a new lead, a reply on a deal, or nothing.

Parsing is lenient (``email.policy.default``) and every problem is written down rather than
raised: a message that cannot be read is kept raw and listed on the mailbox page. Replies
are found by their thread (In-Reply-To / References naming a message we received or sent)
or by a deal reference ``[#D-123]`` in the subject. Auto-replies (Auto-Submitted,
X-Autoreply, Precedence bulk/junk/list) and bounces (multipart/report, MAILER-DAEMON) open
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

DEAL_REFERENCE = re.compile(r"\[#D-(\d{1,12})\]")
OUTBOX_MESSAGE_ID = re.compile(r"<outbox-(\d+)@studiocrm>")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
# Charsets worth trying when a part names none or names a wrong one, in this order.
FALLBACK_CHARSETS = ("utf-8", "cp1251", "koi8-r")
TEXT_MAX = 10_000
ATTACHMENT_MAX = 10 * 1024 * 1024


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedEmail:
    message_id: str = ""
    from_name: str = ""
    from_address: str = ""
    subject: str = ""
    text: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    auto_reply: bool = False
    bounce: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def deal_reference(self) -> int | None:
        match = DEAL_REFERENCE.search(self.subject)
        return int(match.group(1)) if match else None


def _header(message: EmailMessage, name: str, problems: list[str]) -> str:
    try:
        value = message.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except Exception as error:  # noqa: BLE001 - a broken header is reported, not fatal
        problems.append(f"header {name}: {error}")
        raw = message.get_all(name, failobj=[None])[0] if hasattr(message, "get_all") else None
        return str(raw or "")


def _decode_part(part: EmailMessage, problems: list[str]) -> str:
    payload = part.get_payload(decode=True) or b""
    declared = part.get_content_charset()
    for charset in ([declared] if declared else []) + list(FALLBACK_CHARSETS):
        try:
            text = payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
        if charset != declared:
            problems.append(f"text charset {declared or 'not declared'}, read as {charset}")
        return text
    problems.append("text undecodable, shown with replacement characters")
    return payload.decode("utf-8", errors="replace")


def _html_to_text(html: str) -> str:
    from django.utils.html import strip_tags

    text = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
    return strip_tags(text)


def parse(raw: bytes) -> ParsedEmail:
    """Read a message as leniently as possible, noting every problem."""
    parsed = ParsedEmail()
    problems = parsed.problems
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if message.defects:
        problems.extend(type(defect).__name__ for defect in message.defects)
    parsed.message_id = (MESSAGE_ID.findall(_header(message, "Message-ID", problems)) or [""])[0]
    name, address = parseaddr(_header(message, "From", problems))
    parsed.from_name = name.strip()
    try:
        validate_email(address)
        parsed.from_address = address.strip()
    except ValidationError:
        problems.append("no valid From address")
    parsed.subject = _header(message, "Subject", problems)[:300]
    parsed.references = MESSAGE_ID.findall(
        _header(message, "In-Reply-To", problems) + " " + _header(message, "References", problems)
    )
    auto = _header(message, "Auto-Submitted", problems).lower()
    precedence = _header(message, "Precedence", problems).lower()
    parsed.auto_reply = bool(
        (auto and auto != "no")
        or message.get("X-Autoreply")
        or message.get("X-Autorespond")
        or precedence in ("bulk", "junk", "list", "auto_reply")
    )
    sender = address.split("@")[0].lower()
    parsed.bounce = message.get_content_type() == "multipart/report" or sender in BOUNCE_SENDERS
    plain: list[str] = []
    html: list[str] = []
    try:
        parts = list(message.walk())
    except Exception as error:  # noqa: BLE001
        problems.append(f"MIME structure: {error}")
        parts = []
    for part in parts:
        if part.defects and part is not message:
            problems.extend(type(defect).__name__ for defect in part.defects)
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        content_type = part.get_content_type()
        if disposition == "attachment" or (filename and disposition != "inline"):
            data = part.get_payload(decode=True) or b""
            if len(data) > ATTACHMENT_MAX:
                problems.append(
                    f"attachment {filename} larger than {ATTACHMENT_MAX} bytes, not kept"
                )
                continue
            safe = re.sub(r"[^\w.\- ]", "_", filename or "attachment")[:200] or "attachment"
            parsed.attachments.append(Attachment(safe, content_type[:100], data))
        elif content_type == "text/plain":
            plain.append(_decode_part(part, problems))
        elif content_type == "text/html":
            html.append(_html_to_text(_decode_part(part, problems)))
    text = "\n\n".join(plain) if plain else "\n\n".join(html)
    parsed.text = text.replace("\x00", "").strip()[:TEXT_MAX]
    parsed.problems = list(dict.fromkeys(problems))
    return parsed
