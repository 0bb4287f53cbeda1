"""Reading an uploaded table: CSV (UTF-8, UTF-8 with BOM or cp1251; `;`, `,` or tab) or XLSX.

Everything here distrusts the file: size and row limits, binary garbage, formula cells.
What comes out is a header row and data rows of plain values (str, or for XLSX also numbers
and datetimes); formulas are never evaluated.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

# Tried in this order: a BOM says UTF-8 for sure; strict UTF-8 rarely decodes anything else;
# cp1251 (Bitrix24 and amoCRM exports from Windows Excel) decodes almost any byte string, so
# it goes last and is checked for garbage.
ENCODINGS = ("utf-8-sig", "cp1251")
DELIMITERS = ";,\t"
# Control characters other than tab/CR/LF: text files have next to none, binary files many.
CONTROL = {chr(code) for code in range(32)} - {"\t", "\r", "\n"}


class UnreadableFile(ValueError):
    """The file cannot be read as a table; the message says why, for the owner."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[Any]]
    file_format: str
    encoding: str = ""
    delimiter: str = ""
    # (row index, column index) of XLSX cells that held a formula: never imported.
    formula_cells: set[tuple[int, int]] | None = None


def max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024)


def max_rows() -> int:
    return getattr(settings, "IMPORT_MAX_ROWS", 100_000)


def detect_format(name: str, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise UnreadableFile(_("The file is named .xlsx but is not an Excel workbook."))
    return "csv"


def decode(raw: bytes) -> tuple[str, str]:
    """The text and the encoding it was read with, or UnreadableFile for binary data."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a byte-order mark.
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise UnreadableFile(_("The file's encoding is not UTF-8 or Windows-1251.")) from error
    if b"\x00" in raw[:65536]:
        raise UnreadableFile(_("This is not a text file (it contains binary data)."))
    for encoding in ENCODINGS:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:65536]
        controls = sum(1 for char in sample if char in CONTROL)
        if sample and controls / len(sample) > 0.01:
            raise UnreadableFile(_("This is not a text file (it contains binary data)."))
        if encoding == "utf-8-sig":
            encoding = "utf-8-bom" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
        return text, encoding
    raise UnreadableFile(_("The file's encoding is not UTF-8 or Windows-1251."))


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the candidate that splits it into most columns
    (quoted cells counted as csv reads them)."""
    first = text.split("\n", 1)[0]
    best, best_count = ",", 0
    for candidate in DELIMITERS:
        count = len(next(csv.reader([first], delimiter=candidate), []))
        if count > best_count:
            best, best_count = candidate, count
    return best


def _clean_header(value: Any) -> str:
    return " ".join(str(value or "").replace("\ufeff", "").split())


def read_csv(raw: bytes) -> Table:
    text, encoding = decode(raw)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = [_clean_header(value) for value in next(reader, [])]
        rows = []
        limit = max_rows()
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            rows.append(row)
            if len(rows) > limit:
                raise UnreadableFile(
                    _("The file has more than %(limit)d rows; split it.") % {"limit": limit}
                )
    except csv.Error as error:
        raise UnreadableFile(
            _("The CSV file is malformed: %(error)s") % {"error": error}
        ) from error
    return Table(
        headers=headers, rows=rows, file_format="csv", encoding=encoding, delimiter=delimiter
    )


def read_xlsx(raw: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        # A zip bomb: a few megabytes that unpack to gigabytes of sheet XML.
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise UnreadableFile(_("The workbook cannot be opened.")) from error
    if unpacked > 20 * max_bytes():
        raise UnreadableFile(_("The workbook unpacks to too much data; save it as CSV."))
    try:
        # Formulas are read as their text (data_only=False) and refused per cell: a cached
        # result may be stale or crafted, and nothing here evaluates them.
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise UnreadableFile(_("The workbook cannot be opened.")) from error
    try:
        sheet = workbook.worksheets[0]
        headers: list[str] = []
        rows: list[list[Any]] = []
        formulas: set[tuple[int, int]] = set()
        limit = max_rows()
        for index, cells in enumerate(sheet.iter_rows()):
            values = []
            for column, cell in enumerate(cells):
                value = cell.value
                if getattr(cell, "data_type", "") == "f":
                    formulas.add((len(rows), column))
                    value = ""
                values.append(value)
            if index == 0:
                headers = [_clean_header(value) for value in values]
                continue
            if not any(value not in (None, "") for value in values):
                continue
            rows.append(values)
            if len(rows) > limit:
                raise UnreadableFile(
                    _("The file has more than %(limit)d rows; split it.") % {"limit": limit}
                )
    finally:
        workbook.close()
    return Table(headers=headers, rows=rows, file_format="xlsx", formula_cells=formulas)


def read_table(name: str, raw: bytes) -> Table:
    """Read an uploaded file. UnreadableFile says what is wrong with it."""
    if len(raw) > max_bytes():
        raise UnreadableFile(
            _("The file is larger than %(size)d MB.") % {"size": max_bytes() // (1024 * 1024)}
        )
    if not raw.strip():
        raise UnreadableFile(_("The file is empty."))
    file_format = detect_format(name, raw[:8])
    table = read_xlsx(raw) if file_format == "xlsx" else read_csv(raw)
    if not any(table.headers):
        raise UnreadableFile(_("The first row must hold the column names."))
    if not table.rows:
        raise UnreadableFile(_("The file has column names but no rows."))
    return table


def cell_text(value: Any) -> str:
    """A cell as text: dates as ISO, whole floats without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
