"""The one setting analytics owns. Stage probabilities and lost reasons belong to deals
(deals.services.set_stage_probabilities / save_lost_reason)."""

from __future__ import annotations

from django.db import transaction

from studiocrm.analytics.models import AnalyticsSettings
from studiocrm.core import audit
from studiocrm.core.models import User


def set_new_lead_sla(minutes: int, *, actor: User) -> AnalyticsSettings:
    with transaction.atomic():
        AnalyticsSettings.load()
        settings = AnalyticsSettings.objects.select_for_update().get(pk=1)
        if settings.new_lead_sla_minutes != minutes:
            audit.record(
                "analytics.sla_set",
                settings,
                actor=actor,
                data={"from": settings.new_lead_sla_minutes, "to": minutes},
            )
            settings.new_lead_sla_minutes = minutes
            settings.save(update_fields=["new_lead_sla_minutes"])
    return settings
