import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone

from studiocrm.core.models import Studio, _current_studio


class UnreadableFormMiddleware:
    """Answer 400 to a form post whose body Django can never read.

    Django refuses an ``application/x-www-form-urlencoded`` body declared in another charset
    than UTF-8 with BadRequest on every read of ``request.POST`` (unlike a broken multipart
    body, it does not remember the failure). Its own CSRF check and the 400 page's CSRF
    decorator read it again while handling the first error, and the request ends as a 500.
    Found by tests/security/test_fuzz_public_endpoints.py.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method == "POST"
            and request.content_type == "application/x-www-form-urlencoded"
            and request.encoding is not None
            and request.encoding.lower() != "utf-8"
        ):
            return HttpResponseBadRequest(
                "Forms must be sent in UTF-8.", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)


class UserLanguageMiddleware:
    """Use a signed-in user's saved language unless they picked one with the switcher.

    Runs before LocaleMiddleware; it reads the session directly because the user object
    is not attached yet, and copies the saved language into the language cookie slot that
    LocaleMiddleware consults.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.session.get("user_language") if hasattr(request, "session") else None
        if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = language
        return self.get_response(request)


class StudioTimezoneMiddleware:
    """Show and read times in the studio's time zone on every page.

    Due dates typed into forms and "today" on manager pages mean the studio's local time;
    client pages show dates the same way. The studio row is loaded once per request, kept
    as ``request.studio`` and returned by ``Studio.load()`` until the response is done.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        studio = Studio.load()
        request.studio = studio  # type: ignore[attr-defined]
        token = _current_studio.set(studio)
        try:
            with timezone.override(studio.time_zone):
                return self.get_response(request)
        finally:
            _current_studio.reset(token)


# Manager pages load only our own files. 'nonce-…' admits a <script> or <style> element
# carrying this request's nonce; no inline event handlers or style attributes run at all.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src {style}; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
STRICT_STYLES = "'self' 'nonce-{nonce}'"
# A page showing a studio-written document in a sandboxed srcdoc iframe: the iframe
# inherits the page's policy, and document templates style themselves inline. Scripts stay
# nonce-only, and the sandbox runs none in the iframe.
INLINE_STYLES = "'self' 'unsafe-inline'"


def _marked(name: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> HttpResponse:
            return view(*args, **kwargs)

        setattr(wrapper, name, True)
        return wrapper

    return decorator


# Leave a view's pages without the manager CSP: only pages built to be embedded on other
# sites (the public lead form), which set their own rules.
csp_exempt = _marked("csp_exempt")
# Allow inline styles (not scripts) on a page that previews a studio document in a
# sandboxed srcdoc iframe (see INLINE_STYLES).
csp_inline_styles = _marked("csp_inline_styles")


class SecurityHeadersMiddleware:
    """A Content-Security-Policy with a fresh nonce on every HTML page that has none of its
    own (client-link pages bring their stricter one), and ``Cache-Control: private,
    no-store`` on everything a signed-in user receives, so a shared machine or proxy keeps
    no copy of a deal. The nonce is ``request.csp_nonce`` (``csp_nonce`` in templates)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = secrets.token_urlsafe(18)  # type: ignore[attr-defined]
        response = self.get_response(request)
        if (
            "Content-Security-Policy" not in response
            and not getattr(request, "csp_exempt", False)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            nonce = request.csp_nonce  # type: ignore[attr-defined]
            styles = (
                INLINE_STYLES if getattr(request, "csp_inline_styles", False) else STRICT_STYLES
            )
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
                nonce=nonce, style=styles.format(nonce=nonce)
            )
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "private, no-store"
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., HttpResponse], *args: Any
    ) -> None:
        request.csp_exempt = getattr(view, "csp_exempt", False)  # type: ignore[attr-defined]
        request.csp_inline_styles = getattr(  # type: ignore[attr-defined]
            view, "csp_inline_styles", False
        )
