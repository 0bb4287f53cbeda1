"""Estimate editor, deal actions and the owner's price list pages.

Views validate and call one service. The editor works with and without htmx: with it, a
change to a line answers with the line's new figures and the totals (out-of-band swaps), and
structural changes answer with the re-rendered editor; without it every form posts and
redirects back to the editor.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from studiocrm.briefs import public as briefs
from studiocrm.core import audit
from studiocrm.core.money import round_money
from studiocrm.core.permissions import owner_required
from studiocrm.deals.models import Deal
from studiocrm.deals.services import can_edit
from studiocrm.estimates import catalog, defaults, drafting, forms, services
from studiocrm.estimates.models import (
    STAGE_LABELS,
    Estimate,
    EstimateLine,
    EstimateOption,
    EstimateRule,
    Package,
    PageType,
    PriceList,
    Role,
    Service,
)
from studiocrm.estimates.pricing import PricedOption, price_options
from studiocrm.estimates.similar import similar_won_deals

# --- helpers -------------------------------------------------------------------------------


def _editable(request: HttpRequest, deal: Deal) -> None:
    if not can_edit(request.user, deal):
        raise PermissionDenied


def _estimate_for(request: HttpRequest, pk: int, *, edit: bool) -> Estimate:
    estimate = get_object_or_404(Estimate.objects.select_related("deal", "price_list"), pk=pk)
    if edit:
        _editable(request, estimate.deal)
    return estimate


def _option_for(request: HttpRequest, pk: int) -> EstimateOption:
    option = get_object_or_404(
        EstimateOption.objects.select_related("estimate__deal", "estimate__price_list"), pk=pk
    )
    _editable(request, option.estimate.deal)
    return option


def _line_for(request: HttpRequest, pk: int) -> EstimateLine:
    line = get_object_or_404(
        EstimateLine.objects.select_related(
            "option__estimate__deal", "option__estimate__price_list"
        ),
        pk=pk,
    )
    _editable(request, line.option.estimate.deal)
    return line


def _editor_url(estimate: Estimate, option: EstimateOption | None = None) -> str:
    url = reverse("estimates:edit", args=[estimate.pk])
    return f"{url}?option={option.pk}" if option is not None else url


# A long estimate's editor shows the first lines of each section; the rest load in chunks
# as the manager scrolls (the 2,000-line editor took seconds to render every line).
EDITOR_FIRST_LINES = 20
EDITOR_LINE_CHUNK = 100


def totals_context(
    estimate: Estimate, option: EstimateOption | None, priced: PricedOption | None
) -> dict[str, Any]:
    """What the totals panel needs: figures, hours by role, timeline bars, similar deals."""
    context: dict[str, Any] = {
        "estimate": estimate,
        "option": option,
        "priced": priced,
        "hours_rows": [],
        "timeline": [],
        "similar": None,
    }
    if priced is None or option is None:
        return context
    result = priced.result
    context["hours_rows"] = [
        (role["name"], result.hours[role["code"]])
        for role in estimate.roles
        if result.hours.get(role["code"])
    ]
    total_days = result.timeline.total_days or 1
    context["timeline"] = [
        {
            "code": stage.code,
            "label": STAGE_LABELS[stage.code],
            "days": stage.days,
            "left": round(stage.start_day * 100 / total_days, 2),
            "width": round(stage.days * 100 / total_days, 2),
        }
        for stage in result.timeline.stages
        if stage.days
    ]
    context["similar"] = similar_won_deals(estimate, option)
    return context


def editor_context(
    request: HttpRequest,
    estimate: Estimate,
    option: EstimateOption | None = None,
    *,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the editor templates need for one option of an estimate."""
    options = list(estimate.options.all())
    if option is None:
        wanted = request.GET.get("option", "")
        option = next((item for item in options if str(item.pk) == wanted), None)
    option = option or services.primary_option(options)
    priced: PricedOption | None = None
    error = ""
    if option is not None:
        option = next(item for item in options if item.pk == option.pk)
        try:
            priced = price_options(estimate, [option], option.lines.all())[0]
        except services.calc.CalcError as problem:
            error = _("The estimate cannot be priced: %(error)s") % {"error": problem}
    price_list = estimate.price_list
    packages = list(price_list.packages.all()) if price_list else []
    pages = [item.line for item in priced.pages] if priced else []
    context = totals_context(estimate, option, priced)
    context.update(
        {
            "deal": estimate.deal,
            "options": options,
            # Line URLs are this base + "<pk>/…": one reverse() instead of three per line.
            "line_base": reverse("estimates:update_line", args=[0]).removesuffix("0/"),
            "roles": estimate.roles,
            "role_names": {role["code"]: role["name"] for role in estimate.roles},
            "can_edit": can_edit(request.user, estimate.deal),
            "is_owner": request.user.is_owner,
            "show_tax": estimate.tax_mode != services.calc.NO_VAT,
            "error": error,
            "report": estimate.draft_report or {},
            "packages": packages,
            "suggested_package": drafting.suggested_package(estimate.deal, packages),
            "add_page_form": forms.AddPageForm(price_list=price_list, pages=pages),
            "add_service_form": forms.AddServiceForm(price_list=price_list),
            "custom_form": forms.CustomLineForm(),
            "option_form": forms.OptionForm(
                initial={"name": option.name, "discount_percent": option.discount_percent}
                if option
                else None
            ),
            "multiplier_form": forms.MultiplierForm(roles=estimate.roles),
            "settings_form": forms.EstimateSettingsForm(
                initial={"title": estimate.title, "tax_mode": estimate.tax_mode}
            ),
            "package_form": forms.PackageFromOptionForm(),
        }
    )
    for section in ("pages", "services"):
        items = getattr(priced, section) if priced else []
        context[f"first_{section}"] = items[:EDITOR_FIRST_LINES]
        context[f"more_{section}"] = EDITOR_FIRST_LINES if len(items) > EDITOR_FIRST_LINES else None
    context.update(overrides or {})
    return context


def _apply_form(
    request: HttpRequest,
    option: EstimateOption,
    form: Any,
    *,
    form_key: str,
    invalid: str,
    change: Callable[[dict[str, Any]], object],
) -> HttpResponse:
    """Validate one editor form and apply it with one service call; the editor comes back
    with the form's errors, the service's refusal, or the new figures."""
    if not form.is_valid():
        return _render_editor(
            request, option.estimate, option, overrides={form_key: form}, error=invalid
        )
    try:
        change(form.cleaned_data)
    except services.EstimateError as error:
        return _render_editor(request, option.estimate, option, error=str(error))
    return _render_editor(request, option.estimate, option)


def _render_editor(
    request: HttpRequest,
    estimate: Estimate,
    option: EstimateOption | None,
    *,
    overrides: dict[str, Any] | None = None,
    error: str = "",
) -> HttpResponse:
    """htmx: the re-rendered editor; otherwise back to the editor page."""
    estimate.refresh_from_db()
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(_editor_url(estimate, option))
    context = editor_context(request, estimate, option, overrides=overrides)
    if error:
        context["error"] = error
    return render(request, "estimates/_editor.html", context)


# --- deal actions --------------------------------------------------------------------------


@login_required
@require_POST
def new_estimate(request: HttpRequest, deal_pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal, pk=deal_pk)
    _editable(request, deal)
    package = None
    if request.POST.get("package"):
        package = Package.objects.filter(
            pk=request.POST["package"] if request.POST["package"].isdigit() else 0
        ).first()
        if package is None:
            messages.error(request, _("That package no longer exists."))
            return redirect(deal.get_absolute_url())
    try:
        estimate = services.create_estimate(deal, actor=request.user, package=package)
    except services.EstimateError as error:
        messages.error(request, str(error))
        return redirect(deal.get_absolute_url())
    return redirect(estimate.get_absolute_url())


@login_required
@require_POST
def draft_estimate(request: HttpRequest, deal_pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal, pk=deal_pk)
    _editable(request, deal)
    try:
        estimate = drafting.draft_from_brief(deal, actor=request.user)
    except services.EstimateError as error:
        messages.error(request, str(error))
        return redirect(deal.get_absolute_url())
    messages.success(request, _("Draft made from the brief. Check every line before saving."))
    return redirect(estimate.get_absolute_url())


@login_required
def copy_estimate(request: HttpRequest, deal_pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal.objects.select_related("client"), pk=deal_pk)
    _editable(request, deal)
    if request.method == "POST":
        source_id = request.POST.get("source", "")
        source = Estimate.objects.filter(pk=source_id if source_id.isdigit() else 0).first()
        if source is None:
            messages.error(request, _("Pick an estimate to copy."))
            return redirect("estimates:copy", deal_pk=deal.pk)
        try:
            estimate = services.copy_estimate(source, deal, actor=request.user)
        except services.EstimateError as error:
            messages.error(request, str(error))
            return redirect("estimates:copy", deal_pk=deal.pk)
        messages.success(request, _("Estimate copied. Adjust it to this deal."))
        return redirect(estimate.get_absolute_url())
    query = request.GET.get("q", "").strip()[:100]
    estimates = (
        Estimate.objects.filter(currency=deal.currency)
        .exclude(deal=deal)
        .select_related("deal__client")
        .order_by("-saved_at", "-updated_at")
    )
    if query:
        estimates = estimates.filter(
            Q(title__icontains=query)
            | Q(deal__title__icontains=query)
            | Q(deal__client__name__icontains=query)
        )
    page = Paginator(estimates, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "estimates/copy.html",
        {
            "deal": deal,
            "page": page,
            "query": query,
            "query_string": urlencode({"q": query}) if query else "",
        },
    )


# --- the editor ----------------------------------------------------------------------------


@login_required
@require_GET
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    estimate = _estimate_for(request, pk, edit=False)
    return render(request, "estimates/editor.html", editor_context(request, estimate))


@login_required
@require_GET
def lines(request: HttpRequest, pk: int) -> HttpResponse:
    """The next lines of one section of the editor (pages or services) from `start`: a long
    estimate's editor renders the first EDITOR_FIRST_LINES of each section, and the rest
    come in chunks as the manager scrolls to them (htmx), so the page costs what it shows."""
    estimate = _estimate_for(request, pk, edit=False)
    section = request.GET.get("section", "")
    start = request.GET.get("start", "")
    option = _option_param_get(request, estimate)
    if section not in ("pages", "services") or not start.isdigit() or option is None:
        return HttpResponse(_("Unknown section."), status=400, content_type="text/plain")
    context = editor_context(request, estimate, option)
    priced = context["priced"]
    items = getattr(priced, section) if priced else []
    begin = min(int(start), len(items))
    end = begin + EDITOR_LINE_CHUNK
    context.update(
        {
            "items": items[begin:end],
            "section": section,
            "next_start": end if end < len(items) else None,
        }
    )
    return render(request, "estimates/_lines_chunk.html", context)


def _option_param_get(request: HttpRequest, estimate: Estimate) -> EstimateOption | None:
    value = request.GET.get("option", "")
    return estimate.options.filter(pk=value).first() if value.isdigit() else None


@login_required
@require_GET
def totals(request: HttpRequest, pk: int) -> HttpResponse:
    estimate = _estimate_for(request, pk, edit=False)
    return render(request, "estimates/_totals.html", editor_context(request, estimate))


@login_required
@require_POST
def update_settings(request: HttpRequest, pk: int) -> HttpResponse:
    estimate = _estimate_for(request, pk, edit=True)
    form = forms.EstimateSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.update_estimate(estimate, actor=request.user, **form.cleaned_data)
        except services.EstimateError as error:
            messages.error(request, str(error))
    else:
        messages.error(request, _("Check the title and the tax mode."))
    return redirect(_editor_url(estimate, _option_param(request, estimate)))


def _option_param(request: HttpRequest, estimate: Estimate) -> EstimateOption | None:
    value = request.POST.get("option", "")
    return estimate.options.filter(pk=value).first() if value.isdigit() else None


@login_required
@require_POST
def save(request: HttpRequest, pk: int) -> HttpResponse:
    estimate = _estimate_for(request, pk, edit=True)
    try:
        estimate = services.save_estimate(estimate, actor=request.user)
    except services.EstimateError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Estimate saved; the deal amount is updated."))
    return redirect(_editor_url(estimate, _option_param(request, estimate)))


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    estimate = _estimate_for(request, pk, edit=True)
    try:
        services.delete_estimate(estimate, actor=request.user)
    except services.EstimateError as error:
        messages.error(request, str(error))
        return redirect(estimate.get_absolute_url())
    messages.success(request, _("Estimate deleted."))
    return redirect(estimate.deal.get_absolute_url())


@login_required
@require_POST
def add_option(request: HttpRequest, pk: int) -> HttpResponse:
    estimate = _estimate_for(request, pk, edit=True)
    copy_of = _option_param(request, estimate) if request.POST.get("copy") else None
    try:
        option = services.add_option(
            estimate, actor=request.user, name=request.POST.get("name", "")[:100], copy_of=copy_of
        )
    except services.EstimateError as error:
        messages.error(request, str(error))
        return redirect(_editor_url(estimate))
    return redirect(_editor_url(estimate, option))


@login_required
@require_POST
def update_option(request: HttpRequest, pk: int) -> HttpResponse:
    option = _option_for(request, pk)
    return _apply_form(
        request,
        option,
        forms.OptionForm(request.POST),
        form_key="option_form",
        invalid=_("The option was not changed: check the fields marked below."),
        change=lambda data: services.update_option(option, actor=request.user, **data),
    )


@login_required
@require_POST
def delete_option(request: HttpRequest, pk: int) -> HttpResponse:
    option = _option_for(request, pk)
    try:
        services.delete_option(option, actor=request.user)
    except services.EstimateError as error:
        messages.error(request, str(error))
        return redirect(_editor_url(option.estimate, option))
    return redirect(_editor_url(option.estimate))


@login_required
@require_POST
def make_primary(request: HttpRequest, pk: int) -> HttpResponse:
    option = _option_for(request, pk)
    services.make_primary(option, actor=request.user)
    return redirect(_editor_url(option.estimate, option))


@login_required
@require_POST
def apply_package(request: HttpRequest, pk: int) -> HttpResponse:
    option = _option_for(request, pk)
    value = request.POST.get("package", "")
    package = Package.objects.filter(pk=value if value.isdigit() else 0).first()
    if package is None:
        return _render_editor(request, option.estimate, option, error=_("Pick a package."))
    try:
        services.apply_package(option, package, actor=request.user)
    except services.EstimateError as error:
        return _render_editor(request, option.estimate, option, error=str(error))
    return _render_editor(request, option.estimate, option)


@owner_required
@require_POST
def save_as_package(request: HttpRequest, pk: int) -> HttpResponse:
    option = _option_for(request, pk)
    form = forms.PackageFromOptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A package needs a name."))
    else:
        try:
            package = services.save_as_package(option, actor=request.user, **form.cleaned_data)
        except services.EstimateError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request, _("Saved as the package “%(name)s”.") % {"name": package.name}
            )
    return redirect(_editor_url(option.estimate, option))


@login_required
@require_POST
def add_page(request: HttpRequest, pk: int) -> HttpResponse:
    option = _option_for(request, pk)
    pages = list(option.lines.filter(kind=EstimateLine.Kind.PAGE))
    form = forms.AddPageForm(request.POST, price_list=option.estimate.price_list, pages=pages)
    return _apply_form(
        request,
        option,
        form,
        form_key="add_page_form",
        invalid=_("The page was not added: check the fields marked below."),
        change=lambda data: services.add_page(
            option,
            data["page_type"],
            actor=request.user,
            parent=form.parent_line(),
            quantity=data["quantity"],
        ),
    )


@login_required
@require_POST
def add_service(request: HttpRequest, pk: int) -> HttpResponse:
    option = _option_for(request, pk)
    return _apply_form(
        request,
        option,
        forms.AddServiceForm(request.POST, price_list=option.estimate.price_list),
        form_key="add_service_form",
        invalid=_("The service was not added: check the fields marked below."),
        change=lambda data: services.add_service(
            option, data["service"], actor=request.user, quantity=data["quantity"]
        ),
    )


@login_required
@require_POST
def add_custom_line(request: HttpRequest, pk: int) -> HttpResponse:
    option = _option_for(request, pk)
    return _apply_form(
        request,
        option,
        forms.CustomLineForm(request.POST),
        form_key="custom_form",
        invalid=_("The line was not added: check the fields marked below."),
        change=lambda data: services.add_custom_line(option, actor=request.user, **data),
    )


@login_required
@require_POST
def add_multiplier(request: HttpRequest, pk: int) -> HttpResponse:
    option = _option_for(request, pk)
    return _apply_form(
        request,
        option,
        forms.MultiplierForm(request.POST, roles=option.estimate.roles),
        form_key="multiplier_form",
        invalid=_("The multiplier was not added: check the fields marked below."),
        change=lambda data: services.add_multiplier(option, actor=request.user, **data),
    )


@login_required
@require_POST
def remove_multiplier(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    option = _option_for(request, pk)
    try:
        services.remove_multiplier(option, index, actor=request.user)
    except services.EstimateError as error:
        return _render_editor(request, option.estimate, option, error=str(error))
    return _render_editor(request, option.estimate, option)


@login_required
@require_POST
def update_line(request: HttpRequest, pk: int) -> HttpResponse:
    """Live recalculation: one line changed, answer its figures and the option's totals."""
    line = _line_for(request, pk)
    estimate, option = line.option.estimate, line.option
    form = forms.LineForm(request.POST, prefix=f"line-{line.pk}", line=line)
    if not form.is_valid():
        if not request.htmx:
            messages.error(
                request, _("The line was not changed: %(errors)s") % {"errors": _errors_text(form)}
            )
            return redirect(_editor_url(estimate, option))
        return render(
            request, "estimates/_line_errors.html", {"line": line, "errors": _errors_text(form)}
        )
    try:
        result = services.update_line(line, actor=request.user, **form.cleaned_data)
    except services.EstimateError as error:
        if not request.htmx:
            messages.error(request, str(error))
            return redirect(_editor_url(estimate, option))
        return render(request, "estimates/_line_errors.html", {"line": line, "errors": str(error)})
    if not request.htmx:
        return redirect(_editor_url(estimate, option))
    priced = result.priced
    context = totals_context(estimate, priced.option, priced)
    context["item"] = next(i for i in [*priced.pages, *priced.services] if i.line.pk == line.pk)
    return render(request, "estimates/_line_update.html", context)


def _errors_text(form: Any) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return "; ".join(parts)


@login_required
def line_details(request: HttpRequest, pk: int) -> HttpResponse:
    line = _line_for(request, pk)
    estimate, option = line.option.estimate, line.option
    if request.method == "POST":
        form = forms.LineDetailsForm(
            request.POST, prefix=f"details-{line.pk}", line=line, roles=estimate.roles
        )
        if form.is_valid():
            try:
                services.update_line(line, actor=request.user, **form.changes())
            except services.EstimateError as error:
                form.add_error(None, str(error))
            else:
                response = _render_editor(request, estimate, option)
                if request.htmx:
                    response["HX-Retarget"] = "#editor"
                    response["HX-Reswap"] = "outerHTML"
                return response
        if not request.htmx:
            messages.error(
                request, _("The line was not changed: %(errors)s") % {"errors": _errors_text(form)}
            )
            return redirect(_editor_url(estimate, option))
    else:
        initial = {
            "description": line.description,
            "parent": line.parent_id,
            "unit": line.unit,
            "stage": line.stage,
            "unit_cost": line.unit_cost,
        }
        initial.update({f"hours_{code}": hours for code, hours in (line.work or {}).items()})
        form = forms.LineDetailsForm(
            initial=initial, prefix=f"details-{line.pk}", line=line, roles=estimate.roles
        )
    return render(
        request,
        "estimates/_line_details.html",
        {"line": line, "form": form, "estimate": estimate, "option": option},
    )


@login_required
@require_POST
def delete_line(request: HttpRequest, pk: int) -> HttpResponse:
    line = _line_for(request, pk)
    services.delete_line(line, actor=request.user)
    return _render_editor(request, line.option.estimate, line.option)


# --- price list (owner) --------------------------------------------------------------------

KINDS: dict[str, tuple[type, type]] = {
    "roles": (Role, forms.RoleForm),
    "services": (Service, forms.ServiceForm),
    "pages": (PageType, forms.PageTypeForm),
    "packages": (Package, forms.PackageForm),
}


def _kind_label(kind: str) -> str:
    return {
        "roles": _("Role"),
        "services": _("Service"),
        "pages": _("Page type"),
        "packages": _("Package"),
    }[kind]


@owner_required
def price_lists(request: HttpRequest) -> HttpResponse:
    form = forms.PriceListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        price_list = catalog.save_price_item(
            form.instance, actor=request.user, created=True, changes=audit.field_changes(form)
        )
        messages.success(request, _("Price list created. Add roles first, then services."))
        return redirect(price_list.get_absolute_url())
    lists = PriceList.objects.all()
    return render(
        request,
        "estimates/price_lists.html",
        {"lists": lists, "form": form, "duplicate_form": forms.DuplicatePriceListForm()},
    )


@owner_required
@require_POST
def duplicate_price_list(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(PriceList, pk=pk)
    form = forms.DuplicatePriceListForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not copied: %(errors)s") % {"errors": _errors_text(form)})
        return redirect("estimates:price_lists")
    try:
        copy = catalog.duplicate_price_list(source, actor=request.user, **form.cleaned_data)
    except services.EstimateError as error:
        messages.error(request, str(error))
        return redirect("estimates:price_lists")
    messages.success(request, _("Price list copied. Check the rounded prices."))
    return redirect(copy.get_absolute_url())


@owner_required
def price_list(request: HttpRequest, pk: int) -> HttpResponse:
    price_list = get_object_or_404(PriceList, pk=pk)
    tab = request.GET.get("tab", "roles")
    if tab not in KINDS:
        tab = "roles"
    form = forms.PriceListForm(request.POST or None, instance=price_list)
    if request.method == "POST" and form.is_valid():
        catalog.save_price_item(
            form.instance, actor=request.user, created=False, changes=audit.field_changes(form)
        )
        messages.success(request, _("Price list saved."))
        return redirect(price_list.get_absolute_url())
    items = list(
        {
            "roles": price_list.roles.all(),
            "services": price_list.services.all(),
            "pages": price_list.page_types.all(),
            "packages": price_list.packages.all(),
        }[tab]
    )
    rates = {role.code: role.hourly_rate for role in price_list.roles.all()}
    for item in items:
        if tab in ("services", "pages"):
            # What a unit costs the client when its price comes from the hours.
            item.price_from_hours = round_money(
                sum(
                    (Decimal(str(hours)) * rates.get(code, 0) for code, hours in item.work.items()),
                    Decimal(0),
                )
            )
    return render(
        request,
        "estimates/price_list.html",
        {
            "price_list": price_list,
            "tab": tab,
            "items": items,
            "form": form,
            "roles": list(price_list.roles.all()),
            "kind_label": _kind_label(tab),
        },
    )


@owner_required
def price_item(
    request: HttpRequest, pk: int, kind: str, item_pk: int | None = None
) -> HttpResponse:
    if kind not in KINDS:
        raise Http404
    price_list = get_object_or_404(PriceList, pk=pk)
    model, form_class = KINDS[kind]
    instance = (
        get_object_or_404(model, pk=item_pk, price_list=price_list)
        if item_pk is not None
        else model(price_list=price_list)
    )
    form = form_class(request.POST or None, instance=instance, price_list=price_list)
    if request.method == "POST" and form.is_valid():
        catalog.save_price_item(
            form.instance,
            actor=request.user,
            created=item_pk is None,
            changes=audit.field_changes(form),
        )
        messages.success(request, _("Saved."))
        return redirect(f"{price_list.get_absolute_url()}?tab={kind}")
    return render(
        request,
        "estimates/price_item.html",
        {
            "price_list": price_list,
            "kind": kind,
            "kind_label": _kind_label(kind),
            "form": form,
            "item": instance if item_pk else None,
        },
    )


@owner_required
@require_POST
def delete_price_item(request: HttpRequest, pk: int, kind: str, item_pk: int) -> HttpResponse:
    if kind not in KINDS:
        raise Http404
    price_list = get_object_or_404(PriceList, pk=pk)
    model = KINDS[kind][0]
    item = get_object_or_404(model, pk=item_pk, price_list=price_list)
    if kind == "roles":
        catalog.delete_role(item, actor=request.user)
    else:
        catalog.delete_price_item(item, actor=request.user)
    messages.success(request, _("Deleted. Estimates already made keep their copy."))
    return redirect(f"{price_list.get_absolute_url()}?tab={kind}")


# --- rules (owner) -------------------------------------------------------------------------


def _known_question_keys() -> set[str] | None:
    """Keys the brief templates ask."""
    return briefs.question_keys()


@owner_required
def rules(request: HttpRequest) -> HttpResponse:
    known = _known_question_keys()
    items = list(EstimateRule.objects.all())
    language = translation.get_language() or "en"
    questions = briefs.question_labels(language)
    templates = briefs.template_names(language)
    targets = _target_names(language)
    for rule in items:
        rule.unknown_question = bool(
            known is not None and known and rule.question_key and rule.question_key not in known
        )
        # What the owner reads: the question, the answer and the item by their names; the
        # codes stay in a tooltip.
        question, choices = questions.get(rule.question_key, ("", {}))
        rule.question_label = question or rule.question_key
        rule.value_label = choices.get(rule.value, rule.value)
        rule.template_label = templates.get(rule.template_key, rule.template_key)
        rule.target_label = targets.get((rule.action, rule.target), rule.target)
        rule.note_label = defaults.shipped_note(rule.note, language)
    return render(request, "estimates/rules.html", {"rules": items})


def _target_names(language: str) -> dict[tuple[str, str], str]:
    """(rule action, target code) → the name in the price lists, lists in ``language``
    winning over the others."""
    lists = sorted(PriceList.objects.all(), key=lambda item: item.language == language)
    order = {price_list.pk: index for index, price_list in enumerate(lists)}
    names: dict[tuple[str, str], str] = {}
    sources = [
        (EstimateRule.Action.ADD_PAGE, PageType.objects.all(), "slug"),
        (EstimateRule.Action.ADD_SERVICE, Service.objects.all(), "code"),
        (EstimateRule.Action.MULTIPLY_ROLE, Role.objects.all(), "code"),
        (EstimateRule.Action.SET_OPTION, Package.objects.all(), "code"),
    ]
    for action, queryset, field in sources:
        for item in sorted(queryset, key=lambda row: order.get(row.price_list_id, -1)):
            names[(action, getattr(item, field))] = item.name
    return names


@owner_required
def rule_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(EstimateRule, pk=pk) if pk else EstimateRule()
    form = forms.RuleForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        catalog.save_price_item(
            form.instance, actor=request.user, created=pk is None, changes=audit.field_changes(form)
        )
        messages.success(request, _("Rule saved."))
        return redirect("estimates:rules")
    return render(
        request,
        "estimates/rule_form.html",
        {
            "form": form,
            "rule": instance if pk else None,
            "keys": sorted(_known_question_keys() or []),
        },
    )


@owner_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(EstimateRule, pk=pk)
    catalog.delete_price_item(rule, actor=request.user)
    messages.success(request, _("Rule deleted."))
    return redirect("estimates:rules")
