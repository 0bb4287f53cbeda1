"""The one way services write to the audit log."""

from __future__ import annotations

from typing import Any

from django.db import models

from studiocrm.core.models import AuditLog, User


def record(
    verb: str, obj: models.Model, *, actor: User | None, data: dict[str, Any] | None = None
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor,
        actor_label=str(actor) if actor else "system",
        verb=verb,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        data=data or {},
    )
