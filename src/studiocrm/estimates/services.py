"""Every change to an estimate goes through these functions.

Each one runs in one transaction, locks the estimate it changes, re-prices what it changed
before committing (so input the calculation refuses is never half-saved) and writes an audit
row. Drafting from a brief is in ``estimates.drafting``, price-list changes in
``estimates.catalog``, the model ↔ calculation conversions in ``estimates.pricing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.deals import events
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import Deal
from studiocrm.estimates import calc
from studiocrm.estimates.models import (
    STAGE_LABELS,
    Estimate,
    EstimateLine,
    EstimateOption,
    Package,
    PageType,
    PriceList,
    Service,
    Unit,
    unit_label,
)
from studiocrm.estimates.pricing import (
    PAGE,
    SERVICE,
    PricedLine,
    PricedOption,
    _decimal,
    clean_work,
    option_to_dicts,
    price_estimate,
    price_options,
    primary_option,
    role_snapshot,
    tree_order,
)

MAX_DEPTH = 4
MAX_LINES_PER_OPTION = 5000
MAX_OPTIONS = 10


class EstimateError(Exception):
    """A change the estimate's state or the input does not allow; the message says why."""


class NotAllowed(EstimateError):
    pass


class NoPriceList(EstimateError):
    pass


class NoSubmittedBrief(EstimateError):
    pass


# --- helpers for the changes ---------------------------------------------------------------


def _check_can_edit(actor: User | None, deal: Deal) -> None:
    deal_services.check_can_edit(actor, deal, error=NotAllowed)


def _check_owner(actor: User | None) -> None:
    if actor is not None and not actor.is_owner:
        raise NotAllowed(_("Only an owner can change the price list."))


def _lock(estimate: Estimate, actor: User | None) -> Estimate:
    locked = Estimate.objects.select_for_update().select_related("deal").get(pk=estimate.pk)
    _check_can_edit(actor, locked.deal)
    return locked


def _reprice(estimate: Estimate, option: EstimateOption | None = None) -> list[PricedOption]:
    """Re-price after a change inside the transaction; refused input rolls the change back."""
    options = [option] if option is not None else list(estimate.options.all())
    # The texts are not needed to price; leaving them out makes large options load faster.
    lines = list(
        EstimateLine.objects.filter(option__in=[o.pk for o in options]).defer(
            "description", "origins", "category"
        )
    )
    try:
        priced = price_options(estimate, options, lines)
    except calc.CalcError as error:
        raise EstimateError(
            _("The estimate cannot be priced: %(error)s") % {"error": error}
        ) from error
    for item in priced:
        if item.result.total > calc.MAX_TOTAL:
            raise EstimateError(
                _("The total of “%(option)s” is too large.") % {"option": item.option.name}
            )
    return priced


def _touch(estimate: Estimate) -> None:
    estimate.updated_at = timezone.now()
    Estimate.objects.filter(pk=estimate.pk).update(updated_at=estimate.updated_at)


def _next_position(option: EstimateOption, kind: str, parent: EstimateLine | None = None) -> int:
    queryset = option.lines.filter(kind=kind)
    if kind == PAGE:
        queryset = queryset.filter(parent=parent)
    return (queryset.aggregate(top=Max("position"))["top"] or 0) + 1


def _depth(line: EstimateLine | None) -> int:
    depth = 0
    while line is not None:
        depth += 1
        line = line.parent
    return depth


def price_list_for(currency: str) -> PriceList | None:
    """The active price list for a currency (shipped defaults first)."""
    lists = PriceList.objects.filter(is_active=True, currency=currency).order_by(
        "-default_key", "pk"
    )
    return lists.first()


def _create_lines(
    option: EstimateOption,
    items: Sequence[dict[str, Any]],
    *,
    role_codes: Sequence[str],
    tax_rate: Decimal,
    parent: EstimateLine | None = None,
    origins: list[dict[str, Any]] | None = None,
) -> list[EstimateLine]:
    """Create lines from plain dicts (package content, a copy), children under parents."""
    created = []
    positions = {PAGE: _next_position(option, PAGE, parent), SERVICE: 0}
    if parent is None:
        positions[SERVICE] = _next_position(option, SERVICE)
    for item in items:
        kind = PAGE if item.get("kind") == PAGE else SERVICE
        if kind == SERVICE and parent is not None:
            continue
        try:
            line = EstimateLine.objects.create(
                option=option,
                kind=kind,
                parent=parent if kind == PAGE else None,
                position=positions[kind],
                code=str(item.get("code") or "")[:40],
                name=str(item.get("name") or "—")[:200],
                description=str(item.get("description") or ""),
                category=str(item.get("category") or "")[:100],
                unit=item.get("unit") if item.get("unit") in Unit.values else Unit.PIECE,
                quantity=_decimal(item.get("quantity"), "1"),
                unit_price=None
                if item.get("unit_price") in (None, "")
                else _decimal(item.get("unit_price")),
                work=clean_work(item.get("work"), role_codes),
                unit_cost=_decimal(item.get("unit_cost")),
                discount_percent=_decimal(item.get("discount_percent")),
                tax_rate=tax_rate,
                is_optional=bool(item.get("is_optional")),
                is_selected=bool(item.get("is_selected", True)),
                stage=item.get("stage") if item.get("stage") in STAGE_LABELS else "",
                origins=list(origins or []),
            )
        except (ArithmeticError, ValueError, TypeError) as error:
            raise EstimateError(
                _("A line of the package is not valid: %(error)s") % {"error": error}
            ) from error
        positions[kind] += 1
        created.append(line)
        if kind == PAGE and item.get("children"):
            if _depth(line) >= MAX_DEPTH:
                raise EstimateError(
                    _("Pages nest at most %(depth)s levels deep.") % {"depth": MAX_DEPTH}
                )
            created += _create_lines(
                option,
                item["children"],
                role_codes=role_codes,
                tax_rate=tax_rate,
                parent=line,
                origins=origins,
            )
    return created


def _new_estimate(
    deal: Deal,
    price_list: PriceList,
    *,
    actor: User | None,
    title: str = "",
    origin: str = Estimate.Origin.MANUAL,
    brief_id: int | None = None,
    tax_mode: str | None = None,
) -> Estimate:
    number = deal.estimates.count() + 1
    with translation.override(price_list.language):
        default_title = _("Estimate %(number)s") % {"number": number}
    return Estimate.objects.create(
        deal=deal,
        title=(title.strip() or default_title)[:200],
        price_list=price_list,
        currency=deal.currency,
        language=price_list.language,
        tax_mode=tax_mode or Studio.load().tax_mode,
        roles=role_snapshot(price_list),
        origin=origin,
        brief_id=brief_id,
        created_by=actor,
    )


def _option_name(language: str, index: int) -> str:
    with translation.override(language):
        return _("Standard") if index == 0 else _("Option %(number)s") % {"number": index + 1}


def _require_price_list(deal: Deal) -> PriceList:
    price_list = price_list_for(deal.currency)
    if price_list is None:
        raise NoPriceList(
            _(
                "There is no active price list in %(currency)s. An owner can add one "
                "(or duplicate an existing list in this currency) under Settings → Price list."
            )
            % {"currency": deal.currency}
        )
    return price_list


# --- estimates -----------------------------------------------------------------------------


def create_estimate(
    deal: Deal, *, actor: User | None, package: Package | None = None, title: str = ""
) -> Estimate:
    """Open an estimate for the deal with one option, empty or started from a package."""
    _check_can_edit(actor, deal)
    price_list = package.price_list if package is not None else _require_price_list(deal)
    if price_list.currency != deal.currency:
        raise EstimateError(
            _("The package is priced in %(package)s but the deal is in %(deal)s.")
            % {"package": price_list.currency, "deal": deal.currency}
        )
    with transaction.atomic():
        Deal.objects.select_for_update().filter(pk=deal.pk).first()
        estimate = _new_estimate(deal, price_list, actor=actor, title=title)
        option = EstimateOption.objects.create(
            estimate=estimate,
            name=package.name if package else _option_name(estimate.language, 0),
            position=1,
            is_primary=True,
            package_code=package.code if package else "",
        )
        if package is not None:
            _create_lines(
                option,
                package.content,
                role_codes=[role["code"] for role in estimate.roles],
                tax_rate=Studio.load().vat_rate,
            )
        _reprice(estimate)
        audit.record(
            "estimate.created",
            estimate,
            actor=actor,
            data={"deal": deal.pk, "package": package.code if package else None},
        )
    return estimate


def copy_estimate(source: Estimate, deal: Deal, *, actor: User | None) -> Estimate:
    """Copy an estimate (from a past deal) into this deal: options, structure and lines."""
    _check_can_edit(actor, deal)
    if source.currency != deal.currency:
        raise EstimateError(
            _("That estimate is in %(source)s but this deal is in %(deal)s.")
            % {"source": source.currency, "deal": deal.currency}
        )
    with transaction.atomic():
        Deal.objects.select_for_update().filter(pk=deal.pk).first()
        number = deal.estimates.count() + 1
        estimate = Estimate.objects.create(
            deal=deal,
            title=source.title if source.deal_id != deal.pk else f"{source.title} ({number})",
            price_list=source.price_list,
            currency=source.currency,
            language=source.language,
            tax_mode=source.tax_mode,
            roles=list(source.roles),
            origin=Estimate.Origin.COPY,
            copied_from=source,
            created_by=actor,
        )
        role_codes = [role["code"] for role in estimate.roles]
        for option in source.options.all():
            copy = EstimateOption.objects.create(
                estimate=estimate,
                name=option.name,
                position=option.position,
                is_primary=option.is_primary,
                discount_percent=option.discount_percent,
                multipliers=[
                    {"role": entry.get("role"), "factor": entry.get("factor"), "origin": None}
                    for entry in option.multipliers or []
                ],
                package_code=option.package_code,
            )
            _copy_lines(option, copy, role_codes)
        _reprice(estimate)
        audit.record(
            "estimate.copied", estimate, actor=actor, data={"from": source.pk, "deal": deal.pk}
        )
    return estimate


def _copy_lines(source: EstimateOption, target: EstimateOption, role_codes: Sequence[str]) -> None:
    """Copy lines keeping their tax rates (dicts would reset them to the studio's rate)."""
    lines = list(source.lines.all())
    pages = tree_order([line for line in lines if line.kind == PAGE])
    new_ids: dict[int, EstimateLine] = {}
    for line, _depth_level in pages:
        new_ids[line.pk] = _clone_line(line, target, role_codes, new_ids.get(line.parent_id))
    for line in lines:
        if line.kind == SERVICE:
            _clone_line(line, target, role_codes, None)


def _clone_line(
    line: EstimateLine,
    option: EstimateOption,
    role_codes: Sequence[str],
    parent: EstimateLine | None,
) -> EstimateLine:
    return EstimateLine.objects.create(
        option=option,
        kind=line.kind,
        parent=parent,
        position=line.position,
        code=line.code,
        name=line.name,
        description=line.description,
        category=line.category,
        unit=line.unit,
        quantity=line.quantity,
        unit_price=line.unit_price,
        work=clean_work(line.work, role_codes),
        unit_cost=line.unit_cost,
        discount_percent=line.discount_percent,
        tax_rate=line.tax_rate,
        is_optional=line.is_optional,
        is_selected=line.is_selected,
        stage=line.stage,
        origins=[],
    )


def delete_estimate(estimate: Estimate, *, actor: User | None) -> None:
    """Remove a draft estimate. A saved one set the deal amount and stays for the record."""
    with transaction.atomic():
        locked = _lock(estimate, actor)
        if locked.status == Estimate.Status.SAVED:
            raise EstimateError(_("A saved estimate cannot be deleted; copy it and edit the copy."))
        audit.record(
            "estimate.deleted",
            locked,
            actor=actor,
            data={"deal": locked.deal_id, "title": locked.title},
        )
        locked.delete()


def update_estimate(
    estimate: Estimate,
    *,
    actor: User | None,
    title: str,
    tax_mode: str,
    tax_rate: Decimal | None = None,
) -> Estimate:
    """Rename the estimate or change its tax mode; with ``tax_rate``, every line of every
    option gets that rate (lines keep their own rates otherwise)."""
    if tax_mode not in calc.TAX_MODES:
        raise EstimateError(_("Unknown tax mode."))
    if tax_rate is not None and not 0 <= tax_rate <= calc.MAX_PERCENT:
        raise EstimateError(_("A tax rate is between 0 and 100 %."))
    title = title.strip()[:200]
    if not title:
        raise EstimateError(_("An estimate needs a title."))
    with transaction.atomic():
        locked = _lock(estimate, actor)
        changed = {
            name: value
            for name, value in (("title", title), ("tax_mode", tax_mode))
            if getattr(locked, name) != value
        }
        for name, value in changed.items():
            setattr(locked, name, value)
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
        if tax_rate is not None:
            count = EstimateLine.objects.filter(option__estimate=locked).update(tax_rate=tax_rate)
            changed["tax_rate"] = f"{tax_rate} ({count} lines)"
            _touch(locked)
        if changed:
            _reprice(locked)
            audit.record(
                "estimate.updated",
                locked,
                actor=actor,
                data={"fields": sorted(changed), "tax_rate": changed.get("tax_rate")},
            )
    return locked


def save_estimate(estimate: Estimate, *, actor: User | None) -> Estimate:
    """Mark the estimate saved and emit ``estimate.saved``: the reactions make the main
    option's total the deal amount and move a deal not yet estimated to ``estimated`` (a
    deal further along is never moved back)."""
    with transaction.atomic():
        locked = _lock(estimate, actor)
        priced = _reprice(locked)
        main = primary_option([item.option for item in priced])
        chosen = next(item for item in priced if item.option == main) if main else None
        if chosen is None or not (chosen.pages or chosen.services):
            raise EstimateError(_("Add at least one page or service before saving."))
        total = chosen.result.total
        locked.status = Estimate.Status.SAVED
        locked.saved_at = timezone.now()
        locked.total = total
        locked.save(update_fields=["status", "saved_at", "total", "updated_at"])
        audit.record(
            "estimate.saved",
            locked,
            actor=actor,
            data={"deal": locked.deal_id, "total": str(total), "option": main.pk if main else None},
        )
        events.emit(
            events.ESTIMATE_SAVED,
            locked.deal,
            actor=actor,
            subject=locked,
            payload={"total": str(total)},
        )
    return locked


# --- options -------------------------------------------------------------------------------


def add_option(
    estimate: Estimate, *, actor: User | None, name: str = "", copy_of: EstimateOption | None = None
) -> EstimateOption:
    """Add an option, empty or as a copy of another option of the same estimate."""
    with transaction.atomic():
        locked = _lock(estimate, actor)
        count = locked.options.count()
        if count >= MAX_OPTIONS:
            raise EstimateError(
                _("An estimate has at most %(count)s options.") % {"count": MAX_OPTIONS}
            )
        if copy_of is not None and copy_of.estimate_id != locked.pk:
            raise EstimateError(_("That option belongs to another estimate."))
        top = locked.options.aggregate(top=Max("position"))["top"] or 0
        option = EstimateOption.objects.create(
            estimate=locked,
            name=(name.strip() or _option_name(locked.language, count))[:100],
            position=top + 1,
            is_primary=count == 0,
            discount_percent=copy_of.discount_percent if copy_of else Decimal(0),
            multipliers=list(copy_of.multipliers) if copy_of else [],
            package_code=copy_of.package_code if copy_of else "",
        )
        if copy_of is not None:
            _copy_lines(copy_of, option, [role["code"] for role in locked.roles])
        _touch(locked)
        audit.record("estimate.option_added", locked, actor=actor, data={"option": option.pk})
    return option


def update_option(
    option: EstimateOption, *, actor: User | None, name: str, discount_percent: Decimal
) -> EstimateOption:
    """Rename an option or change its discount."""
    name = name.strip()[:100]
    if not name:
        raise EstimateError(_("An option needs a name."))
    with transaction.atomic():
        estimate = _lock(option.estimate, actor)
        option = EstimateOption.objects.select_for_update().get(pk=option.pk)
        option.name = name
        option.discount_percent = discount_percent
        option.save(update_fields=["name", "discount_percent"])
        _reprice(estimate, option)
        _touch(estimate)
        audit.record(
            "estimate.option_updated",
            estimate,
            actor=actor,
            data={"option": option.pk, "discount": str(discount_percent)},
        )
    return option


def delete_option(option: EstimateOption, *, actor: User | None) -> None:
    """Remove an option with its lines; the last option stays."""
    with transaction.atomic():
        estimate = _lock(option.estimate, actor)
        options = list(estimate.options.all())
        if len(options) <= 1:
            raise EstimateError(_("An estimate keeps at least one option."))
        was_primary = option.is_primary
        audit.record(
            "estimate.option_deleted",
            estimate,
            actor=actor,
            data={"option": option.pk, "name": option.name},
        )
        EstimateOption.objects.filter(pk=option.pk).delete()
        if was_primary:
            survivor = next(item for item in options if item.pk != option.pk)
            EstimateOption.objects.filter(pk=survivor.pk).update(is_primary=True)
        _touch(estimate)


def make_primary(option: EstimateOption, *, actor: User | None) -> None:
    """Make the option the main one: its total becomes the deal amount on save."""
    with transaction.atomic():
        estimate = _lock(option.estimate, actor)
        estimate.options.exclude(pk=option.pk).update(is_primary=False)
        EstimateOption.objects.filter(pk=option.pk).update(is_primary=True)
        _touch(estimate)
        audit.record("estimate.option_primary", estimate, actor=actor, data={"option": option.pk})


def apply_package(
    option: EstimateOption, package: Package, *, actor: User | None
) -> list[EstimateLine]:
    """Add a package's pages and services to an option."""
    with transaction.atomic():
        estimate = _lock(option.estimate, actor)
        if estimate.price_list_id != package.price_list_id:
            raise EstimateError(_("That package belongs to another price list."))
        lines = _create_lines(
            option,
            package.content,
            role_codes=[role["code"] for role in estimate.roles],
            tax_rate=Studio.load().vat_rate,
        )
        _check_size(option)
        if not option.package_code:
            EstimateOption.objects.filter(pk=option.pk).update(package_code=package.code)
        _reprice(estimate, option)
        _touch(estimate)
        audit.record(
            "estimate.package_applied",
            estimate,
            actor=actor,
            data={"option": option.pk, "package": package.code},
        )
    return lines


def save_as_package(
    option: EstimateOption, *, actor: User | None, name: str, description: str = ""
) -> Package:
    """Store an option's structure and services as a package of the estimate's price list."""
    _check_owner(actor)
    name = name.strip()[:200]
    if not name:
        raise EstimateError(_("A package needs a name."))
    estimate = option.estimate
    if estimate.price_list_id is None:
        raise EstimateError(_("The estimate's price list no longer exists."))
    with transaction.atomic():
        price_list = PriceList.objects.select_for_update().get(pk=estimate.price_list_id)
        content = option_to_dicts(option)
        if not content:
            raise EstimateError(_("The option is empty; add pages or services first."))
        base = slugify(name)[:30] or "package"
        code, number = base, 1
        while price_list.packages.filter(code=code).exists():
            number += 1
            code = f"{base}-{number}"
        top = price_list.packages.aggregate(top=Max("position"))["top"] or 0
        package = Package.objects.create(
            price_list=price_list,
            code=code,
            name=name,
            description=description.strip(),
            content=content,
            position=top + 1,
        )
        audit.record(
            "package.created_from_estimate",
            package,
            actor=actor,
            data={"estimate": estimate.pk, "option": option.pk},
        )
    return package


def add_multiplier(
    option: EstimateOption, *, actor: User | None, role: str, factor: Decimal
) -> EstimateOption:
    """Multiply a role's hours in the option (hour-priced lines follow the hours)."""
    with transaction.atomic():
        estimate = _lock(option.estimate, actor)
        if role not in {item["code"] for item in estimate.roles}:
            raise EstimateError(_("Unknown role."))
        if factor < 0 or factor > calc.MAX_MULTIPLIER:
            raise EstimateError(
                _("A factor must be between 0 and %(max)s.") % {"max": calc.MAX_MULTIPLIER}
            )
        option = EstimateOption.objects.select_for_update().get(pk=option.pk)
        option.multipliers = [
            *option.multipliers,
            {"role": role, "factor": str(factor), "origin": None},
        ]
        option.save(update_fields=["multipliers"])
        _reprice(estimate, option)
        _touch(estimate)
        audit.record(
            "estimate.multiplier_added",
            estimate,
            actor=actor,
            data={"option": option.pk, "role": role, "factor": str(factor)},
        )
    return option


def remove_multiplier(option: EstimateOption, index: int, *, actor: User | None) -> EstimateOption:
    with transaction.atomic():
        estimate = _lock(option.estimate, actor)
        option = EstimateOption.objects.select_for_update().get(pk=option.pk)
        if not 0 <= index < len(option.multipliers):
            raise EstimateError(_("That multiplier no longer exists."))
        removed = option.multipliers[index]
        option.multipliers = [m for i, m in enumerate(option.multipliers) if i != index]
        option.save(update_fields=["multipliers"])
        _touch(estimate)
        audit.record(
            "estimate.multiplier_removed",
            estimate,
            actor=actor,
            data={
                "option": option.pk,
                "role": removed.get("role"),
                "factor": removed.get("factor"),
            },
        )
    return option


# --- lines ---------------------------------------------------------------------------------


def _check_size(option: EstimateOption) -> None:
    if option.lines.count() > MAX_LINES_PER_OPTION:
        raise EstimateError(
            _("An option holds at most %(count)s lines.") % {"count": MAX_LINES_PER_OPTION}
        )


def _check_parent(
    option: EstimateOption, parent: EstimateLine | None, line: EstimateLine | None = None
) -> None:
    if parent is None:
        return
    if parent.option_id != option.pk or parent.kind != PAGE:
        raise EstimateError(_("A page can only be nested under a page of the same option."))
    ancestor: EstimateLine | None = parent
    while ancestor is not None:
        if line is not None and ancestor.pk == line.pk:
            raise EstimateError(_("A page cannot be nested under itself or its own sub-pages."))
        ancestor = ancestor.parent
    if _depth(parent) >= MAX_DEPTH:
        raise EstimateError(_("Pages nest at most %(depth)s levels deep.") % {"depth": MAX_DEPTH})


def add_page(
    option: EstimateOption,
    page_type: PageType,
    *,
    actor: User | None,
    parent: EstimateLine | None = None,
    quantity: Decimal = Decimal(1),
    origins: list[dict[str, Any]] | None = None,
) -> EstimateLine:
    """Add a page of the given type to the option's site structure."""
    with transaction.atomic():
        estimate = _lock(option.estimate, actor)
        if page_type.price_list_id != estimate.price_list_id:
            raise EstimateError(_("That page type belongs to another price list."))
        _check_parent(option, parent)
        line = EstimateLine.objects.create(
            option=option,
            kind=PAGE,
            parent=parent,
            position=_next_position(option, PAGE, parent),
            code=page_type.slug,
            name=page_type.name,
            description=page_type.description,
            unit=Unit.PAGE,
            quantity=quantity,
            work=clean_work(page_type.work, [role["code"] for role in estimate.roles]),
            tax_rate=Studio.load().vat_rate,
            origins=list(origins or []),
        )
        _check_size(option)
        _reprice(estimate, option)
        _touch(estimate)
        audit.record(
            "estimate.line_added", estimate, actor=actor, data={"line": line.pk, "code": line.code}
        )
    return line


def add_service(
    option: EstimateOption,
    service: Service,
    *,
    actor: User | None,
    quantity: Decimal | None = None,
    optional: bool | None = None,
    origins: list[dict[str, Any]] | None = None,
) -> EstimateLine:
    """Add a service line from the price list (its price, hours and external cost copied)."""
    with transaction.atomic():
        estimate = _lock(option.estimate, actor)
        if service.price_list_id != estimate.price_list_id:
            raise EstimateError(_("That service belongs to another price list."))
        line = _service_line(option, service, estimate, quantity, optional, origins)
        _check_size(option)
        _reprice(estimate, option)
        _touch(estimate)
        audit.record(
            "estimate.line_added", estimate, actor=actor, data={"line": line.pk, "code": line.code}
        )
    return line


def _service_line(
    option: EstimateOption,
    service: Service,
    estimate: Estimate,
    quantity: Decimal | None,
    optional: bool | None,
    origins: list[dict[str, Any]] | None,
) -> EstimateLine:
    is_optional = service.is_optional if optional is None else optional
    return EstimateLine.objects.create(
        option=option,
        kind=SERVICE,
        position=_next_position(option, SERVICE),
        code=service.code,
        name=service.name,
        description=service.description,
        category=service.category,
        unit=service.unit,
        quantity=service.default_quantity if quantity is None else quantity,
        unit_price=service.price,
        work=clean_work(service.work, [role["code"] for role in estimate.roles]),
        unit_cost=service.unit_cost,
        tax_rate=Studio.load().vat_rate,
        is_optional=is_optional,
        is_selected=not is_optional,
        stage=service.stage,
        origins=list(origins or []),
    )


def add_custom_line(
    option: EstimateOption,
    *,
    actor: User | None,
    name: str,
    unit_price: Decimal,
    quantity: Decimal = Decimal(1),
    unit: str = Unit.PIECE,
) -> EstimateLine:
    """Add a service line that is not in the price list."""
    name = name.strip()[:200]
    if not name:
        raise EstimateError(_("A line needs a name."))
    with transaction.atomic():
        estimate = _lock(option.estimate, actor)
        line = EstimateLine.objects.create(
            option=option,
            kind=SERVICE,
            position=_next_position(option, SERVICE),
            name=name,
            unit=unit if unit in Unit.values else Unit.PIECE,
            quantity=quantity,
            unit_price=unit_price,
            tax_rate=Studio.load().vat_rate,
        )
        _check_size(option)
        _reprice(estimate, option)
        _touch(estimate)
        audit.record("estimate.line_added", estimate, actor=actor, data={"line": line.pk})
    return line


LINE_FIELDS = {
    "name",
    "description",
    "quantity",
    "unit_price",
    "discount_percent",
    "tax_rate",
    "is_optional",
    "is_selected",
    "unit",
    "unit_cost",
    "stage",
    "work",
    "parent",
}


@dataclass
class LineUpdate:
    line: EstimateLine
    priced: PricedOption
    structure_changed: bool


def update_line(line: EstimateLine, *, actor: User | None, **fields: Any) -> LineUpdate:
    """Change a line's fields; returns the line and its re-priced option.

    Refused input (by the calculation or the structure rules) raises EstimateError and
    leaves the line exactly as it was.
    """
    unknown = set(fields) - LINE_FIELDS
    if unknown:
        raise EstimateError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        estimate = _lock(line.option.estimate, actor)
        line = EstimateLine.objects.select_for_update().select_related("option").get(pk=line.pk)
        option = line.option
        changed: list[str] = []
        if "parent" in fields:
            parent = fields.pop("parent")
            if line.kind != PAGE:
                parent = None
            if (parent.pk if parent else None) != line.parent_id:
                _check_parent(option, parent, line)
                line.parent = parent
                line.position = _next_position(option, PAGE, parent)
                changed += ["parent", "position"]
        structure_changed = bool(changed)
        if "work" in fields:
            fields["work"] = clean_work(fields["work"], [role["code"] for role in estimate.roles])
        if "name" in fields:
            fields["name"] = str(fields["name"]).strip()[:200]
            if not fields["name"]:
                raise EstimateError(_("A line needs a name."))
        if "stage" in fields and fields["stage"] not in ("", *STAGE_LABELS):
            raise EstimateError(_("Unknown stage."))
        if fields.get("unit", Unit.PIECE) not in Unit.values:
            raise EstimateError(_("Unknown unit."))
        for name, value in fields.items():
            if getattr(line, name) != value:
                setattr(line, name, value)
                changed.append(name)
        if changed:
            line.save(update_fields=changed)
        priced = _reprice(estimate, option)[0]
        if changed:
            _touch(estimate)
            audit.record(
                "estimate.line_updated",
                estimate,
                actor=actor,
                data={"line": line.pk, "fields": sorted(changed)},
            )
    return LineUpdate(line=line, priced=priced, structure_changed=structure_changed)


def delete_line(line: EstimateLine, *, actor: User | None) -> None:
    """Remove a line; a page takes its sub-pages with it."""
    with transaction.atomic():
        estimate = _lock(line.option.estimate, actor)
        audit.record(
            "estimate.line_deleted",
            estimate,
            actor=actor,
            data={"line": line.pk, "name": line.name, "code": line.code},
        )
        EstimateLine.objects.filter(pk=line.pk).delete()
        _touch(estimate)


# --- the client's view ---------------------------------------------------------------------


def _client_line(item: PricedLine) -> dict[str, Any]:
    line, result = item.line, item.result
    return {
        "name": line.name,
        "description": line.description,
        "category": line.category,
        "unit": line.unit,
        "unit_label": unit_label(line.unit, line.quantity),
        "quantity": line.quantity,
        "unit_price": result.unit_price,
        "amount": result.amount,
        "discount": result.discount,
        "net": result.net,
        "tax_rate": line.tax_rate,
        "tax": result.tax,
        "total": result.total,
        "optional": line.is_optional,
        "selected": result.counted,
        "depth": item.depth,
    }


def client_view(estimate: Estimate) -> dict[str, Any]:
    """The estimate as plain data for client documents: options, pages, lines, totals and
    timeline. Internal figures (cost, margin, hours, rates, rules) are left out."""
    priced = price_estimate(estimate)
    options = []
    for item in priced:
        result = item.result
        options.append(
            {
                "name": item.option.name,
                "is_primary": item.option.is_primary,
                "discount_percent": item.option.discount_percent,
                "pages": [_client_line(page) for page in item.pages],
                "services": [_client_line(line) for line in item.services],
                "totals": {
                    "amount": result.amount,
                    "discount": result.discount,
                    "net": result.net,
                    "tax": result.tax,
                    "total": result.total,
                    "optional_total": result.optional_total,
                },
                "timeline": {
                    "total_days": result.timeline.total_days,
                    "stages": [
                        {
                            "code": stage.code,
                            "name": str(STAGE_LABELS[stage.code]),
                            "start_day": stage.start_day,
                            "days": stage.days,
                        }
                        for stage in result.timeline.stages
                        if stage.days
                    ],
                },
            }
        )
    return {
        "title": estimate.title,
        "currency": estimate.currency,
        "tax_mode": estimate.tax_mode,
        "language": estimate.language,
        "options": options,
    }
