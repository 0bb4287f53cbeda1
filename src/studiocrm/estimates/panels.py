"""The estimate section of the deal page (listed in ``settings.DEAL_PANELS``)."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from studiocrm.deals.models import Deal
from studiocrm.deals.services import can_edit
from studiocrm.estimates import calc
from studiocrm.estimates.drafting import has_submitted_brief, suggested_package
from studiocrm.estimates.models import Estimate, EstimateLine, Package
from studiocrm.estimates.pricing import price_options
from studiocrm.estimates.services import price_list_for


def estimate_panel(request: HttpRequest, deal: Deal) -> str:
    """The deal's current estimate (options with totals and timeline) and the ways to make
    one: new (empty or from a package), drafted from the submitted brief, copied from a past
    deal. Read-only; a bounded number of queries whatever the estimate's size."""
    estimates = list(Estimate.objects.filter(deal=deal).order_by("-saved_at", "-updated_at"))
    saved = [estimate for estimate in estimates if estimate.saved_at]
    current = saved[0] if saved else (estimates[0] if estimates else None)
    summary = []
    error = ""
    if current is not None:
        options = list(current.options.all())
        try:
            priced = price_options(
                current, options, EstimateLine.objects.filter(option__in=options)
            )
        except calc.CalcError as problem:
            error = str(problem)
            priced = []
        summary = [
            {
                "name": item.option.name,
                "is_primary": item.option.is_primary,
                "total": item.result.total,
                "days": item.result.timeline.total_days,
                "url": f"{current.get_absolute_url()}?option={item.option.pk}",
            }
            for item in priced
        ]
    editable = can_edit(request.user, deal)
    price_list = price_list_for(deal.currency) if editable else None
    packages = list(Package.objects.filter(price_list=price_list)) if price_list else []
    context = {
        "deal": deal,
        "current": current,
        "others": [estimate for estimate in estimates if estimate != current],
        "summary": summary,
        "error": error,
        "can_edit": editable,
        "price_list": price_list,
        "packages": packages,
        "suggested_package": suggested_package(deal, packages) if editable else None,
        "has_brief": editable and has_submitted_brief(deal),
    }
    return render_to_string("estimates/panel.html", context, request=request)
