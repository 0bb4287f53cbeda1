"""Median price and duration of won deals whose estimate looks like this one.

Two estimates are similar when their main options started from the same package, or when the
sets of page types in their structures overlap enough (Jaccard index ≥ ``THRESHOLD``).
Only won deals in the same currency count; for each, its latest saved estimate is compared.
The price is the deal's estimated amount, the duration the days from the deal's creation to
its move into the won stage.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from decimal import Decimal

from studiocrm.core.money import round_money
from studiocrm.deals.models import Deal, Stage, StageChange
from studiocrm.estimates.models import Estimate, EstimateLine, EstimateOption

THRESHOLD = Decimal("0.6")
MAX_DEALS = 1000


@dataclass(frozen=True)
class Similar:
    count: int
    median_price: Decimal
    median_days: int
    currency: str


def jaccard(left: set[str], right: set[str]) -> Decimal:
    if not left and not right:
        return Decimal(0)
    return Decimal(len(left & right)) / Decimal(len(left | right))


def similar_won_deals(estimate: Estimate, option: EstimateOption) -> Similar | None:
    """Similar won deals for one option of an estimate, or None when there are none."""
    codes = set(
        option.lines.filter(kind=EstimateLine.Kind.PAGE)
        .exclude(code="")
        .values_list("code", flat=True)
    )
    package = option.package_code
    if not codes and not package:
        return None
    won = list(
        Deal.objects.filter(stage__kind=Stage.Kind.WON, currency=estimate.currency)
        .exclude(pk=estimate.deal_id)
        .order_by("-closed_at")
        .values_list("pk", "estimated_amount", "created_at")[:MAX_DEALS]
    )
    if not won:
        return None
    deals = {pk: (amount, created) for pk, amount, created in won}
    latest: dict[int, tuple[object, int]] = {}
    for deal_id, estimate_id, saved_at in Estimate.objects.filter(
        deal_id__in=deals, status=Estimate.Status.SAVED
    ).values_list("deal_id", "pk", "saved_at"):
        if deal_id not in latest or (saved_at, estimate_id) > latest[deal_id]:
            latest[deal_id] = (saved_at, estimate_id)
    estimate_ids = {estimate_id: deal_id for deal_id, (_saved, estimate_id) in latest.items()}
    structures: dict[int, tuple[str, set[str]]] = {}
    for estimate_id, package_code in EstimateOption.objects.filter(
        estimate_id__in=estimate_ids, is_primary=True
    ).values_list("estimate_id", "package_code"):
        structures[estimate_id] = (package_code, set())
    for estimate_id, code in EstimateLine.objects.filter(
        option__estimate_id__in=estimate_ids,
        option__is_primary=True,
        kind=EstimateLine.Kind.PAGE,
    ).values_list("option__estimate_id", "code"):
        if code and estimate_id in structures:
            structures[estimate_id][1].add(code)
    matching = [
        estimate_ids[estimate_id]
        for estimate_id, (other_package, other_codes) in structures.items()
        if (package and other_package == package) or jaccard(codes, other_codes) >= THRESHOLD
    ]
    prices = [deals[deal_id][0] for deal_id in matching if deals[deal_id][0] is not None]
    if not prices:
        return None
    won_at: dict[int, object] = {}
    for deal_id, at in (
        StageChange.objects.filter(deal_id__in=matching, to_stage__kind=Stage.Kind.WON)
        .order_by("at")
        .values_list("deal_id", "at")
    ):
        won_at.setdefault(deal_id, at)
    durations = [
        (won_at[deal_id] - deals[deal_id][1]).days for deal_id in matching if deal_id in won_at
    ]
    return Similar(
        count=len(prices),
        median_price=round_money(statistics.median(prices)),
        median_days=round(statistics.median(durations)) if durations else 0,
        currency=estimate.currency,
    )
