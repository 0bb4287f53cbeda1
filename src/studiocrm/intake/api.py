"""The JSON API for integrations: ``POST /api/v1/leads`` with ``Authorization: Bearer <key>``.

The body is read and parsed here rather than by django-ninja so that the size limit, the
content type and broken JSON are checked in that order before anything is parsed, each with
its own status and a clear message; the schema is still published in the OpenAPI document.

Unknown fields are rejected (422): a misspelt ``emial`` should fail loudly at integration
time, not silently drop the lead's address.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError
from ninja.openapi.docs import DocsBase
from ninja.security import HttpBearer
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as SchemaError

from studiocrm.deals.models import Source
from studiocrm.intake import guards, services
from studiocrm.intake.models import ApiKey

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_RE = re.compile(rf"[\x21-\x7e]{{1,{services.IDEMPOTENCY_KEY_MAX}}}")


def _text(limit: int, description: str) -> Any:
    return Field(None, max_length=limit, description=description)


class LeadIn(BaseModel):
    """A lead. `name` and at least one of `email`/`phone` are required; `null` means absent."""

    model_config = ConfigDict(extra="forbid", title="Lead")

    name: Annotated[str, Field(min_length=1, max_length=services.NAME_MAX)] = Field(
        description="The person's name."
    )
    email: str | None = _text(services.EMAIL_MAX, "Email address.")
    phone: str | None = _text(
        services.PHONE_MAX, "Phone number in any common format; +7 is assumed without a code."
    )
    company: str | None = _text(services.COMPANY_MAX, "Company name, if any.")
    message: str | None = _text(services.MESSAGE_MAX, "What the client needs, as written.")
    budget: Annotated[Decimal, Field(ge=0, le=services.BUDGET_MAX, decimal_places=2)] | None = (
        Field(None, description="Expected budget in the studio's currency.")
    )
    page_url: str | None = _text(services.URL_MAX, "The http(s) page the lead was sent from.")
    utm_source: str | None = _text(services.UTM_MAX, "utm_source of the visit.")
    utm_medium: str | None = _text(services.UTM_MAX, "utm_medium of the visit.")
    utm_campaign: str | None = _text(services.UTM_MAX, "utm_campaign of the visit.")
    idempotency_key: str | None = Field(
        None,
        max_length=services.IDEMPOTENCY_KEY_MAX,
        description="Same as the Idempotency-Key header, for clients that cannot set headers.",
    )

    def to_lead(self) -> services.LeadData:
        return services.LeadData(
            name=self.name,
            email=self.email or "",
            phone=self.phone or "",
            company=self.company or "",
            message=self.message or "",
            budget=self.budget,
            page_url=self.page_url or "",
            utm_source=self.utm_source or "",
            utm_medium=self.utm_medium or "",
            utm_campaign=self.utm_campaign or "",
        )


class LeadAccepted(Schema):
    deal_id: int
    created: bool


class FieldError(Schema):
    field: str | None
    message: str


class Problem(Schema):
    detail: str
    code: str | None = None
    errors: list[FieldError] = []


class RateLimited(Exception):
    def __init__(self, wait_seconds: int) -> None:
        super().__init__("rate limited")
        self.wait_seconds = wait_seconds


class ApiKeyAuth(HttpBearer):
    """Bearer API keys from the Lead intake settings page.

    The per-address rate limit is counted here, before the key is looked at, so guessing
    keys is throttled too; the per-key limit once the key is known.
    """

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        wait = guards.throttle_address(request)
        if wait:
            raise RateLimited(wait)
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = services.authenticate_api_key(token)
        if key is None:
            return None
        wait = guards.throttle_api_key(request, key.pk)
        if wait:
            raise RateLimited(wait)
        return key


class PlainDocs(DocsBase):
    """API reference rendered on the server from the OpenAPI document: no CDN, no scripts."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        schema = api.get_openapi_schema(path_params=kwargs)
        return render(
            request,
            "intake/api_docs.html",
            {
                "api": schema["info"],
                "operations": describe_operations(schema),
                "openapi_url": self.get_openapi_url(api, kwargs),
                "lead_fields": describe_fields(LeadIn.model_json_schema()),
            },
        )


def describe_fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    rows = []
    for name, spec in schema.get("properties", {}).items():
        variants = spec.get("anyOf", [spec])
        types = sorted({variant.get("type", "") for variant in variants} - {"", "null"})
        limit = next((v["maxLength"] for v in variants if "maxLength" in v), None)
        rows.append(
            {
                "name": name,
                "type": " | ".join(types),
                "required": name in required,
                "max_length": limit,
                "description": spec.get("description", ""),
            }
        )
    return rows


def describe_operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "headers": [
                        parameter
                        for parameter in operation.get("parameters", [])
                        if parameter.get("in") == "header"
                    ],
                    "responses": sorted(
                        (code, response.get("description", ""))
                        for code, response in operation.get("responses", {}).items()
                    ),
                }
            )
    return operations


api = NinjaAPI(
    title="studiocrm lead intake API",
    version="1",
    description="Send leads from your site's backend, a call tracker or any integration.",
    urls_namespace="intake_api",
    docs=PlainDocs(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _problem(
    status: int, detail: str, errors: list[dict[str, Any]] | None = None
) -> Status[dict[str, Any]]:
    return Status(status, {"detail": detail, "errors": errors or []})


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, error: RateLimited) -> HttpResponse:
    response = api.create_response(
        request, {"detail": _("Too many requests. Try again later."), "errors": []}, status=429
    )
    response["Retry-After"] = str(error.wait_seconds)
    return response


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    # One message for a missing, malformed, wrong or revoked key: no hint which it was.
    response = api.create_response(
        request, {"detail": _("Invalid or missing API key."), "errors": []}, status=401
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


def _schema_errors(error: SchemaError) -> list[dict[str, Any]]:
    errors = []
    for item in error.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or None
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = _("Unknown field. The accepted fields are listed at /api/docs.")
        errors.append({"field": field, "message": message})
    return errors


def _service_errors(errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {"field": None if name == "__all__" else name, "message": message}
        for name, messages in errors.items()
        for message in messages
    ]


@api.post(
    "/v1/leads",
    auth=ApiKeyAuth(),
    response={
        200: LeadAccepted,
        201: LeadAccepted,
        400: Problem,
        401: Problem,
        413: Problem,
        415: Problem,
        422: Problem,
        429: Problem,
    },
    summary="Send a lead",
    description=(
        "Creates or matches the contact (same email, case-insensitive, or same phone) and "
        "opens a deal in stage `new`, assigned by the studio's rule; the manager is emailed. "
        "Answers 201 for a new deal and 200 with the same `deal_id` and `created: false` "
        "when the same lead comes again with the same Idempotency-Key (or, without one, the "
        "same email/phone and message on the same UTC day). Idempotency keys belong to the "
        "API key that sent them. The same Idempotency-Key with a different lead answers 422 "
        "with `code: idempotency_key_reused` and creates nothing. An existing contact is "
        "never changed by a lead: a different email or phone is proposed to the manager. "
        "Unknown fields are rejected. "
        "Errors: 400 broken body, 401 missing/wrong/revoked key, 413 body over the size "
        "limit, 415 not application/json, 422 invalid fields or a reused key, "
        "429 rate limited."
    ),
    openapi_extra={
        "parameters": [
            {
                "in": "header",
                "name": IDEMPOTENCY_HEADER,
                "required": False,
                "schema": {"type": "string", "maxLength": services.IDEMPOTENCY_KEY_MAX},
                "description": "Any unique string per lead (a UUID is ideal); a retry with "
                "the same key returns the same deal.",
            }
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": LeadIn.model_json_schema()}},
        },
    },
)
def create_lead(request: HttpRequest) -> tuple[int, dict[str, Any]]:
    if request.content_type != "application/json" or request.content_params.get(
        "charset", "utf-8"
    ).lower() not in ("utf-8", "utf8"):
        return _problem(415, _("Send the body as application/json (UTF-8)."))
    try:
        body = guards.read_body(request)
    except guards.BodyTooLarge:
        return _problem(413, _("The body is larger than the limit for one lead."))
    except guards.BadBody:
        return _problem(400, _("The Content-Length header is not a number."))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _problem(400, _("The body is not valid UTF-8."))
    try:
        payload = json.loads(text)
    except RecursionError:
        return _problem(400, _("The body is not valid JSON: it is nested too deeply."))
    except ValueError as error:
        return _problem(400, _("The body is not valid JSON: %(reason)s.") % {"reason": error})
    if not isinstance(payload, dict):
        return _problem(422, _("The body must be a JSON object."))
    try:
        lead_in = LeadIn.model_validate(payload)
    except SchemaError as error:
        return _problem(422, _("Some fields are invalid."), _schema_errors(error))
    header_key = request.headers.get(IDEMPOTENCY_HEADER)
    body_key = lead_in.idempotency_key
    if header_key is not None and body_key is not None and header_key != body_key:
        return _problem(
            422,
            _("The Idempotency-Key header and the idempotency_key field differ."),
            [{"field": "idempotency_key", "message": _("Send one key, or the same in both.")}],
        )
    idempotency_key = header_key if header_key is not None else body_key
    if idempotency_key is not None and not IDEMPOTENCY_KEY_RE.fullmatch(idempotency_key):
        return _problem(
            422,
            _("Some fields are invalid."),
            [
                {
                    "field": "idempotency_key",
                    "message": _("Use 1 to 255 visible ASCII characters, e.g. a UUID."),
                }
            ],
        )
    try:
        result = services.submit_lead(
            lead_in.to_lead(),
            source=Source.API,
            idempotency_key=idempotency_key,
            api_key=request.auth,
        )
    except services.InvalidLead as error:
        return _problem(422, _("Some fields are invalid."), _service_errors(error.errors))
    except services.IdempotencyKeyReused as error:
        return Status(
            422,
            {
                "detail": _(
                    "This Idempotency-Key was already used for a different lead. "
                    "Use a new key for every lead; resend a lead only with its own key."
                ),
                "code": error.code,
                "errors": [
                    {
                        "field": "idempotency_key",
                        "message": _("Already used for a different lead."),
                    }
                ],
            },
        )
    return Status(
        201 if result.created else 200, {"deal_id": result.deal.pk, "created": result.created}
    )
