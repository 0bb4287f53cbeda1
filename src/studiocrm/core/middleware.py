from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from studiocrm.core.models import Studio, _current_studio


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
