"""What other apps may read of estimates. Keep these names and meanings stable.

Documents prices the client's selection (an option and its optional lines) with the same
calculation the estimate editor uses, on in-memory copies of the lines.

``saved_estimate(deal) -> Estimate | None``
    The deal's current estimate: the most recently saved one.
``estimate_lines(options) -> list[EstimateLine]``
    Every line of these options (pages and services).
``price_options(estimate, options, lines) -> list[PricedOption]``
    Totals, tax and timeline per option (``estimates.pricing``); nothing is saved.
``primary_option(options) -> EstimateOption | None``
    The option the studio recommends (the one the deal amount follows).
``unit_label(unit) -> str`` and ``STAGE_LABELS``
    Translated labels for units and timeline stages.
"""

from __future__ import annotations

from collections.abc import Iterable

from studiocrm.deals.models import Deal
from studiocrm.estimates.models import (
    STAGE_LABELS,
    Estimate,
    EstimateLine,
    EstimateOption,
    unit_label,
)
from studiocrm.estimates.pricing import price_options, primary_option

__all__ = [
    "STAGE_LABELS",
    "Estimate",
    "estimate_lines",
    "price_options",
    "primary_option",
    "saved_estimate",
    "saved_estimates",
    "unit_label",
]


def saved_estimates(deal: Deal | int):  # noqa: ANN201 - a QuerySet of Estimate
    """The deal's saved estimates, newest first."""
    return Estimate.objects.filter(deal=deal, status=Estimate.Status.SAVED).order_by(
        "-saved_at", "-pk"
    )


def saved_estimate(deal: Deal | int) -> Estimate | None:
    return saved_estimates(deal).first()


def estimate_lines(options: Iterable[EstimateOption]) -> list[EstimateLine]:
    return list(EstimateLine.objects.filter(option__in=[option.pk for option in options]))
