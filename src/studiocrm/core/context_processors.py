from django.http import HttpRequest

from studiocrm.core.models import Studio


def csp_nonce(request: HttpRequest) -> dict[str, object]:
    """This response's Content-Security-Policy nonce, for a <script nonce="…"> that must
    stay inline (core.middleware.SecurityHeadersMiddleware)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


def studio(request: HttpRequest) -> dict[str, object]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"studio": Studio.load()}
