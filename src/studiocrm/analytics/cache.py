"""A short cache of computed report tables.

The dashboard at a hundred thousand deals is a dozen aggregate queries over a million stage
changes; an owner clicking between filters, or a manager reloading, should not pay for it
each time. Tables are kept for ANALYTICS_CACHE_SECONDS (60 by default; 0 switches the cache
off) per filter set, section, language and SLA, in Django's cache (Redis when CACHE_URL is
set, so every web process shares it).

Invalidation: the key holds the data's version — the newest row id of every table whose new
rows change a figure (stage moves, events, audit rows of people's edits, invoices,
payments, outgoing letters, tasks, deals), and of the queue of deals changed in place
(filled by database triggers, analytics/cells.py; the newest id taken off it when it is
empty), read in one query over their primary keys. A new application, stage move, payment,
edit or reassignment therefore shows at once; only figures that depend on the clock alone
(ages, "overdue now") may be up to a minute old.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from studiocrm.analytics.models import DirtyDeal, FactsState
from studiocrm.analytics.sql import fetch
from studiocrm.billing.models import Invoice, Payment
from studiocrm.core.models import AuditLog
from studiocrm.deals.models import Deal, Event, StageChange, Task
from studiocrm.notifications.models import Outbox

if TYPE_CHECKING:
    from studiocrm.analytics.reports import Report, Table

DEFAULT_SECONDS = 60
VERSIONED = (StageChange, Event, AuditLog, Invoice, Payment, Outbox, Task, Deal)


def seconds() -> int:
    return int(getattr(settings, "ANALYTICS_CACHE_SECONDS", DEFAULT_SECONDS))


def data_version() -> str:
    """The newest id of each table that feeds the reports, in one query."""
    # Table names from the models, nothing from the request.
    parts = ", ".join(f"(SELECT MAX(id) FROM {m._meta.db_table})" for m in VERSIONED)  # noqa: S608
    state, dirty = FactsState._meta.db_table, DirtyDeal._meta.db_table
    (row,) = fetch(
        f"""SELECT {parts}, (SELECT MAX(id) FROM {dirty}),
                  (SELECT dirty_seen FROM {state} WHERE id = 1)"""  # noqa: S608
    )
    # A deal changed in place: the queue's newest id, or once taken off, the newest taken.
    row = (*row[:-2], max(row[-2] or 0, row[-1] or 0))
    return "-".join(str(value or 0) for value in row)


def key(report: Report, section: str, version: str) -> str:
    filters = report.filters
    identity = repr(
        (
            filters.start,
            filters.end,
            filters.tzname,
            filters.manager_id,
            filters.source,
            filters.currency,
            filters.unit,
            report.sla_minutes,
            translation.get_language(),
            section,
            version,
        )
    )
    return "analytics:tables:v1:" + hashlib.sha256(identity.encode()).hexdigest()


def section_tables(
    report: Report, sections: list[str] | tuple[str, ...], version: str | None = None
) -> dict[str, list[Table]]:
    """The tables of each section, from the cache when the data has not changed since."""
    ttl = seconds()
    if ttl <= 0:
        return {section: report.tables(section) for section in sections}
    version = version or data_version()
    keys = {section: key(report, section, version) for section in sections}
    found = cache.get_many(list(keys.values()))
    result, computed = {}, {}
    for section in sections:
        if keys[section] in found:
            result[section] = found[keys[section]]
        else:
            result[section] = computed[keys[section]] = report.tables(section)
    if computed:
        cache.set_many(computed, ttl)
    return result


def rendered(report: Report, name: str, render: Callable[[str | None], str]) -> str:
    """HTML made by `render(version)` for this report, from the cache when the data has not
    changed since (the dashboard's sections: rendering every table costs more than reading
    them back)."""
    ttl = seconds()
    if ttl <= 0:
        return render(None)
    version = data_version()
    cache_key = key(report, name, version)
    html = cache.get(cache_key)
    if html is None:
        html = render(version)
        cache.set(cache_key, html, ttl)
    return html
