"""The REST API, ``/api/v1/``: a person's token acts as that person (see docs/api.md).

Reads are open to every signed-in role, as in the app; every change goes through the same
domain service and the same permission check as the page that makes it, so a manager's token
can do exactly what the manager can. One error shape for every failure (``errors``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.db.models import Model, Q, QuerySet
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage
from ninja import NinjaAPI, Query, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from studiocrm.api import schemas as s
from studiocrm.api import services
from studiocrm.api.errors import COMMON_ERRORS, ApiError, error_body
from studiocrm.api.models import ApiToken
from studiocrm.billing.models import Invoice, Payment
from studiocrm.briefs.models import Brief
from studiocrm.clients import services as client_services
from studiocrm.clients.forms import ClientForm, ContactForm
from studiocrm.clients.models import Client, Contact
from studiocrm.core.models import User
from studiocrm.deals import services as deal_services
from studiocrm.deals.client_permissions import can_edit_client, can_edit_contact
from studiocrm.deals.models import Deal, Event, LostReason, Note, Source, Stage, Task
from studiocrm.documents import services as document_services
from studiocrm.documents.models import Document
from studiocrm.estimates.models import Estimate

log = logging.getLogger(__name__)

IDEMPOTENCY_HEADER = "Idempotency-Key"
RATE_GROUP = "api:token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class RateLimited(Exception):
    def __init__(self, wait_seconds: int) -> None:
        super().__init__("rate limited")
        self.wait_seconds = wait_seconds


def _rate(group: str, request: HttpRequest) -> str:
    return settings.API_RATE


class TokenAuth(HttpBearer):
    """``Authorization: Bearer scrm_…``. A read token may only read (403 otherwise)."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = services.authenticate(token)
        if api_token is None:
            return None
        usage = get_usage(
            request,
            group=RATE_GROUP,
            key=lambda g, r: str(api_token.pk),
            rate=_rate,
            increment=True,
        )
        if usage is not None and usage["should_limit"]:
            raise RateLimited(max(int(usage["time_left"]), 1))
        if request.method not in SAFE_METHODS and not api_token.can_write:
            raise ApiError(
                403, "insufficient_scope", _("This token may only read. Create a read-write one.")
            )
        return api_token


api = NinjaAPI(
    title="studiocrm REST API",
    version="1",
    description=(
        "Clients, contacts, deals and their tasks, notes, briefs, estimates, documents, "
        "invoices, payments and timeline. Authenticate with `Authorization: Bearer <token>` "
        '(Profile → API tokens). Errors: `{"error": {"code", "message", "details"}}`.'
    ),
    urls_namespace="rest_api",
    auth=TokenAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, status: int, code: str, message: str, details: Any = None):
    return api.create_response(request, error_body(code, message, details), status=status)


@api.exception_handler(ApiError)
def on_api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
    return _error(request, error.status, error.code, error.message, error.details)


@api.exception_handler(AuthenticationError)
def on_unauthorized(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    # One message for a missing, malformed, wrong or revoked token: no hint which it was.
    response = _error(request, 401, "unauthorized", _("Invalid or missing API token."))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(RateLimited)
def on_rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    response = _error(request, 429, "rate_limited", _("Too many requests. Try again later."))
    response["Retry-After"] = str(error.wait_seconds)
    return response


@api.exception_handler(NinjaValidationError)
def on_invalid(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    details = [
        {
            "field": ".".join(str(part) for part in item.get("loc", ()) if part != "body"),
            "message": str(item.get("msg", "")),
            "type": str(item.get("type", "")),
        }
        for item in error.errors
    ]
    return _error(request, 422, "validation_error", _("Some fields are invalid."), details)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(
        error.status_code, "error"
    )
    return _error(request, error.status_code, code, str(error.message))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(ObjectDoesNotExist)
def on_missing(request: HttpRequest, error: Exception) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, error: Exception) -> HttpResponse:
    return _error(request, 413, "body_too_large", _("The body is larger than the limit."))


@api.exception_handler(Exception)
def on_crash(request: HttpRequest, error: Exception) -> HttpResponse:
    log.exception("API error on %s %s", request.method, request.path)
    return _error(request, 500, "server_error", _("Something went wrong on our side."))


# ---- helpers -----------------------------------------------------------------------------


def user_of(request: HttpRequest) -> User:
    return request.auth.user  # type: ignore[attr-defined]


def page(
    queryset: QuerySet, query: s.ListQuery, values: dict[str, str] | None = None
) -> dict[str, Any]:
    """A page of ``queryset`` in descending id order after the cursor: stable under inserts
    (new rows have higher ids and never shift a page) and an index range scan. With
    ``values`` (output key → column) the rows are plain dicts read with ``values()``."""
    if query.cursor:
        try:
            last_id = services.decode_cursor(query.cursor)
        except services.BadCursor:
            raise ApiError(422, "invalid_cursor", _("The cursor is not one we gave out.")) from None
        queryset = queryset.filter(pk__lt=last_id)
    queryset = queryset.order_by("-pk")
    if values is None:
        rows: list[Any] = list(queryset[: query.limit + 1])
        last = rows[query.limit - 1].pk if len(rows) > query.limit else None
    else:
        rows = [
            {key: row[column] for key, column in values.items()}
            for row in queryset.values(*values.values())[: query.limit + 1]
        ]
        last = rows[query.limit - 1]["id"] if len(rows) > query.limit else None
    return {
        "data": rows[: query.limit],
        "next_cursor": services.encode_cursor(last) if last is not None else None,
    }


def get(model: type[Model], pk: int, **related: Any) -> Any:
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None:
        raise ApiError(404, "not_found", _("Not found."))
    return obj


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def form_errors(form: Any) -> ApiError:
    details = [
        {"field": None if name == "__all__" else name, "message": str(message)}
        for name, messages in form.errors.items()
        for message in messages
    ]
    return ApiError(422, "validation_error", _("Some fields are invalid."), details)


def created(request: HttpRequest, make: Callable[[], tuple[int, Any]]) -> HttpResponse:
    """Run a create with the request's Idempotency-Key (if any), scoped to the token."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not services.IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ApiError(
            422,
            "invalid_idempotency_key",
            _("Use 1 to 255 visible ASCII characters, e.g. a UUID."),
        )
    fingerprint = services.fingerprint(request.method or "", request.path, request.body)
    try:
        status, body, _replayed = services.idempotent(request.auth, key, fingerprint, make)
    except services.IdempotencyKeyReused:
        raise ApiError(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for a different request."),
        ) from None
    # Already serialized (and stored for replays): answered as is.
    return api.create_response(request, body, status=status)


def dump(schema: type[s.Schema], obj: Any) -> dict[str, Any]:
    return schema.from_orm(obj).model_dump(mode="json")


def _deal_error(error: deal_services.DealError) -> ApiError:
    if isinstance(error, deal_services.NotAllowed):
        return forbidden(str(error))
    return ApiError(409, "conflict", str(error))


IDEMPOTENCY_DOC = {
    "parameters": [
        {
            "in": "header",
            "name": IDEMPOTENCY_HEADER,
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
            "description": "A unique string per create (a UUID); a retry with the same key "
            "returns the first answer. Keys belong to the token.",
        }
    ]
}

R = COMMON_ERRORS


def ok(schema: Any, status: int = 200) -> dict[int, Any]:
    return {status: schema, **R}


# ---- clients -----------------------------------------------------------------------------

clients = Router(tags=["clients"])


@clients.get("", response=ok(s.ClientPage), summary="List clients")
def list_clients(request: HttpRequest, query: Query[s.ClientQuery]) -> dict[str, Any]:
    queryset = Client.objects.all()
    if query.q:
        queryset = queryset.filter(Q(name__icontains=query.q) | Q(tax_id=query.q))
    return page(queryset, query)


@clients.get("/{client_id}", response=ok(s.ClientOut), summary="Get a client")
def get_client(request: HttpRequest, client_id: s.Id) -> Client:
    return get(Client, client_id)


def _save_client(client: Client | None, data: dict[str, Any], actor: User) -> Client:
    base = model_to_dict(client, fields=ClientForm.Meta.fields) if client else {}
    form = ClientForm({**base, **data}, instance=client)
    if not form.is_valid():
        raise form_errors(form)
    return client_services.save_client(form, actor=actor)


@clients.post(
    "", response=ok(s.ClientOut, 201), summary="Create a client", openapi_extra=IDEMPOTENCY_DOC
)
def create_client(request: HttpRequest, body: s.ClientIn) -> HttpResponse:
    return created(
        request,
        lambda: (201, dump(s.ClientOut, _save_client(None, body.dict(), user_of(request)))),
    )


@clients.patch("/{client_id}", response=ok(s.ClientOut), summary="Change a client")
def update_client(request: HttpRequest, client_id: s.Id, body: s.ClientPatch) -> Client:
    client = get(Client, client_id)
    if not can_edit_client(user_of(request), client):
        raise forbidden(_("A manager of another deal of this client must change it."))
    return _save_client(client, body.dict(exclude_unset=True), user_of(request))


# ---- contacts ----------------------------------------------------------------------------

contacts = Router(tags=["contacts"])


@contacts.get("", response=ok(s.ContactPage), summary="List contacts")
def list_contacts(request: HttpRequest, query: Query[s.ContactQuery]) -> dict[str, Any]:
    queryset = Contact.objects.all()
    if query.client:
        queryset = queryset.filter(client_id=query.client)
    return page(queryset, query)


@contacts.get("/{contact_id}", response=ok(s.ContactOut), summary="Get a contact")
def get_contact(request: HttpRequest, contact_id: s.Id) -> Contact:
    return get(Contact, contact_id)


def _save_contact(contact: Contact | None, client: Client, data: dict[str, Any], actor: User):
    fields = ContactForm.Meta.fields
    base = model_to_dict(contact, fields=fields) if contact else {}
    form = ContactForm({**base, **data}, instance=contact)
    if not form.is_valid():
        raise form_errors(form)
    return client_services.save_contact(form, client=client, actor=actor)


@contacts.post(
    "", response=ok(s.ContactOut, 201), summary="Add a contact", openapi_extra=IDEMPOTENCY_DOC
)
def create_contact(request: HttpRequest, body: s.ContactIn) -> HttpResponse:
    def make() -> tuple[int, Any]:
        client = Client.objects.filter(pk=body.client_id).first()
        if client is None:
            raise ApiError(422, "validation_error", _("No such client."), [{"field": "client_id"}])
        if not can_edit_client(user_of(request), client):
            raise forbidden(_("A manager of another deal of this client must change it."))
        data = body.dict(exclude={"client_id"})
        return 201, dump(s.ContactOut, _save_contact(None, client, data, user_of(request)))

    return created(request, make)


@contacts.patch("/{contact_id}", response=ok(s.ContactOut), summary="Change a contact")
def update_contact(request: HttpRequest, contact_id: s.Id, body: s.ContactPatch) -> Contact:
    contact = get(Contact, contact_id)
    if not can_edit_contact(user_of(request), contact):
        raise forbidden(_("A manager of another deal of this contact must change it."))
    return _save_contact(contact, contact.client, body.dict(exclude_unset=True), user_of(request))


# ---- deals -------------------------------------------------------------------------------

deals = Router(tags=["deals"])


# The deal list is the busiest read: its rows are read as plain values and encoded without
# a second validation (the keys are DealOut's; tests/api/test_schema.py checks the shape).
DEAL_VALUES = {name: "stage_id" if name == "stage" else name for name in s.DealOut.model_fields}


@deals.get("", response=ok(s.DealPage), summary="List deals")
def list_deals(request: HttpRequest, query: Query[s.DealQuery]) -> HttpResponse:
    queryset = Deal.objects.all()
    if query.stage:
        queryset = queryset.filter(stage_id=query.stage)
    if query.manager:
        queryset = queryset.filter(manager_id=query.manager)
    if query.client:
        queryset = queryset.filter(client_id=query.client)
    if query.source:
        queryset = queryset.filter(source=query.source)
    if query.created_after:
        queryset = queryset.filter(created_at__gte=query.created_after)
    if query.created_before:
        queryset = queryset.filter(created_at__lt=query.created_before)
    return api.create_response(request, page(queryset, query, DEAL_VALUES), status=200)


@deals.get("/stages", response=ok(list[s.StageOut]), summary="List the pipeline's stages")
def list_stages(request: HttpRequest) -> list[Stage]:
    return list(Stage.objects.all())


@deals.get("/{deal_id}", response=ok(s.DealOut), summary="Get a deal")
def get_deal(request: HttpRequest, deal_id: s.Id) -> Deal:
    return get(Deal, deal_id)


def _manager(manager_id: int | None, actor: User) -> User | None:
    if manager_id is None:
        return None
    manager = User.objects.filter(pk=manager_id, is_active=True).first()
    if manager is None:
        raise ApiError(
            422, "validation_error", _("No such active user."), [{"field": "manager_id"}]
        )
    if manager != actor and not actor.is_owner:
        raise forbidden(_("Only an owner can reassign a deal."))
    return manager


def _contact_of(client_id: int, contact_id: int | None) -> Contact | None:
    if contact_id is None:
        return None
    contact = Contact.objects.filter(pk=contact_id, client_id=client_id).first()
    if contact is None:
        raise ApiError(
            422,
            "validation_error",
            _("The contact must belong to the deal's client."),
            [{"field": "contact_id"}],
        )
    return contact


def _source(value: str) -> str:
    if value not in Source.values:
        raise ApiError(
            422,
            "validation_error",
            _("Unknown source."),
            [{"field": "source", "allowed": list(Source.values)}],
        )
    return value


@deals.post("", response=ok(s.DealOut, 201), summary="Open a deal", openapi_extra=IDEMPOTENCY_DOC)
def create_deal(request: HttpRequest, body: s.DealIn) -> HttpResponse:
    actor = user_of(request)

    def make() -> tuple[int, Any]:
        client = Client.objects.filter(pk=body.client_id).first()
        if client is None:
            raise ApiError(422, "validation_error", _("No such client."), [{"field": "client_id"}])
        manager = _manager(body.manager_id, actor) if body.manager_id else actor
        deal = deal_services.create_deal(
            title=body.title,
            client=client,
            contact=_contact_of(client.pk, body.contact_id),
            actor=actor,
            manager=manager,
            source=_source(body.source),
            description=body.description,
            currency=body.currency,
            expected_amount=body.expected_amount,
        )
        return 201, dump(s.DealOut, deal)

    return created(request, make)


@deals.patch("/{deal_id}", response=ok(s.DealOut), summary="Change a deal")
def update_deal(request: HttpRequest, deal_id: s.Id, body: s.DealPatch) -> Deal:
    actor = user_of(request)
    deal = get(Deal, deal_id)
    data = body.dict(exclude_unset=True)
    fields: dict[str, Any] = {}
    for name in ("title", "description", "currency", "expected_amount"):
        if name in data:
            if data[name] is None and name in ("title", "description", "currency"):
                raise ApiError(422, "validation_error", _("Cannot be null."), [{"field": name}])
            fields[name] = data[name]
    if "source" in data:
        fields["source"] = _source(data["source"] or "")
    if "contact_id" in data:
        fields["contact"] = _contact_of(deal.client_id, data["contact_id"])
    try:
        if fields:
            deal = deal_services.update_deal(deal, actor=actor, **fields)
        if "manager_id" in data and data["manager_id"] != deal.manager_id:
            new_manager = _manager(data["manager_id"], actor) if data["manager_id"] else None
            deal = deal_services.assign_deal(deal, new_manager, actor=actor)
    except deal_services.DealError as error:
        raise _deal_error(error) from None
    return Deal.objects.get(pk=deal.pk)


@deals.post("/{deal_id}/stage", response=ok(s.DealOut), summary="Move a deal to a stage")
def move_deal(request: HttpRequest, deal_id: s.Id, body: s.StageMove) -> Deal:
    """Any stage, forwards or back, as a manager moves it on the board; `lost` needs a
    `lost_reason` or a `reason` code from the studio's list."""
    deal = get(Deal, deal_id)
    reason = None
    if body.reason:
        reason = LostReason.objects.filter(code=body.reason).first()
        if reason is None:
            raise ApiError(422, "validation_error", _("Unknown reason."), [{"field": "reason"}])
    try:
        return deal_services.move_deal(
            deal, body.stage, actor=user_of(request), lost_reason=body.lost_reason, reason=reason
        )
    except deal_services.DealError as error:
        raise _deal_error(error) from None


@deals.get("/{deal_id}/events", response=ok(s.EventPage), summary="The deal's timeline")
def deal_events(request: HttpRequest, deal_id: s.Id, query: Query[s.ListQuery]) -> dict:
    deal = get(Deal, deal_id)
    return page(Event.objects.filter(deal=deal), query)


@deals.get("/{deal_id}/notes", response=ok(s.NotePage), summary="The deal's notes")
def deal_notes(request: HttpRequest, deal_id: s.Id, query: Query[s.ListQuery]) -> dict:
    deal = get(Deal, deal_id)
    return page(Note.objects.filter(deal=deal), query)


@deals.post(
    "/{deal_id}/notes",
    response=ok(s.NoteOut, 201),
    summary="Add a note to a deal",
    openapi_extra=IDEMPOTENCY_DOC,
)
def add_note(request: HttpRequest, deal_id: s.Id, body: s.NoteIn) -> HttpResponse:
    deal = get(Deal, deal_id)

    def make() -> tuple[int, Any]:
        try:
            note = deal_services.add_note(deal, body.text, actor=user_of(request))
        except deal_services.DealError as error:
            raise _deal_error(error) from None
        return 201, dump(s.NoteOut, note)

    return created(request, make)


# ---- tasks -------------------------------------------------------------------------------

tasks = Router(tags=["tasks"])


@tasks.get("", response=ok(s.TaskPage), summary="List tasks")
def list_tasks(request: HttpRequest, query: Query[s.TaskQuery]) -> dict[str, Any]:
    queryset = Task.objects.all()
    if query.deal:
        queryset = queryset.filter(deal_id=query.deal)
    if query.assignee:
        queryset = queryset.filter(assignee_id=query.assignee)
    if query.done is not None:
        queryset = queryset.filter(done=query.done)
    return page(queryset, query)


@tasks.get("/{task_id}", response=ok(s.TaskOut), summary="Get a task")
def get_task(request: HttpRequest, task_id: s.Id) -> Task:
    return get(Task, task_id)


@tasks.post("", response=ok(s.TaskOut, 201), summary="Add a task", openapi_extra=IDEMPOTENCY_DOC)
def create_task(request: HttpRequest, body: s.TaskIn) -> HttpResponse:
    actor = user_of(request)

    def make() -> tuple[int, Any]:
        deal = None
        if body.deal_id is not None:
            deal = Deal.objects.filter(pk=body.deal_id).first()
            if deal is None:
                raise ApiError(422, "validation_error", _("No such deal."), [{"field": "deal_id"}])
        assignee = actor
        if body.assignee_id is not None:
            assignee = User.objects.filter(pk=body.assignee_id, is_active=True).first()
            if assignee is None:
                raise ApiError(
                    422, "validation_error", _("No such active user."), [{"field": "assignee_id"}]
                )
        try:
            task = deal_services.add_task(
                title=body.title, due_at=body.due_at, assignee=assignee, actor=actor, deal=deal
            )
        except deal_services.DealError as error:
            raise _deal_error(error) from None
        return 201, dump(s.TaskOut, task)

    return created(request, make)


@tasks.post("/{task_id}/done", response=ok(s.TaskOut), summary="Complete or reopen a task")
def complete_task(request: HttpRequest, task_id: s.Id, body: s.TaskDone) -> Task:
    task = get(Task, task_id)
    try:
        return deal_services.complete_task(task, actor=user_of(request), done=body.done)
    except deal_services.DealError as error:
        raise _deal_error(error) from None


# ---- events ------------------------------------------------------------------------------

timeline = Router(tags=["events"])


@timeline.get("", response=ok(s.EventPage), summary="List events (every deal's timeline)")
def list_events(request: HttpRequest, query: Query[s.EventQuery]) -> dict[str, Any]:
    queryset = Event.objects.all()
    if query.deal:
        queryset = queryset.filter(deal_id=query.deal)
    if query.name:
        queryset = queryset.filter(name=query.name)
    return page(queryset, query)


# ---- briefs, estimates, documents, invoices, payments (read; documents are sent) ---------


def _by_deal(model: type[Model], query: s.DealQueryOnly) -> QuerySet:
    queryset = model._default_manager.all()
    if query.deal:
        queryset = queryset.filter(deal_id=query.deal)
    return queryset


def deal_resource(
    model: type[Model], name: str, page_schema: Any, out_schema: Any, noun: str
) -> Router:
    """A read-only resource of a deal: a list filtered by ``deal`` and a get by id."""
    router = Router(tags=[name])

    @router.get("", response=ok(page_schema), summary=f"List {name}", operation_id=f"list_{name}")
    def list_items(request: HttpRequest, query: Query[s.DealQueryOnly]) -> dict[str, Any]:
        return page(_by_deal(model, query), query)

    @router.get(
        "/{item_id}", response=ok(out_schema), summary=f"Get {noun}", operation_id=f"get_{name}"
    )
    def get_item(request: HttpRequest, item_id: s.Id) -> Any:
        return get(model, item_id)

    return router


briefs = deal_resource(Brief, "briefs", s.BriefPage, s.BriefOut, "a brief with its answers")
estimates = deal_resource(Estimate, "estimates", s.EstimatePage, s.EstimateOut, "an estimate")
documents = deal_resource(Document, "documents", s.DocumentPage, s.DocumentOut, "a document")


@documents.post(
    "/{document_id}/send", response=ok(s.DocumentOut), summary="Send a document to the client"
)
def send_document(request: HttpRequest, document_id: s.Id) -> Document:
    """Freezes the current version and emails the client its link, as the Send button
    does; sending an unchanged version again sends nothing new."""
    document = get(Document, document_id)
    try:
        document_services.send_document(document, actor=user_of(request))
    except document_services.NotAllowed as error:
        raise forbidden(str(error)) from None
    except document_services.DocumentError as error:
        raise ApiError(409, "conflict", str(error)) from None
    return Document.objects.get(pk=document.pk)


invoices = Router(tags=["invoices"])


@invoices.get("", response=ok(s.InvoicePage), summary="List invoices")
def list_invoices(request: HttpRequest, query: Query[s.InvoiceQuery]) -> dict[str, Any]:
    queryset = _by_deal(Invoice, query)
    if query.status:
        queryset = queryset.filter(status=query.status)
    return page(queryset, query)


@invoices.get("/{invoice_id}", response=ok(s.InvoiceDetailOut), summary="Get an invoice")
def get_invoice(request: HttpRequest, invoice_id: s.Id) -> Invoice:
    return get(Invoice, invoice_id)


payments = Router(tags=["payments"])


@payments.get("", response=ok(s.PaymentPage), summary="List payments")
def list_payments(request: HttpRequest, query: Query[s.PaymentQuery]) -> dict[str, Any]:
    queryset = Payment.objects.all()
    if query.invoice:
        queryset = queryset.filter(invoice_id=query.invoice)
    if query.deal:
        queryset = queryset.filter(invoice__deal_id=query.deal)
    return page(queryset, query)


@payments.get("/{payment_id}", response=ok(s.PaymentOut), summary="Get a payment")
def get_payment(request: HttpRequest, payment_id: s.Id) -> Payment:
    return get(Payment, payment_id)


api.add_router("/clients", clients)
api.add_router("/contacts", contacts)
api.add_router("/deals", deals)
api.add_router("/tasks", tasks)
api.add_router("/events", timeline)
api.add_router("/briefs", briefs)
api.add_router("/estimates", estimates)
api.add_router("/documents", documents)
api.add_router("/invoices", invoices)
api.add_router("/payments", payments)
