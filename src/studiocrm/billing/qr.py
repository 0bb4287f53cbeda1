"""Payment QR codes for bank transfer.

- RUB: GOST R 56042-2014 ("ST00012|Name=...|..."), the format every Russian banking app reads.
  Version 0001, character set 2 (UTF-8); keys and values joined by "|", amounts in kopecks.
- EUR: the European Payments Council's SEPA credit transfer code (EPC069-12, "BCD" / version
  002 / character set 1 = UTF-8 / "SCT"), lines joined by LF, amount as "EUR123.45".

Each builder returns None when the studio's bank details are not complete enough for a
payment app to act on; the invoice then shows the details without a code.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal

import segno

from studiocrm.core.money import round_money

GOST_HEADER = "ST00012"
# Field limits from GOST R 56042-2014, table 1.
_GOST_LIMITS = {
    "Name": 160,
    "PersonalAcc": 20,
    "BankName": 45,
    "BIC": 9,
    "CorrespAcc": 20,
    "Purpose": 210,
    "PayeeINN": 12,
}
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


@dataclass(frozen=True)
class BankDetails:
    """The payee's details as printed on the invoice."""

    name: str
    account: str
    bank_name: str
    bank_code: str
    correspondent_account: str = ""
    tax_id: str = ""


def _gost_value(value: str, limit: int) -> str:
    # "|" separates fields and may not occur in a value; line breaks would break scanners.
    cleaned = " ".join(value.replace("|", " ").split())
    return cleaned[:limit]


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def gost_payload(details: BankDetails, amount: Decimal, purpose: str) -> str | None:
    """The GOST R 56042-2014 string for a transfer of ``amount`` roubles, or None if the
    details lack a 20-digit account, a 9-digit BIC or a correspondent account."""
    account = _digits(details.account)
    bic = _digits(details.bank_code)
    correspondent = _digits(details.correspondent_account)
    if len(account) != 20 or len(bic) != 9 or not correspondent or not details.name.strip():
        return None
    if not details.bank_name.strip():
        return None
    kopecks = int(round_money(amount) * 100)
    fields = [
        ("Name", details.name),
        ("PersonalAcc", account),
        ("BankName", details.bank_name),
        ("BIC", bic),
        ("CorrespAcc", correspondent),
        ("Sum", str(kopecks)),
        ("Purpose", purpose),
    ]
    tax_id = _digits(details.tax_id)
    if tax_id:
        fields.append(("PayeeINN", tax_id))
    parts = [GOST_HEADER]
    for key, value in fields:
        limit = _GOST_LIMITS.get(key)
        parts.append(f"{key}={_gost_value(value, limit) if limit else value}")
    return "|".join(parts)


def epc_payload(details: BankDetails, amount: Decimal, remittance: str) -> str | None:
    """The EPC069-12 (SEPA credit transfer) payload for ``amount`` euro, or None if the
    account is not an IBAN or the amount is outside 0.01 … 999 999 999.99."""
    iban = re.sub(r"\s", "", details.account).upper()
    bic = re.sub(r"\s", "", details.bank_code).upper()
    amount = round_money(amount)
    if not _IBAN.match(iban) or not details.name.strip():
        return None
    if not Decimal("0.01") <= amount <= Decimal("999999999.99"):
        return None
    lines = [
        "BCD",
        "002",
        "1",
        "SCT",
        bic if _BIC.match(bic) else "",
        " ".join(details.name.split())[:70],
        iban,
        f"EUR{amount:.2f}",
        "",  # purpose code
        "",  # structured creditor reference (ISO 11649); we send free text instead
        " ".join(remittance.split())[:140],
    ]
    return "\n".join(lines)


# The currencies with a payment-code standard we print.
QR_CURRENCIES = ("RUB", "EUR")


def payload_for(details: BankDetails, amount: Decimal, currency: str, purpose: str) -> str | None:
    """The right code for the invoice's currency, if the details allow one."""
    if currency == "RUB":
        return gost_payload(details, amount, purpose)
    if currency == "EUR":
        return epc_payload(details, amount, purpose)
    return None


# The quiet zone a scanner needs around the code (ISO/IEC 18004: four modules).
QUIET_ZONE = 4


def _code(payload: str) -> segno.QRCode:
    return segno.make(payload, error="m", micro=False)


def svg(payload: str, *, title: str = "") -> str:
    """The code as an inline SVG element (no XML declaration) for pages and PDFs.

    It carries a ``viewBox``, so CSS may size it to anything and it scales whole (without
    one, a smaller box clips the code); ``width``/``height`` in modules only give it an
    aspect ratio. ``crispEdges`` keeps module edges sharp when a module is not a whole
    number of pixels."""
    code = _code(payload)
    markup = code.svg_inline(
        omitsize=True,
        border=QUIET_ZONE,
        dark="#000",
        light="#fff",
        svgclass="payment-qr",
        title=title or None,
    )
    size = code.symbol_size(border=QUIET_ZONE)[0]
    return markup.replace(
        "<svg ",
        f'<svg width="{size * 4}" height="{size * 4}" role="img" shape-rendering="crispEdges" ',
        1,
    )


def svg_file(payload: str) -> bytes:
    """The code as a standalone SVG file (for "save the QR code")."""
    code = _code(payload)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", border=QUIET_ZONE, omitsize=True, dark="#000", light="#fff")
    size = code.symbol_size(border=QUIET_ZONE)[0] * 10
    # viewBox to scale whole, a size for viewers that need one.
    return buffer.getvalue().replace(b"<svg ", f'<svg width="{size}" height="{size}" '.encode(), 1)


def png_file(payload: str, *, scale: int = 10) -> bytes:
    """The code as a PNG image, ``scale`` pixels a module (for "save the QR code")."""
    buffer = io.BytesIO()
    _code(payload).save(
        buffer, kind="png", border=QUIET_ZONE, scale=scale, dark="#000", light="#fff"
    )
    return buffer.getvalue()
