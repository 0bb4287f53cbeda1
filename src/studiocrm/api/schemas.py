"""What the REST API reads and writes. Output schemas read model attributes; input schemas
forbid unknown fields, so a misspelt field fails loudly instead of being dropped."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

from studiocrm.deals.models import Source

Money = Annotated[Decimal, Field(ge=0, le=Decimal("999999999999.99"), decimal_places=2)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
# In a JSON body a number is a number and a boolean a boolean: no "1" or 0 coerced.
BodyId = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]
Limit = Annotated[int, Field(ge=1, le=100)]


def _iso_only(value: Any) -> Any:
    """RFC 3339 text only: pydantic would also read a number as a Unix time."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}[T ]", value):
        raise ValueError("Use an RFC 3339 date-time, e.g. 2030-01-31T10:00:00Z.")
    return value


def _in_utc(value: datetime) -> datetime:
    """Held and compared in UTC: an offset the database cannot take (RFC 3339 allows
    ±23:59, PostgreSQL ±15:59) or a date at the edge of the calendar is refused with 422,
    never passed on. A time without an offset is read as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise ValueError("The date-time is out of range.") from error


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


def source_choices() -> list[str]:
    return list(Source.values)


# ---- lists ---------------------------------------------------------------------------


class Page(Schema):
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class ListQuery(Schema):
    cursor: str | None = Field(None, max_length=200, description="From `next_cursor`.")
    limit: Limit = Field(50, description="Items per page, 1 to 100.")


# ---- clients and contacts ------------------------------------------------------------


class ClientOut(Schema):
    id: int
    kind: str
    name: str
    legal_name: str
    tax_id: str
    kpp: str
    registration_number: str
    address: str
    website: str
    notes: str
    created_at: datetime


class ClientPage(Page):
    data: list[ClientOut]


class ClientQuery(ListQuery):
    q: str | None = Field(None, max_length=200, description="Part of the name or tax ID.")


class ClientIn(Strict):
    kind: str = Field("company", pattern="^(company|person)$")
    name: str = Field(min_length=1, max_length=300)
    legal_name: str = Field("", max_length=300)
    tax_id: str = Field("", max_length=32)
    kpp: str = Field("", max_length=9)
    registration_number: str = Field("", max_length=32)
    address: str = Field("", max_length=2000)
    website: str = Field("", max_length=300)
    notes: str = Field("", max_length=10_000)


class ClientPatch(Strict):
    kind: str | None = Field(None, pattern="^(company|person)$")
    name: str | None = Field(None, min_length=1, max_length=300)
    legal_name: str | None = Field(None, max_length=300)
    tax_id: str | None = Field(None, max_length=32)
    kpp: str | None = Field(None, max_length=9)
    registration_number: str | None = Field(None, max_length=32)
    address: str | None = Field(None, max_length=2000)
    website: str | None = Field(None, max_length=300)
    notes: str | None = Field(None, max_length=10_000)


class ContactOut(Schema):
    id: int
    client_id: int
    name: str
    position: str
    email: str
    phone: str
    messenger: str
    created_at: datetime


class ContactPage(Page):
    data: list[ContactOut]


class ContactQuery(ListQuery):
    client: Id | None = Field(None, description="Only this client's contacts.")


class ContactIn(Strict):
    client_id: BodyId
    name: str = Field(min_length=1, max_length=200)
    position: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    messenger: str = Field("", max_length=100)


class ContactPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    position: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    messenger: str | None = Field(None, max_length=100)


# ---- deals ---------------------------------------------------------------------------


class DealOut(Schema):
    id: int
    title: str
    client_id: int
    contact_id: int | None
    manager_id: int | None
    stage: str
    source: str
    currency: str
    expected_amount: Decimal | None
    estimated_amount: Decimal | None
    description: str
    lost_reason: str
    created_at: datetime
    updated_at: datetime
    stage_changed_at: datetime
    closed_at: datetime | None

    @staticmethod
    def resolve_stage(obj: Any) -> str:
        return obj.stage_id


class DealPage(Page):
    data: list[DealOut]


class DealQuery(ListQuery):
    stage: str | None = Field(None, max_length=32, description="Stage code, e.g. `new`.")
    manager: Id | None = Field(None, description="Responsible manager's user id.")
    client: Id | None = Field(None, description="Client id.")
    source: str | None = Field(None, max_length=16, description="Source code, e.g. `api`.")
    created_after: IsoDatetime | None = None
    created_before: IsoDatetime | None = None


class DealIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    client_id: BodyId
    contact_id: BodyId | None = None
    manager_id: BodyId | None = Field(
        None, description="Owners may assign anyone; a manager's deal is their own."
    )
    source: str = Field("api", max_length=16, description="One of the source codes.")
    currency: Currency | None = None
    expected_amount: Money | None = None
    description: str = Field("", max_length=10_000)


class DealPatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=300)
    contact_id: BodyId | None = None
    manager_id: BodyId | None = None
    source: str | None = Field(None, max_length=16)
    currency: Currency | None = None
    expected_amount: Money | None = None
    description: str | None = Field(None, max_length=10_000)


class StageMove(Strict):
    stage: str = Field(min_length=1, max_length=32, description="The stage code to move to.")
    lost_reason: str = Field(
        "", max_length=300, description="Why the deal was lost (needed for `lost`)."
    )
    reason: str | None = Field(
        None, max_length=32, description="Code of a lost reason from the studio's list."
    )


class StageOut(Schema):
    code: str
    name: str
    position: int
    kind: str
    probability: int

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.label)


# ---- tasks, notes, events ------------------------------------------------------------


class TaskOut(Schema):
    id: int
    title: str
    due_at: datetime
    deal_id: int | None
    assignee_id: int
    done: bool
    done_at: datetime | None
    created_at: datetime


class TaskPage(Page):
    data: list[TaskOut]


class TaskQuery(ListQuery):
    deal: Id | None = None
    assignee: Id | None = None
    done: bool | None = None


class TaskIn(Strict):
    title: str = Field(min_length=1, max_length=300)
    due_at: IsoDatetime
    deal_id: BodyId | None = None
    assignee_id: BodyId | None = Field(None, description="Defaults to the token's user.")


class TaskDone(Strict):
    done: StrictBool = True


class NoteOut(Schema):
    id: int
    deal_id: int
    author_id: int | None
    text: str
    created_at: datetime


class NotePage(Page):
    data: list[NoteOut]


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=10_000)


class EventOut(Schema):
    id: int
    name: str
    deal_id: int | None
    at: datetime
    actor_id: int | None
    object_type: str
    object_id: str
    payload: dict[str, Any]


class EventPage(Page):
    data: list[EventOut]


class EventQuery(ListQuery):
    deal: Id | None = None
    name: str | None = Field(None, max_length=64)


class DealQueryOnly(ListQuery):
    deal: Id | None = None


# ---- briefs, estimates, documents, invoices, payments --------------------------------


class BriefOut(Schema):
    id: int
    deal_id: int
    title: str
    language: str
    status: str
    questions: list[Any]
    answers: dict[str, Any]
    sent_at: datetime | None
    submitted_at: datetime | None


class BriefPage(Page):
    data: list[BriefOut]


class EstimateOut(Schema):
    id: int
    deal_id: int
    title: str
    currency: str
    status: str
    total: Decimal | None
    created_at: datetime
    saved_at: datetime | None


class EstimatePage(Page):
    data: list[EstimateOut]


class DocumentOut(Schema):
    id: int
    deal_id: int
    kind: str
    title: str
    language: str
    status: str
    number: int | None
    issued_on: date
    sent_at: datetime | None


class DocumentPage(Page):
    data: list[DocumentOut]


class InvoiceLineOut(Schema):
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


class InvoiceOut(Schema):
    id: int
    deal_id: int
    kind: str
    number: str
    status: str
    currency: str
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    paid_amount: Decimal
    issue_date: date | None
    due_date: date | None
    paid_at: datetime | None


class InvoiceDetailOut(InvoiceOut):
    lines: list[InvoiceLineOut]

    @staticmethod
    def resolve_lines(obj: Any) -> list[Any]:
        return list(obj.lines.all())


class InvoicePage(Page):
    data: list[InvoiceOut]


class InvoiceQuery(DealQueryOnly):
    status: str | None = Field(None, max_length=16)


class PaymentOut(Schema):
    id: int
    invoice_id: int
    provider: str
    amount: Decimal
    currency: str
    status: str
    received_on: date | None
    created_at: datetime
    confirmed_at: datetime | None


class PaymentPage(Page):
    data: list[PaymentOut]


class PaymentQuery(ListQuery):
    invoice: Id | None = None
    deal: Id | None = None
