from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
