from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from studiocrm.deals.models import Source


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
