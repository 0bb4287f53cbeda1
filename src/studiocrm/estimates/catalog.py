"""Changes an owner makes to the price list: duplicate a list into another currency, save
and delete its roles, services, page types, packages and the estimate rules."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from studiocrm.core import audit
from studiocrm.core.models import User
from studiocrm.core.money import round_money
from studiocrm.estimates.models import PriceList, Role
from studiocrm.estimates.pricing import _decimal
from studiocrm.estimates.services import EstimateError, _check_owner

CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")


def duplicate_price_list(
    source: PriceList, *, actor: User | None, name: str, currency: str, factor: Decimal
) -> PriceList:
    """Copy a price list into another currency, every amount multiplied by ``factor``."""
    _check_owner(actor)
    currency = currency.strip().upper()
    if not CURRENCY_CODE.match(currency):
        raise EstimateError(_("A currency is three letters, e.g. USD."))
    if factor <= 0 or factor > Decimal("100000"):
        raise EstimateError(_("The factor must be above 0 and at most 100000."))

    def scaled(value: Decimal | None) -> Decimal | None:
        return None if value is None else round_money(value * factor)

    def scale_content(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = []
        for item in items:
            copy = dict(item)
            for field in ("unit_price", "unit_cost"):
                if copy.get(field) not in (None, ""):
                    copy[field] = str(round_money(_decimal(copy[field]) * factor))
            copy["children"] = scale_content(list(item.get("children") or []))
            result.append(copy)
        return result

    with transaction.atomic():
        target = PriceList.objects.create(
            name=name.strip()[:200] or source.name, currency=currency, language=source.language
        )
        for role in source.roles.all():
            Role.objects.create(
                price_list=target,
                code=role.code,
                name=role.name,
                hourly_rate=scaled(role.hourly_rate),
                cost_rate=scaled(role.cost_rate),
                hours_per_day=role.hours_per_day,
                people=role.people,
                stage=role.stage,
                position=role.position,
            )
        for page in source.page_types.all():
            page.pk = None
            page.price_list = target
            page.save()
        for service in source.services.all():
            service.pk = None
            service.price_list = target
            service.price = scaled(service.price)
            service.unit_cost = scaled(service.unit_cost) or Decimal(0)
            service.save()
        for package in source.packages.all():
            package.pk = None
            package.price_list = target
            package.content = scale_content(list(package.content or []))
            package.save()
        audit.record(
            "price_list.duplicated",
            target,
            actor=actor,
            data={"from": source.pk, "currency": currency, "factor": str(factor)},
        )
    return target


def delete_role(role: Role, *, actor: User | None) -> None:
    """Remove a role and its hours from the list's services and page types (estimates keep
    their own copy of the roles, so they are not affected)."""
    _check_owner(actor)
    with transaction.atomic():
        price_list = PriceList.objects.select_for_update().get(pk=role.price_list_id)
        for item in [*price_list.services.all(), *price_list.page_types.all()]:
            if role.code in (item.work or {}):
                item.work = {code: hours for code, hours in item.work.items() if code != role.code}
                item.save(update_fields=["work"])
        audit.record("price_list.role_deleted", price_list, actor=actor, data={"role": role.code})
        role.delete()


def save_price_item(
    item: Any, *, actor: User | None, created: bool, changes: dict[str, Any] | None = None
) -> Any:
    """Save a role, service, page type, package or rule edited by an owner (already
    validated by its form), with an audit row naming what changed (``audit.field_changes``)."""
    _check_owner(actor)
    with transaction.atomic():
        item.save()
        audit.record(
            f"{item._meta.model_name}.{'created' if created else 'updated'}",
            item,
            actor=actor,
            data={"name": str(item), "changes": changes or {}},
        )
    return item


def delete_price_item(item: Any, *, actor: User | None) -> None:
    _check_owner(actor)
    with transaction.atomic():
        audit.record(
            f"{item._meta.model_name}.deleted", item, actor=actor, data={"name": str(item)}
        )
        item.delete()
