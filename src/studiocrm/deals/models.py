from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Built-in stage codes. Code refers to stages by these codes; the names the studio sees are
# data (Stage.name) and may be renamed. An empty name shows the translated default below.
NEW = "new"
BRIEF_SENT = "brief_sent"
BRIEF_RECEIVED = "brief_received"
ESTIMATED = "estimated"
PROPOSAL_SENT = "proposal_sent"
PROPOSAL_ACCEPTED = "proposal_accepted"
CONTRACT_SENT = "contract_sent"
CONTRACT_SIGNED = "contract_signed"
INVOICED = "invoiced"
PAID = "paid"
LOST = "lost"

# An open deal with no stage move for this many days is idle: marked on the board and listed
# in the manager's morning digest.
IDLE_DAYS = 7

DEFAULT_STAGE_NAMES = {
    NEW: _("New"),
    BRIEF_SENT: _("Brief sent"),
    BRIEF_RECEIVED: _("Brief received"),
    ESTIMATED: _("Estimated"),
    PROPOSAL_SENT: _("Proposal sent"),
    PROPOSAL_ACCEPTED: _("Proposal accepted"),
    CONTRACT_SENT: _("Contract sent"),
    CONTRACT_SIGNED: _("Contract signed"),
    INVOICED: _("Invoiced"),
    PAID: _("Paid"),
    LOST: _("Lost"),
}


class Stage(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    code = models.SlugField(primary_key=True, max_length=32)
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("Leave empty for the default name.")
    )
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.OPEN)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name or str(DEFAULT_STAGE_NAMES.get(self.code, self.code))

    @property
    def is_open(self) -> bool:
        return self.kind == self.Kind.OPEN


class Source(models.TextChoices):
    WEBSITE = "website", _("Website form")
    API = "api", _("Integration (API)")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    REFERRAL = "referral", _("Referral")
    MESSENGER = "messenger", _("Messenger")
    OTHER = "other", _("Other")


class DealQuerySet(models.QuerySet["Deal"]):
    def open(self) -> DealQuerySet:
        return self.filter(stage__kind=Stage.Kind.OPEN)


class Deal(models.Model):
    """One application, from intake to payment."""

    title = models.CharField(_("title"), max_length=300)
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="deals", verbose_name=_("client")
    )
    contact = models.ForeignKey(
        "clients.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("contact"),
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
        verbose_name=_("responsible manager"),
    )
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.OTHER
    )
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="deals", default=NEW, verbose_name=_("stage")
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    expected_amount = models.DecimalField(
        _("expected amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    estimated_amount = models.DecimalField(
        _("estimated amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    description = models.TextField(_("request"), blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=300, blank=True)
    # Idempotency key of the intake submission that opened the deal: a double submit
    # finds the same deal instead of opening a second one.
    intake_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = DealQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["stage", "-stage_changed_at"]),
            models.Index(fields=["manager", "stage"]),
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["source"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("deals:detail", args=[self.pk])

    @property
    def amount(self) -> Decimal | None:
        """The best known value: the estimate once there is one, else the expectation."""
        return self.estimated_amount if self.estimated_amount is not None else self.expected_amount


class StageChange(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class Task(models.Model):
    """A manager reminder: something to do by a time, usually about a deal."""

    title = models.CharField(_("task"), max_length=300)
    due_at = models.DateTimeField(_("due"))
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="tasks",
        verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["done", "due_at"]
        indexes = [models.Index(fields=["assignee", "done", "due_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return not self.done and self.due_at < timezone.now()


class Note(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]


class Event(models.Model):
    """Something that happened on a deal, named in the vocabulary of ``deals.events``.

    Written by the service that made it happen, in that service's transaction, and handed
    to the reactions (the ``flow`` app) by an explicit call. Append-only: the deal's
    history for automation, analytics, the API and the timeline.
    """

    # Empty only for a personal task's reminder that belongs to no deal.
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    name = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["deal", "at"]),
            models.Index(fields=["name", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.name}"
