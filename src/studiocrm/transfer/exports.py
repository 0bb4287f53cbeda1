"""Exports of clients with their contacts, deals, and deals' stage history, as CSV or XLSX.

Headers are the import's field labels, so an export imports back. Cells a spreadsheet would
run as a formula (starting with = + - @, tab or CR) are written as text: an apostrophe
before them in CSV (the import takes it off again), an explicit string cell in XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from studiocrm.clients.models import Client, Contact
from studiocrm.deals.models import Deal, StageChange
from studiocrm.transfer.mapping import FIELDS

KINDS = ("clients", "deals", "history")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(DANGEROUS) else value


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    return value


def rows_for(kind: str) -> tuple[list[str], Iterator[list[Any]]]:
    label = {key: str(value) for key, value in FIELDS.items()}
    if kind == "clients":
        header = [
            label["client_name"],
            label["client_tax_id"],
            label["contact_name"],
            label["contact_position"],
            label["contact_email"],
            label["contact_phone"],
        ]

        def clients() -> Iterator[list[Any]]:
            contacts: dict[int, list[Contact]] = {}
            for contact in Contact.objects.order_by("pk").iterator(chunk_size=2000):
                contacts.setdefault(contact.client_id, []).append(contact)
            for client in Client.objects.order_by("pk").iterator(chunk_size=2000):
                for contact in contacts.get(client.pk) or [None]:
                    yield [
                        client.name,
                        client.tax_id,
                        *(
                            [contact.name, contact.position, contact.email, contact.phone]
                            if contact
                            else ["", "", "", ""]
                        ),
                    ]

        return header, clients()
    if kind == "deals":
        header = [
            label[key]
            for key in (
                "deal_title",
                "deal_stage",
                "deal_amount",
                "deal_currency",
                "deal_manager",
                "deal_created",
                "deal_closed",
                "client_name",
                "client_tax_id",
                "contact_name",
                "contact_email",
                "contact_phone",
            )
        ]

        def deals() -> Iterator[list[Any]]:
            queryset = Deal.objects.select_related("stage", "manager", "client", "contact")
            for deal in queryset.order_by("pk").iterator(chunk_size=2000):
                contact = deal.contact
                yield [
                    deal.title,
                    deal.stage.label,
                    deal.amount,
                    deal.currency,
                    deal.manager.get_full_name() or deal.manager.username if deal.manager else "",
                    _plain(deal.created_at),
                    _plain(deal.closed_at),
                    deal.client.name,
                    deal.client.tax_id,
                    contact.name if contact else "",
                    contact.email if contact else "",
                    contact.phone if contact else "",
                ]

        return header, deals()
    header = [label["deal_title"], _("Deal ID"), _("From stage"), _("To stage"), _("When"), _("By")]

    def history() -> Iterator[list[Any]]:
        queryset = StageChange.objects.select_related("deal", "from_stage", "to_stage", "by")
        for change in queryset.order_by("deal_id", "at", "pk").iterator(chunk_size=2000):
            yield [
                change.deal.title,
                change.deal_id,
                change.from_stage.label if change.from_stage else "",
                change.to_stage.label,
                _plain(change.at),
                change.by.username if change.by else "",
            ]

    return header, history()


def csv_chunks(header: list[str], rows: Iterable[list[Any]]) -> Iterator[str]:
    """UTF-8 CSV with a BOM (spreadsheets then read Cyrillic right), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for index, row in enumerate(rows):
        writer.writerow([safe_text(value) if isinstance(value, str) else value for value in row])
        if index % 1000 == 999:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(title: str, header: list[str], rows: Iterable[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, Decimal):
                value = float(value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                # openpyxl would store "=…" as a formula; a string cell is never run.
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
