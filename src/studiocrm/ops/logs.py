"""Structured logs: one JSON object per line (LOG_FORMAT=json), with the request's id, user
and path on every record written while a request is being answered.

The request-id middleware (ops.middleware.RequestIdMiddleware) keeps the current request in
a context variable; ``RequestContextFilter`` copies what it knows onto each record, and both
the JSON formatter (python-json-logger) and the text format can print it.
"""

from __future__ import annotations

import contextvars
import logging

from django.utils.functional import empty
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

current: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "studiocrm_request", default=None
)

FIELDS = ("request_id", "user_id", "path", "method", "status", "duration_ms")


class RequestContextFilter(logging.Filter):
    """Adds request_id, user_id and path of the request being answered (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = current.get() or {}
        for name in ("request_id", "path"):
            if not hasattr(record, name):
                setattr(record, name, context.get(name))
        if not hasattr(record, "user_id"):
            record.user_id = user_id(context.get("request"))
        return True


def user_id(request: object) -> int | None:
    """The signed-in user's id, if the request has looked at its user already (reading it
    here would cost a session lookup on pages that never ask who is there)."""
    lazy = getattr(request, "user", None)
    user = getattr(lazy, "_wrapped", lazy)
    if user is None or user is empty or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


class JsonFormatter(_JsonFormatter):
    """time, level, logger, message, then the request fields and any ``extra``."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        from datetime import UTC, datetime

        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def logging_config(log_format: str, level: str) -> dict[str, object]:
    """The LOGGING setting: text for a developer's terminal, JSON for a log collector."""
    formatter = (
        {"()": "studiocrm.ops.logs.JsonFormatter"}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "studiocrm.ops.logs.RequestContextFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }
