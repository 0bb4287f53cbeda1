"""The one error shape of the REST API: ``{"error": {"code", "message", "details"}}``.

Every failure — a missing token, a wrong scope, an unknown id, invalid fields, a rate limit,
a bug — answers with it, so an integration needs one error path. ``code`` is stable and
machine-readable; ``message`` is for people and follows the Accept-Language of the request.
"""

from __future__ import annotations

from typing import Any

from ninja import Schema


class ApiError(Exception):
    """Raised by an operation to answer ``status`` with the error shape."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


class ErrorBody(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorBody


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


# Statuses every authenticated operation may answer with the error shape.
COMMON_ERRORS: dict[int, type[Schema]] = {
    code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422, 429)
}
