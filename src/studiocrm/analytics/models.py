from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class AnalyticsSettings(models.Model):
    """The studio's targets the reports measure against (one row)."""

    new_lead_sla_minutes = models.PositiveIntegerField(
        _("first response to a new lead within, minutes"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 14)],
    )

    class Meta:
        verbose_name = _("analytics settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def load(cls) -> "AnalyticsSettings":
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings
