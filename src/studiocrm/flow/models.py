"""What the studio configures about its automatic letters and reminders, and their timers.

- ``MessageTemplate``: one letter (``key`` from ``flow.catalog``) in one language: subject,
  HTML body, and an optional hand-written plain-text version (else generated from the HTML).
- ``Rule``: when an event happens (and, for a timer, after a delay while a condition still
  holds), do one action: email the client, notify the manager, create a task, move the deal
  forward or issue the next invoice of the payment schedule.
- ``Timer``: one pending firing of a rule for one event. Rows in the database, so they
  survive restarts; claimed with a conditional UPDATE, so several workers share them.
- ``DealPause``: "this client wants no reminders" for one deal.
- ``KickoffItem`` / ``Checklist`` / ``ChecklistItem``: the studio's "what to prepare" list
  and each deal's copy, which the client ticks on a page behind a link.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from studiocrm.portal.links import ClientLink


class MessageTemplate(models.Model):
    key = models.CharField(_("letter"), max_length=64)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=300)
    body_html = models.TextField(_("text of the letter"))
    body_text = models.TextField(
        _("plain-text version"),
        blank=True,
        help_text=_("Leave empty to make it from the letter above."),
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["key", "language"]
        constraints = [
            models.UniqueConstraint(fields=["key", "language"], name="unique_message_key_language")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.language})"


class Rule(models.Model):
    class Unit(models.TextChoices):
        BUSINESS_HOURS = "business_hours", _("business hours")
        BUSINESS_DAYS = "business_days", _("business days")
        DAYS = "days", _("calendar days")

    class Anchor(models.TextChoices):
        EVENT = "event", _("after the event")
        DUE_DATE = "due_date", _("from the invoice's due date")
        VALID_UNTIL = "valid_until", _("from the proposal's last valid day")

    class Action(models.TextChoices):
        EMAIL_CLIENT = "email_client", _("Email the client")
        NOTIFY_MANAGER = "notify_manager", _("Notify the manager")
        CREATE_TASK = "create_task", _("Create a task for the manager")
        ADVANCE_DEAL = "advance_deal", _("Move the deal forward")
        ISSUE_NEXT_INVOICE = "issue_next_invoice", _("Issue the next invoice of the schedule")

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    enabled = models.BooleanField(_("enabled"), default=True)
    order = models.PositiveSmallIntegerField(default=0)
    event = models.CharField(_("when"), max_length=64)
    kind = models.CharField(
        _("only for"),
        max_length=32,
        blank=True,
        help_text=_("The kind of document the event is about (proposal, contract), if any."),
    )
    delay = models.IntegerField(_("delay"), default=0)
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices, default=Unit.DAYS)
    anchor = models.CharField(
        _("counted"), max_length=16, choices=Anchor.choices, default=Anchor.EVENT
    )
    condition = models.CharField(_("while"), max_length=64, default="always")
    stage = models.CharField(_("only in stage"), max_length=32, blank=True)
    min_amount = models.DecimalField(
        _("only from amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    language = models.CharField(
        _("only for language"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    action = models.CharField(_("then"), max_length=32, choices=Action.choices)
    template_key = models.CharField(_("letter"), max_length=64, blank=True)
    task_title = models.CharField(_("task"), max_length=200, blank=True)
    task_due_hours = models.PositiveIntegerField(_("task due in, hours"), default=4)
    target_stage = models.CharField(_("move to stage"), max_length=32, blank=True)
    quiet_hours = models.BooleanField(
        _("only in working hours"),
        default=True,
        help_text=_("Letters wait for the studio's working hours on business days."),
    )

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name


class Timer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Not needed")
        FAILED = "failed", _("Failed")

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="timers")
    deal = models.ForeignKey("deals.Deal", on_delete=models.CASCADE, related_name="timers")
    event = models.ForeignKey("deals.Event", on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    claimed_until = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "event"], name="unique_timer_rule_event")
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.rule} @ {self.due_at:%Y-%m-%d %H:%M} ({self.status})"


class DealPause(models.Model):
    deal = models.OneToOneField("deals.Deal", on_delete=models.CASCADE, related_name="pause")
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    paused_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"pause {self.deal_id}"


class Notification(models.Model):
    """Something a client did that a manager should see: the bell in the top bar."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    deal = models.ForeignKey(
        "deals.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    event = models.ForeignKey(
        "deals.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="unique_notification_event")
        ]

    def __str__(self) -> str:
        return self.text


class ManagerChannels(models.Model):
    """How a manager wants to hear from the studio besides the bell."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channels"
    )
    telegram_chat_id = models.CharField(
        _("Telegram chat id"),
        max_length=32,
        blank=True,
        help_text=_("Write to the studio's bot, then paste the chat id it tells you."),
    )
    morning_digest = models.BooleanField(_("morning digest by email"), default=True)
    time_zone = models.CharField(
        _("your time zone"),
        max_length=64,
        blank=True,
        help_text=_("Empty: the studio's. The digest arrives at 8:00 here."),
    )

    def __str__(self) -> str:
        return f"channels of {self.user_id}"


class KickoffItem(models.Model):
    """One line of the studio's "what to prepare" list, per language (Settings → Letters →
    Kickoff checklist). Each deal's checklist copies the lines when the deposit arrives."""

    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    text = models.CharField(_("item"), max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["language", "position", "pk"]

    def __str__(self) -> str:
        return self.text


class Checklist(ClientLink):
    """The client's kickoff checklist for one deal, ticked on its own page (/c/k/<token>/)."""

    deal = models.OneToOneField("deals.Deal", on_delete=models.CASCADE, related_name="checklist")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"checklist {self.deal_id}"


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(Checklist, on_delete=models.CASCADE, related_name="items")
    text = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text
