from collections.abc import Callable

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
