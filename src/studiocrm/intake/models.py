from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from studiocrm.core.fields import EncryptedTextField
from studiocrm.deals.models import Source
from studiocrm.portal.files import PrivateStorage


class ApiKey(models.Model):
    """A key an integration uses to post leads to the JSON API.

    Only the SHA-256 of the secret is stored; the full key is shown once, right after it is
    created. The prefix is public: it finds the row and tells the owner which key is which.
    """

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Lead(models.Model):
    """What an anonymous visitor or an integration sent, kept on the deal it opened as it was
    given. A lead never changes an existing contact: where it disagrees with the contact it
    matched, a ``ContactChange`` waits for a manager's decision.

    ``fingerprint`` is the SHA-256 of the lead's fields: a retry with the same idempotency key
    and another body is told apart from a true replay by it.
    """

    deal = models.OneToOneField(
        "deals.Deal", on_delete=models.CASCADE, related_name="lead", verbose_name=_("deal")
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    name = models.CharField(_("name"), max_length=200)
    email = models.CharField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    fingerprint = models.CharField(max_length=64)
    contact_created = models.BooleanField(default=False)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.source})"


class ContactChange(models.Model):
    """A change to an existing contact that a lead suggests ("the lead gave email X for this
    contact"): applied only when a manager accepts it."""

    class Field(models.TextChoices):
        EMAIL = "email", _("email")
        PHONE = "phone", _("phone")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for a decision")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="contact_changes")
    contact = models.ForeignKey(
        "clients.Contact", on_delete=models.CASCADE, related_name="proposed_changes"
    )
    field = models.CharField(max_length=16, choices=Field.choices)
    value = models.CharField(max_length=254)
    # What the contact had when the lead came in, shown beside the proposal.
    current_value = models.CharField(max_length=254, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.contact_id}.{self.field} → {self.value} ({self.status})"


# --- Applications from email -----------------------------------------------------------


class Mailbox(models.Model):
    """The studio's mailbox that applications arrive in (one per installation), read over
    IMAP with TLS by the periodic job ``intake.mailbox.poll_mailbox``. The password is
    encrypted at rest; the mailbox is changed only by setting ``processed_flag``."""

    enabled = models.BooleanField(_("read this mailbox"), default=False)
    host = models.CharField(_("IMAP server"), max_length=255, blank=True)
    port = models.PositiveIntegerField(_("port"), default=993)
    username = models.CharField(_("user name"), max_length=255, blank=True)
    password = EncryptedTextField(_("password"), blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    processed_flag = models.CharField(
        _("flag for processed messages"),
        max_length=64,
        default="$StudiocrmProcessed",
        help_text=_(
            r"\Seen marks them read; a keyword such as $StudiocrmProcessed leaves them unread."
        ),
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("mailbox")

    def __str__(self) -> str:
        return f"{self.username}@{self.host}"

    @classmethod
    def load(cls) -> Mailbox:
        mailbox, _created = cls.objects.get_or_create(pk=1)
        return mailbox


class InboundEmail(models.Model):
    """One message read from the mailbox, kept raw, processed once: ``(uidvalidity, uid)``
    and the Message-ID are unique, so a message read twice (a crash between the commit and
    setting the flag, or the same letter in two folders) changes nothing the second time."""

    class Outcome(models.TextChoices):
        LEAD = "lead", _("opened a deal")
        REPLY = "reply", _("added to a deal")
        AUTO_REPLY = "auto_reply", _("auto-reply, ignored")
        BOUNCE = "bounce", _("bounce, ignored")
        MALFORMED = "malformed", _("unreadable, kept raw")
        REFUSED = "refused", _("not a lead (see the problem)")

    uidvalidity = models.BigIntegerField()
    uid = models.BigIntegerField()
    message_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    from_address = models.CharField(_("from"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    problem = models.TextField(_("problem"), blank=True)
    deal = models.ForeignKey(
        "deals.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    raw = models.FileField(storage=PrivateStorage(), upload_to="mail/raw/")
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["uidvalidity", "uid"], name="inbound_email_uid")
        ]

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


class EmailAttachment(models.Model):
    email = models.ForeignKey(InboundEmail, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    file = models.FileField(storage=PrivateStorage(), upload_to="mail/files/")

    def __str__(self) -> str:
        return self.name
