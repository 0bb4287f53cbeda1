"""How the audit page names the deals app's actions; stage codes and managers by name."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from studiocrm.core.models import User
from studiocrm.deals.models import Stage

VERBS = {
    "model:deals.stage": _("Stage"),
    "model:deals.deal": _("Deal"),
    "model:deals.task": _("Task"),
    "model:deals.note": _("Note"),
    "deal.created": _("Created the deal"),
    "deal.updated": _("Changed the deal"),
    "deal.stage_changed": _("Moved the deal to another stage"),
    "deal.assigned": _("Assigned the deal"),
    "deal.note_added": _("Added a note"),
    "deal.estimated_amount_set": _("Set the estimated amount"),
    "stage.renamed": _("Renamed a stage"),
    "task.created": _("Added a task"),
    "task.done": _("Completed a task"),
    "task.reopened": _("Reopened a task"),
}


def format_value(verb: str, key: str, value: Any, memo: dict[str, Any]) -> str | None:
    if verb == "deal.stage_changed" and key in {"from", "to"} and value:
        if "stages" not in memo:
            memo["stages"] = {stage.pk: str(stage) for stage in Stage.objects.all()}
        return memo["stages"].get(value, str(value))
    if verb == "deal.assigned" and key in {"from", "to"}:
        if value is None:
            return str(_("nobody"))
        if "users" not in memo:
            memo["users"] = {user.pk: str(user) for user in User.objects.all()}
        return memo["users"].get(value, f"#{value}")
    return None
