from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner / admin")
        MANAGER = "manager", _("Manager")

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MANAGER)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default=""
    )
    # Raised by "log out everywhere": every session signed with an older value ends.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER or self.is_superuser

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """What a session is signed with: the password hash (so a password change ends
        the other sessions) and the session generation (so "log out everywhere" does)."""
        if not self.session_generation:
            # Sessions opened before generations existed stay valid.
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "studiocrm.core.User.session_auth_hash",
            f"{self.password}\x00{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class Studio(models.Model):
    """The studio this installation belongs to (one per installation, pk=1)."""

    class TaxMode(models.TextChoices):
        NO_VAT = "no_vat", _("No VAT")
        VAT_INCLUDED = "vat_included", _("VAT included in prices")
        VAT_ON_TOP = "vat_on_top", _("VAT added on top")

    class Assignment(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin between managers")
        DEFAULT_MANAGER = "default_manager", _("Always the default manager")

    name = models.CharField(_("studio name"), max_length=200, default="My studio")
    legal_name = models.CharField(_("legal name"), max_length=300, blank=True)
    tax_id = models.CharField(_("tax ID"), max_length=32, blank=True)
    registration_number = models.CharField(_("registration number"), max_length=32, blank=True)
    address = models.TextField(_("legal address"), blank=True)
    email = models.EmailField(_("contact email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.URLField(_("website"), blank=True)
    bank_name = models.CharField(_("bank name"), max_length=200, blank=True)
    bank_account = models.CharField(_("bank account / IBAN"), max_length=64, blank=True)
    bank_code = models.CharField(_("BIC / SWIFT"), max_length=32, blank=True)
    correspondent_account = models.CharField(_("correspondent account"), max_length=32, blank=True)
    logo = models.ImageField(_("logo"), upload_to="studio/", blank=True)
    default_currency = models.CharField(_("default currency"), max_length=3, default="RUB")
    locale = models.CharField(
        _("language of client documents"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    tax_mode = models.CharField(
        _("tax mode"), max_length=16, choices=TaxMode.choices, default=TaxMode.NO_VAT
    )
    vat_rate = models.DecimalField(_("VAT rate, %"), max_digits=5, decimal_places=2, default=0)
    proposal_valid_days = models.PositiveSmallIntegerField(
        _("proposals valid for, days"),
        default=14,
        help_text=_("A proposal can be accepted until this many days after it is sent."),
    )
    assignment_rule = models.CharField(
        _("new leads go to"),
        max_length=20,
        choices=Assignment.choices,
        default=Assignment.ROUND_ROBIN,
    )
    default_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("default manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_assigned_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("studio")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def load(cls) -> Studio:
        """The studio row; inside a request, the one the middleware loaded for it."""
        current = _current_studio.get()
        if current is not None:
            return current
        studio, _created = cls.objects.get_or_create(pk=1)
        return studio


# The studio of the request being served (set by core.middleware.StudioTimezoneMiddleware),
# so the many places that need studio settings share one row per request.
_current_studio: ContextVar[Studio | None] = ContextVar("current_studio", default=None)


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogImmutable(_("The audit log is append-only."))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutable(_("The audit log is append-only."))


class AuditLogImmutable(Exception):
    pass


class AuditLog(models.Model):
    """Append-only record of who did what. Written by services, never changed."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    verb = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    # The chain (core.audit): SHA-256 of the previous row's hash and this row's content.
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditLogImmutable(_("The audit log is append-only."))
        if not self.hash:
            # Only core.audit.record links a row into the chain; a row saved any other way
            # would break it for every row after.
            raise AuditLogImmutable("Write audit rows with core.audit.record().")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutable(_("The audit log is append-only."))


class AuditChainHead(models.Model):
    """The end of the audit chain (one row, pk=1): the last row's id and hash.

    Appending locks this row, so concurrent writers form one chain; comparing it with the
    last audit row shows rows removed from the end."""

    last_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64, blank=True)
    length = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.length} rows, head {self.last_hash[:12]}"


class Sequence(models.Model):
    """A gapless counter per series and year, taken under a row lock (see core.numbering)."""

    series = models.CharField(max_length=32)
    year = models.PositiveIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "year"], name="unique_sequence_series_year")
        ]

    def __str__(self) -> str:
        return f"{self.series}/{self.year}: {self.last_value}"
