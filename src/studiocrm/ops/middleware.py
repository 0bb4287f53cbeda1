"""Request ids, one log line per request, and the health endpoints.

Both sit first in MIDDLEWARE. ``HealthMiddleware`` answers /healthz and /readyz before the
host check, the HTTPS redirect and the session: a probe from inside the compose network
(Host: web:8000, plain HTTP) gets the truth instead of a 400 or a redirect.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from studiocrm.ops import logs
from studiocrm.ops.health import readiness

log = logging.getLogger("studiocrm.request")

# An id from the proxy is kept only if it looks like one (no log injection, bounded length).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

HEALTH_PATHS = {"/healthz", "/healthz/", "/readyz", "/readyz/"}


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy (Caddy sets one) or makes one, answers with it, and
    logs one line per request: method, path, status, duration and the signed-in user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        context: dict[str, object] = {
            "request_id": request_id,
            "path": request.path[:500],
            "request": request,
        }
        token = logs.current.set(context)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if request.path not in HEALTH_PATHS:
                log.info(
                    "%s %s %s",
                    request.method,
                    request.path[:500],
                    response.status_code,
                    extra={
                        "method": request.method,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            return response
        finally:
            logs.current.reset(token)


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in HEALTH_PATHS and request.method in ("GET", "HEAD"):
            if request.path.startswith("/healthz"):
                response: HttpResponse = JsonResponse({"status": "ok"})
            else:
                ok, checks = readiness()
                response = JsonResponse(
                    {"status": "ok" if ok else "fail", "checks": checks},
                    status=200 if ok else 503,
                )
            response["Cache-Control"] = "no-store"
            # A failing probe is an answer, not a server error: Django would log every
            # 503 every few seconds as one.
            response._has_been_logged = True  # type: ignore[attr-defined]
            return response
        return self.get_response(request)
