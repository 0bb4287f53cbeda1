"""Analytics pages: the dashboard, its exports and the owner's report settings."""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from studiocrm.analytics import cache, services
from studiocrm.analytics.forms import FilterForm, ProbabilityForm, lost_reason_forms
from studiocrm.analytics.models import AnalyticsSettings
from studiocrm.analytics.reports import Filters, Report, Table
from studiocrm.core.models import Studio, User
from studiocrm.core.permissions import owner_required
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import Stage

EXPORT_FORMATS = ("csv", "xlsx")


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months: from the first day of the month eleven months back."""
    month = today.replace(day=1)
    for _step in range(11):
        month = (month - timedelta(days=1)).replace(day=1)
    return month, today


def build_report(request: HttpRequest) -> tuple[FilterForm, Report | None]:
    user: User = request.user  # type: ignore[assignment]
    studio = Studio.load()
    today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(studio.time_zone)).date()
    start, end = default_period(today)
    form = FilterForm(
        request.GET or None,
        user=user,
        default_from=start,
        default_to=end,
        initial={"date_from": start, "date_to": end},
    )
    if form.is_bound and not form.is_valid():
        return form, None
    data = form.cleaned_data if form.is_bound else {}
    manager = data.get("manager")
    filters = Filters(
        start=data.get("date_from") or start,
        end=data.get("date_to") or end,
        tzname=studio.time_zone,
        # Managers see their own figures; owners see everyone's or pick one manager.
        manager_id=(manager.pk if manager else None) if user.is_owner else user.pk,
        source=data.get("source") or "",
        currency=data.get("currency") or "",
        unit=data.get("unit") or "month",
    )
    return form, Report(filters, sla_minutes=AnalyticsSettings.load().new_lead_sla_minutes)


def label_for(value: Any, kind: str, unit: str) -> Any:
    if isinstance(value, date):
        return format_date(value, "j M Y" if kind == "period" and unit == "week" else "M Y")
    return value


def chart_payload(table: Table, unit: str) -> list[dict[str, Any]]:
    """Chart.js-ready data: labels as text, numbers as numbers."""
    if not table.chart:
        return []
    charts = table.chart.get("multi") or [table.chart]
    payload = []
    for chart in charts:
        payload.append(
            {
                **chart,
                "labels": [str(label_for(label, "period", unit)) for label in chart["labels"]],
                "series": [
                    {
                        "label": series["label"],
                        "data": [
                            float(value) if isinstance(value, Decimal) else value
                            for value in series["data"]
                        ],
                    }
                    for series in chart["series"]
                ],
            }
        )
    return payload


SECTION_TITLES = {
    "inflow": _lazy("Inflow"),
    "funnel": _lazy("Funnel"),
    "speed": _lazy("Speed"),
    "money": _lazy("Money"),
    "effort": _lazy("Effort"),
    "managers": _lazy("Per manager"),
}


def canonical_query(report: Report, owner: bool) -> str:
    filters = report.filters
    values = {
        "date_from": filters.start.isoformat(),
        "date_to": filters.end.isoformat(),
        "unit": filters.unit,
        "manager": filters.manager_id if owner and filters.manager_id else "",
        "source": filters.source,
        "currency": filters.currency,
    }
    return urlencode({key: value for key, value in values.items() if value})


def sections_html(report: Report, query: str, version: str | None) -> str:
    computed = cache.section_tables(report, Report.SECTIONS, version)
    sections = [
        {
            "key": name,
            "title": SECTION_TITLES[name],
            "tables": [
                {"table": table, "charts": chart_payload(table, report.filters.unit)}
                for table in computed[name]
            ],
        }
        for name in Report.SECTIONS
    ]
    return render_to_string(
        "analytics/sections.html",
        {"sections": sections, "query": query, "unit": report.filters.unit},
    )


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    form, report = build_report(request)
    query = request.GET.copy().urlencode()
    html = ""
    if report is not None:
        # The sections' links carry the filters as understood, not the raw query string:
        # whatever a visitor appends makes no new cache entry.
        canonical = canonical_query(report, request.user.is_owner)  # type: ignore[union-attr]
        html = cache.rendered(
            report, "page", lambda version: sections_html(report, canonical, version)
        )
    return render(
        request,
        "analytics/dashboard.html",
        {
            "form": form,
            "report": report,
            "sections": [{"key": key, "title": title} for key, title in SECTION_TITLES.items()],
            "sections_html": mark_safe(html),  # noqa: S308 (our own template's output)
            "query": query,
            "unit": report.filters.unit if report else "month",
        },
        status=200 if report is not None else 400,
    )


def table_rows_for_export(table: Table) -> list[list[Any]]:
    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return value[1]
        if value is None or isinstance(value, (int, float, Decimal, date)):
            return value
        return str(value)

    rows = [[plain(value) for value in row] for row in table.rows]
    if table.total:
        rows.append([plain(value) for value in table.total])
    return rows


@login_required
@require_GET
def export(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise Http404
    _form, report = build_report(request)
    if report is None:
        return HttpResponse(_("Check the filters."), status=400, content_type="text/plain")
    section = next((name for name in Report.SECTIONS if key in SECTION_TABLES.get(name, ())), None)
    if section is None:
        raise Http404
    tables = cache.section_tables(report, [section])[section]
    table = next((table for table in tables if table.key == key), None)
    if table is None:
        raise Http404
    header = [str(column.label) for column in table.columns]
    rows = table_rows_for_export(table)
    filename = f"{key}-{report.filters.start.isoformat()}-{report.filters.end.isoformat()}"
    if fmt == "csv":
        buffer = io.StringIO()
        # The byte-order mark lets spreadsheet programs read Cyrillic text as UTF-8.
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(
            [
                [value.isoformat() if isinstance(value, date) else value for value in row]
                for row in rows
            ]
        )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            xlsx_bytes(str(table.title), header, rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def xlsx_bytes(title: str, header: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    # Sheet titles: at most 31 characters and none of []:*?/\
    sheet.title = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "report"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column in sheet.columns:
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 48)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Which tables each section makes, so an export computes only its own section.
SECTION_TABLES = {
    "inflow": ("inflow", "utm", "first_response"),
    "funnel": ("funnel", "cohorts", "lost_reasons"),
    "speed": ("stage_time", "milestones", "slowest", "reminders"),
    "money": ("money_month", "money_summary", "pipeline"),
    "effort": ("effort",),
    "managers": ("managers",),
}


@owner_required
def report_settings(request: HttpRequest) -> HttpResponse:
    stages = list(Stage.objects.order_by("position"))
    current = AnalyticsSettings.load()
    data = request.POST if request.method == "POST" else None
    form = ProbabilityForm(data, stages=stages, initial={"sla": current.new_lead_sla_minutes})
    reasons = lost_reason_forms(data)
    if request.method == "POST":
        valid = form.is_valid() and all(reason_form.is_valid() for _r, reason_form in reasons)
        if valid:
            try:
                with transaction.atomic():
                    deal_services.set_stage_probabilities(form.probabilities(), actor=request.user)
                    services.set_new_lead_sla(form.cleaned_data["sla"], actor=request.user)
                    for reason, reason_form in reasons:
                        name = reason_form.cleaned_data["name"]
                        if reason is None and not name.strip():
                            continue
                        deal_services.save_lost_reason(
                            reason,
                            name=name,
                            active=reason_form.cleaned_data["active"],
                            actor=request.user,
                        )
            except deal_services.DealError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("Analytics settings saved."))
                return redirect("analytics:settings")
        return render(
            request,
            "analytics/settings.html",
            {"form": form, "reasons": reasons},
            status=400,
        )
    return render(request, "analytics/settings.html", {"form": form, "reasons": reasons})
