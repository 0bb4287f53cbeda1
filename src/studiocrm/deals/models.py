from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
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
# The client paid an invoice (the deposit): the deal is won and the project is in work.
IN_WORK = "in_work"
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
    IN_WORK: _("In work"),
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
    # How likely an open deal at this stage is to be won, in percent: weighs the pipeline
    # and the forecast in analytics. The studio sets it; won is 100 and lost 0 by nature.
    probability = models.PositiveSmallIntegerField(
        _("win probability, %"), default=0, validators=[MaxValueValidator(100)]
    )

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

    @property
    def is_active(self) -> bool:
        """Open, or won and still in work: the deal is not finished."""
        return self.kind == self.Kind.OPEN or self.code == IN_WORK


class Source(models.TextChoices):
    WEBSITE = "website", _("Website form")
    API = "api", _("Integration (API)")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone call")
    REFERRAL = "referral", _("Referral")
    MESSENGER = "messenger", _("Messenger")
    OTHER = "other", _("Other")


# Lost reasons the studio starts with; the names are translated until the studio renames one.
DEFAULT_LOST_REASONS = {
    "price": _("Too expensive"),
    "competitor": _("Chose another studio"),
    "no_budget": _("No budget yet"),
    "postponed": _("Postponed"),
    "no_response": _("Client stopped answering"),
    "not_our_work": _("Not our kind of work"),
    "other": _("Other"),
}
OTHER_LOST_REASON = "other"


class LostReason(models.Model):
    """A reason from the studio's list, picked when a deal is lost. The manager's own words
    stay beside it on the deal as a comment (Deal.lost_reason)."""

    code = models.SlugField(max_length=32, unique=True, null=True, blank=True)
    name = models.CharField(
        _("name"), max_length=100, blank=True, help_text=_("Leave empty for the default name.")
    )
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name or str(DEFAULT_LOST_REASONS.get(self.code or "", self.code or ""))


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
    lost_reason_choice = models.ForeignKey(
        LostReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
        verbose_name=_("reason"),
    )
    # Where the lead came from, as the intake form or API reported it.
    utm_source = models.CharField("utm_source", max_length=100, blank=True)
    utm_medium = models.CharField("utm_medium", max_length=100, blank=True)
    utm_campaign = models.CharField("utm_campaign", max_length=100, blank=True)
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
            # The board's columns: the first cards of a stage and the next ones after a
            # keyset cursor are short ranges of this index, whatever the column holds.
            models.Index(fields=["stage", "-updated_at", "-id"], name="deal_stage_updated_idx"),
            # The board's column counts and sums read this index alone, not the rows.
            models.Index(
                fields=["stage", "currency", "estimated_amount", "expected_amount"],
                name="deal_stage_amounts_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("deals:detail", args=[self.pk])

    @property
    def title_is_cut(self) -> bool:
        """Intake cuts a long first message into the title with "…": such a title is for
        the manager's board and never goes to a client."""
        return self.title.rstrip().endswith("…")

    def project_title(self, fallback: str = "") -> str:
        """The title a client reads in documents and emails: the deal's own unless it was cut
        from a message, else ``fallback`` (the estimate's title), else the client's name."""
        if self.title.strip() and not self.title_is_cut:
            return self.title
        return fallback.strip() or self.client.name

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
        indexes = [
            # A deal's history in order (analytics' time in stage, the deal page), and the
            # moves into a stage by time (won, signed, proposal sent).
            models.Index(fields=["deal", "at", "id"], name="deals_change_deal_at_idx"),
            models.Index(fields=["to_stage", "at"], name="deals_change_stage_at_idx"),
        ]

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
