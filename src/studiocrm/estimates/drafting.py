"""Draft an estimate from the deal's submitted brief, by the estimate rules.

The rules are data the owner edits (``EstimateRule``); ``estimates.rules`` decides which fire.
This module turns what fired into options and lines of a new estimate, merging repeats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from studiocrm.briefs import public as briefs
from studiocrm.core import audit
from studiocrm.core.models import Studio, User
from studiocrm.deals.models import Deal
from studiocrm.estimates import rules
from studiocrm.estimates.models import (
    Estimate,
    EstimateLine,
    EstimateOption,
    EstimateRule,
    Package,
    PageType,
    Service,
    Unit,
)
from studiocrm.estimates.pricing import PAGE, SERVICE, clean_work
from studiocrm.estimates.services import (
    NoSubmittedBrief,
    _check_can_edit,
    _check_size,
    _create_lines,
    _new_estimate,
    _next_position,
    _option_name,
    _reprice,
    _require_price_list,
    _service_line,
)

# --- draft from the brief ------------------------------------------------------------------


def _submitted_brief(deal: Deal) -> Any:
    return briefs.latest_submitted_brief(deal)


def has_submitted_brief(deal: Deal) -> bool:
    return deal.briefs.filter(status="submitted").exists()


def suggested_package(deal: Deal, packages: list[Package]) -> Package | None:
    """The package the client's brief asks for: a corporate-site brief suggests the
    corporate-site package (same code or same name), not the first one in the list. None
    without a submitted brief or a matching package."""
    brief = briefs.latest_submitted_brief(deal)
    if brief is None or not brief.template_id:
        return None
    key, name = brief.template.default_key, brief.template.name.casefold()
    # The shipped store brief is "store" and its package "online_store": match the names too.
    return next(
        (item for item in packages if (key and item.code == key) or item.name.casefold() == name),
        None,
    )


class _Draft:
    """Adds lines to one option of a draft, merging repeats: a page or service that is
    already there keeps one line with the larger quantity and every answer that asked."""

    def __init__(self, option: EstimateOption, estimate: Estimate, tax_rate: Decimal):
        self.option = option
        self.estimate = estimate
        self.tax_rate = tax_rate
        self.role_codes = [role["code"] for role in estimate.roles]
        self.index: dict[tuple[str, str], EstimateLine] = {}
        for line in option.lines.all():
            if line.code:
                self.index.setdefault((line.kind, line.code), line)

    def _merge(self, key: tuple[str, str], quantity: Decimal, origin: dict[str, Any]) -> bool:
        line = self.index.get(key)
        if line is None:
            return False
        line.quantity = max(line.quantity, quantity)
        line.origins = [*line.origins, origin]
        line.save(update_fields=["quantity", "origins"])
        return True

    def page(self, page_type: PageType, quantity: Decimal, origin: dict[str, Any]) -> None:
        key = (PAGE, page_type.slug)
        if self._merge(key, quantity, origin):
            return
        self.index[key] = EstimateLine.objects.create(
            option=self.option,
            kind=PAGE,
            position=_next_position(self.option, PAGE),
            code=page_type.slug,
            name=page_type.name,
            description=page_type.description,
            unit=Unit.PAGE,
            quantity=quantity,
            work=clean_work(page_type.work, self.role_codes),
            tax_rate=self.tax_rate,
            origins=[origin],
        )

    def service(
        self, service: Service, quantity: Decimal, optional: bool, origin: dict[str, Any]
    ) -> None:
        key = (SERVICE, service.code)
        if self._merge(key, quantity, origin):
            return
        self.index[key] = _service_line(
            self.option, service, self.estimate, quantity, optional or service.is_optional, [origin]
        )


def draft_from_brief(deal: Deal, *, actor: User | None) -> Estimate:
    """Draft an estimate from the deal's latest submitted brief by the estimate rules.

    Every line records the answers that produced it. What the rules could not do is kept in
    ``Estimate.draft_report``: questions they needed but the client left empty
    (``unanswered``), rules that were skipped (``problems``) and remarks (``notes``).
    """
    _check_can_edit(actor, deal)
    brief = _submitted_brief(deal)
    if brief is None:
        raise NoSubmittedBrief(_("The deal has no submitted brief yet."))
    price_list = _require_price_list(deal)
    template = brief.template if brief.template_id else None
    evaluation = rules.evaluate(
        EstimateRule.objects.filter(is_active=True),
        brief.questions,
        brief.answers,
        template_key=getattr(template, "default_key", "") or "",
        language=price_list.language,
    )
    problems = list(evaluation.problems)
    pages = {page.slug: page for page in price_list.page_types.all()}
    services = {service.code: service for service in price_list.services.all()}
    packages = {package.code: package for package in price_list.packages.all()}
    tax_rate = Studio.load().vat_rate

    def missing(kind: str, action: rules.RuleAction, code: str) -> None:
        message = _("%(rule)s: the price list has no %(kind)s “%(code)s”; skipped.") % {
            "rule": _("Rule #%(id)s") % {"id": action.rule_id},
            "kind": kind,
            "code": code,
        }
        if message not in problems:
            problems.append(message)

    with transaction.atomic():
        Deal.objects.select_for_update().filter(pk=deal.pk).first()
        estimate = _new_estimate(
            deal, price_list, actor=actor, origin=Estimate.Origin.BRIEF, brief_id=brief.pk
        )
        role_codes = {role["code"] for role in estimate.roles}
        specs: list[tuple[str, Package | None, dict[str, Any]]] = []
        for action in evaluation.actions:
            if action.action != EstimateRule.Action.SET_OPTION:
                continue
            package = packages.get(action.target) if action.target else None
            if action.target and package is None:
                missing(_("package"), action, action.target)
            name = (action.option_name or (package.name if package else "")).strip()[:100]
            if name and name not in [spec[0] for spec in specs]:
                specs.append((name, package, action.origin))
        if not specs:
            specs = [(_option_name(estimate.language, 0), None, {})]
        for position, (name, package, origin) in enumerate(specs, start=1):
            option = EstimateOption.objects.create(
                estimate=estimate,
                name=name,
                position=position,
                is_primary=position == 1,
                package_code=package.code if package else "",
            )
            if package is not None:
                _create_lines(
                    option,
                    package.content,
                    role_codes=list(role_codes),
                    tax_rate=tax_rate,
                    origins=[{**origin, "package": package.name}],
                )
            draft = _Draft(option, estimate, tax_rate)
            multipliers = []
            for action in evaluation.actions:
                if action.action == EstimateRule.Action.ADD_PAGE:
                    page = pages.get(action.target)
                    if page is None:
                        missing(_("page type"), action, action.target)
                    else:
                        draft.page(page, action.amount, action.origin)
                elif action.action == EstimateRule.Action.ADD_PAGES_FROM_ANSWER:
                    for slug in action.page_slugs:
                        page = pages.get(slug)
                        if page is None:
                            missing(_("page type"), action, slug)
                        else:
                            origin = {**action.origin, "answer": action.page_labels.get(slug, slug)}
                            draft.page(page, action.amount, origin)
                elif action.action == EstimateRule.Action.ADD_SERVICE:
                    service = services.get(action.target)
                    if service is None:
                        missing(_("service"), action, action.target)
                    else:
                        draft.service(service, action.amount, action.optional, action.origin)
                elif action.action == EstimateRule.Action.MULTIPLY_ROLE:
                    if action.target not in role_codes:
                        missing(_("role"), action, action.target)
                    else:
                        multipliers.append(
                            {
                                "role": action.target,
                                "factor": str(action.amount),
                                "origin": action.origin,
                            }
                        )
            if multipliers:
                option.multipliers = multipliers
                option.save(update_fields=["multipliers"])
            _check_size(option)
        estimate.draft_report = {
            "unanswered": evaluation.unanswered,
            "problems": problems,
            "notes": evaluation.notes,
        }
        estimate.save(update_fields=["draft_report"])
        _reprice(estimate)
        audit.record(
            "estimate.drafted_from_brief",
            estimate,
            actor=actor,
            data={
                "deal": deal.pk,
                "brief": brief.pk,
                "rules_fired": len(evaluation.actions),
                "problems": len(problems),
            },
        )
    return estimate
