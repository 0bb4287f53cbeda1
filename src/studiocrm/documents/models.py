"""Document templates, documents (live links), revisions (frozen snapshots) and acceptances.

A ``Document`` is live: its page renders its own copy of the template source against the
deal's current data, so an edit shows on the client's next F5. Sending or accepting freezes a
``Revision``: the rendered HTML and the exact data it came from, with SHA-256 of both. An
``Acceptance`` (simple electronic signature) points at one revision and is never changed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from studiocrm.portal.files import PrivateStorage
from studiocrm.portal.links import ClientLink


class Kind(models.TextChoices):
    PROPOSAL = "proposal", _("Proposal")
    CONTRACT = "contract", _("Contract")
    APPENDIX = "appendix", _("Appendix (specification)")
    ACT = "act", _("Acceptance act")


_SENT, _ACCEPTED, _CHANGED = "sent", "accepted", "changed"
STATUS_LABELS = {
    (Kind.PROPOSAL, _SENT): pgettext_lazy("proposal status", "Sent"),
    (Kind.PROPOSAL, _ACCEPTED): pgettext_lazy("proposal status", "Accepted"),
    (Kind.PROPOSAL, _CHANGED): pgettext_lazy("proposal status", "Changed after acceptance"),
    (Kind.CONTRACT, _SENT): pgettext_lazy("contract status", "Sent"),
    (Kind.CONTRACT, _ACCEPTED): pgettext_lazy("contract status", "Signed"),
    (Kind.CONTRACT, _CHANGED): pgettext_lazy("contract status", "Changed after signing"),
    (Kind.APPENDIX, _SENT): pgettext_lazy("appendix status", "Sent"),
    (Kind.APPENDIX, _ACCEPTED): pgettext_lazy("appendix status", "Signed"),
    (Kind.APPENDIX, _CHANGED): pgettext_lazy("appendix status", "Changed after signing"),
    (Kind.ACT, _SENT): pgettext_lazy("act status", "Sent"),
    (Kind.ACT, _ACCEPTED): pgettext_lazy("act status", "Signed"),
    (Kind.ACT, _CHANGED): pgettext_lazy("act status", "Changed after signing"),
}


class ImmutableRecord(Exception):
    """A frozen revision or a signature record cannot be changed or deleted."""


class DocumentTemplate(models.Model):
    """The studio's HTML with placeholders for one kind of document in one language."""

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    name = models.CharField(_("name"), max_length=200)
    source = models.TextField(_("template"))
    # Default payment schedule for documents made from this template:
    # [{"label": str, "percent": "50", "due_days": 3}, ...]; percents add up to 100.
    payment_schedule = models.JSONField(_("payment schedule"), default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["kind", "language"]
        verbose_name = _("document template")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "language"], name="unique_document_template_kind_language"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("documents:template_edit", args=[self.pk])


class Document(ClientLink):
    """One document of a deal that the client reads (and accepts) through its link."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        CHANGED = "changed", _("Changed after acceptance")

    deal = models.ForeignKey(
        "deals.Deal", on_delete=models.PROTECT, related_name="documents", verbose_name=_("deal")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    template = models.ForeignKey(
        DocumentTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(_("title"), max_length=300)
    source = models.TextField(_("template"))
    payment_schedule = models.JSONField(_("payment schedule"), default=list, blank=True)
    # The contract an appendix or act belongs to; the proposal a contract came from.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # Contracts: a gapless number per year (core.numbering series "contract").
    number = models.PositiveIntegerField(null=True, blank=True)
    number_year = models.PositiveIntegerField(null=True, blank=True)
    # Position among the parent's children of the same kind (Appendix No. 1, Act No. 1).
    sequence = models.PositiveSmallIntegerField(default=1)
    issued_on = models.DateField(_("date"), default=timezone.localdate)
    # Contracts and appendices: what the client chose in the proposal
    # {"option": str, "optional": [str, ...]}. Empty for a proposal (the client picks).
    selection = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # The manager's "review and send" reminder for a generated contract; sending closes it.
    review_task = models.ForeignKey(
        "deals.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_viewed_at = models.DateTimeField(_("last viewed at"), null=True, blank=True)
    # Proposals: the last day (in the studio's time zone) the client may accept it, and when
    # its expiry was noticed (the manager told once; sending again renews it).
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("document")
        indexes = [models.Index(fields=["deal", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["number_year", "number"],
                condition=models.Q(kind="contract", number__isnull=False),
                name="unique_contract_number",
            )
        ]

    @property
    def status_label(self) -> str:
        """The status as people say it of this kind of document: a proposal is accepted, a
        contract, appendix or act is signed; in Russian the word agrees with the
        document's gender ("Предложение принято", "Договор подписан")."""
        return str(STATUS_LABELS.get((self.kind, self.status), self.get_status_display()))

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("documents:detail", args=[self.pk])

    @property
    def display_number(self) -> str:
        """The human number: "12/2026" for a contract; appendices and acts use their
        contract's number."""
        if self.number is not None and self.number_year is not None:
            return f"{self.number}/{self.number_year}"
        if self.parent_id and self.kind in (Kind.APPENDIX, Kind.ACT):
            return self.parent.display_number
        return ""

    @property
    def needs_acceptance(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.CHANGED)


class Revision(models.Model):
    """A frozen snapshot of a document: exactly what was sent or accepted.

    ``context`` is kept as text (canonical JSON) rather than a JSON column so that its bytes,
    and therefore its SHA-256, survive any database round trip. ``fingerprint`` is
    SHA-256 of ``"<html_sha256>\\n<context_sha256>\\n"``: the one hash a signature refers to.
    """

    class Reason(models.TextChoices):
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("version"))
    reason = models.CharField(max_length=10, choices=Reason.choices)
    title = models.CharField(max_length=300)
    html = models.TextField()
    context = models.TextField()
    html_sha256 = models.CharField(max_length=64)
    context_sha256 = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="unique_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.document_id} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableRecord("A revision is frozen.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecord("A revision is frozen.")


class Acceptance(models.Model):
    """A simple electronic signature: who accepted which revision, when and from where.

    ``record`` is the canonical JSON of every field below (what the certificate shows);
    ``record_sha256`` its hash. One acceptance per revision (a unique constraint), so two
    simultaneous clicks make exactly one.
    """

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="acceptances")
    revision = models.OneToOneField(Revision, on_delete=models.PROTECT, related_name="acceptance")
    signer_name = models.CharField(_("full name"), max_length=200)
    signer_email = models.EmailField(_("email"))
    consent_text = models.TextField()
    consent_version = models.CharField(max_length=20)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    revision_fingerprint = models.CharField(max_length=64)
    # What the client chose on the page (proposals): option, optional items, totals as strings.
    selection = models.JSONField(default=dict, blank=True)
    record = models.TextField()
    record_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["accepted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.signer_name} · {self.revision}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ImmutableRecord("An acceptance is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecord("An acceptance is never changed.")


def _pdf_path(instance: PdfFile, filename: str) -> str:
    return f"documents/{instance.document_id}/{instance.html_sha256}.pdf"


class PdfFile(models.Model):
    """The PDF of one exact HTML (a revision or the current draft), rendered by a task and
    kept: the same content is never rendered twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Preparing")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="pdfs")
    html_sha256 = models.CharField(max_length=64)
    # The exact HTML to print, captured when the PDF was asked for, so the task renders what
    # the reader saw even if the draft has changed since.
    html = models.TextField()
    title = models.CharField(max_length=300)
    revision = models.ForeignKey(
        Revision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(storage=PrivateStorage(), upload_to=_pdf_path, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    rendered_at = models.DateTimeField(null=True, blank=True)
    render_ms = models.PositiveIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "html_sha256"], name="unique_pdf_per_html")
        ]

    def __str__(self) -> str:
        return f"{self.document_id}/{self.html_sha256[:12]} ({self.status})"
