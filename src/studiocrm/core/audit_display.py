"""The audit log as people read it: "Changed the client — Email: a@x → b@y", translated.

Each app describes its own verbs in an ``audit_labels`` module (found like ``admin.py``):

    VERBS = {"deal.created": _("Created the deal"), ...}
    # also "model:deals.deal": _("Deal") for a model without a translated verbose name,
    # and "field:reason": _("Reason") for a data key that is not such a model field
    def format_value(verb, key, value, memo) -> str | None: ...   # optional: codes to names

``memo`` is a dict shared by one page's rows, for loading lookups once.

Field names come from the model's verbose names, so they are translated where the model is.
A verb nobody describes is shown as it is stored, never hidden.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import NoReverseMatch
from django.utils.functional import Promise
from django.utils.module_loading import autodiscover_modules
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from studiocrm.core.models import AuditLog

ValueFormatter = Callable[[str, str, Any, dict[str, Any]], "str | None"]


@dataclass
class Detail:
    label: str
    text: str = ""
    before: str = ""
    after: str = ""

    @property
    def is_change(self) -> bool:
        return bool(self.before or self.after) and not self.text


@dataclass
class Entry:
    row: AuditLog
    actor: str
    action: str
    object_label: str
    object_url: str = ""
    details: list[Detail] = field(default_factory=list)


@cache
def _registry() -> tuple[dict[str, Any], list[ValueFormatter]]:
    verbs: dict[str, Any] = {}
    formatters: list[ValueFormatter] = []
    for module in _label_modules():
        verbs.update(getattr(module, "VERBS", {}))
        if hasattr(module, "format_value"):
            formatters.append(module.format_value)
    return verbs, formatters


def _label_modules() -> list[Any]:
    autodiscover_modules("audit_labels")
    import sys

    return [
        sys.modules[f"{config.name}.audit_labels"]
        for config in apps.get_app_configs()
        if f"{config.name}.audit_labels" in sys.modules
    ]


def verb_label(verb: str) -> str:
    label = _registry()[0].get(verb)
    return str(label) if label else verb


def describe(rows: Iterable[AuditLog]) -> list[Entry]:
    rows = list(rows)
    objects = _load_objects(rows)
    memo: dict[str, Any] = {}
    return [_entry(row, objects.get((row.object_type, row.object_id)), memo) for row in rows]


def _entry(row: AuditLog, obj: models.Model | None, memo: dict[str, Any]) -> Entry:
    model = _model(row.object_type)
    kind = _model_label(model, row.object_type)
    if obj is not None:
        label = _("%(kind)s “%(name)s”") % {"kind": kind, "name": obj}
    else:
        label = f"{kind} #{row.object_id}"
    url = ""
    if obj is not None and hasattr(obj, "get_absolute_url"):
        try:
            url = obj.get_absolute_url()
        except NoReverseMatch:  # a page that cannot be linked is still listed, unlinked
            url = ""
    actor = _("system") if row.actor_id is None and row.actor_label == "system" else row.actor_label
    return Entry(
        row=row,
        actor=actor,
        action=verb_label(row.verb),
        object_label=label,
        object_url=url,
        details=_details(row, model, memo),
    )


def _details(row: AuditLog, model: type[models.Model] | None, memo: dict[str, Any]) -> list[Detail]:
    data = row.data if isinstance(row.data, dict) else {"data": row.data}
    details: list[Detail] = []
    if "from" in data or "to" in data:
        details.append(
            Detail(
                _("Change"),
                before=_value(memo, row.verb, "from", data.get("from")),
                after=_value(memo, row.verb, "to", data.get("to")),
            )
        )
    for name, change in (data.get("changes") or {}).items():
        label = _field_label(model, name)
        if isinstance(change, dict) and change.get("changed") is True:
            details.append(Detail(label, text=_("changed (value not recorded)")))
        elif isinstance(change, dict):
            details.append(
                Detail(
                    label,
                    before=_value(memo, row.verb, name, change.get("from")),
                    after=_value(memo, row.verb, name, change.get("to")),
                )
            )
    if data.get("fields"):
        names = ", ".join(_field_label(model, name) for name in data["fields"])
        details.append(Detail(pgettext("audit", "Changed"), text=names))
    for key, value in data.items():
        if key in {"from", "to", "changes", "fields"}:
            continue
        if value in (None, "", [], {}):
            continue
        details.append(Detail(_field_label(model, key), text=_value(memo, row.verb, key, value)))
    return details


def _value(memo: dict[str, Any], verb: str, key: str, value: Any) -> str:
    for formatter in _registry()[1]:
        text = formatter(verb, key, value, memo)
        if text is not None:
            return text
    if value is None or value == "":
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, list):
        return "; ".join(_value(memo, verb, key, item) for item in value) or "—"
    if isinstance(value, dict):
        return ", ".join(
            f"{item_key}: {_value(memo, verb, key, item)}" for item_key, item in value.items()
        )
    return str(value)


def _model_label(model: type[models.Model] | None, label: str) -> str:
    if model is not None and isinstance(model._meta.verbose_name, Promise):
        return capfirst(str(model._meta.verbose_name))
    described = _registry()[0].get(f"model:{label}")
    return str(described) if described else label


def _field_label(model: type[models.Model] | None, name: str) -> str:
    """The field's translated verbose name; else the app's label for the key; else the key."""
    if model is not None:
        try:
            verbose_name = model._meta.get_field(name).verbose_name  # type: ignore[union-attr]
        except FieldDoesNotExist:
            verbose_name = None
        if isinstance(verbose_name, Promise):
            return capfirst(str(verbose_name))
    label = _registry()[0].get(f"field:{name}")
    return str(label) if label else capfirst(name.replace("_", " "))


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _load_objects(rows: list[AuditLog]) -> dict[tuple[str, str], models.Model]:
    """The objects the rows are about, one query per kind, for names and links."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        wanted[row.object_type].add(row.object_id)
    found: dict[tuple[str, str], models.Model] = {}
    for label, ids in wanted.items():
        model = _model(label)
        if model is None:
            continue
        keys = [value for value in ids if value.isdigit()] if _integer_key(model) else list(ids)
        for obj in model._default_manager.filter(pk__in=keys):
            found[(label, str(obj.pk))] = obj
    return found


def _integer_key(model: type[models.Model]) -> bool:
    return isinstance(model._meta.pk, models.AutoField | models.BigAutoField | models.IntegerField)
