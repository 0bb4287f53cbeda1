"""Session rules for signed-in users: the idle timeout and the second factor."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from studiocrm.core.accounts import services

LAST_SEEN_KEY = "studiocrm_last_seen"
# The last-seen time is written at most this often, so most requests do not save the session.
LAST_SEEN_RESOLUTION_SECONDS = 60
# Pages anybody may open with a link or a key: the second-factor rules are for staff pages.
PUBLIC_PREFIXES = ("/c/", "/lead/", "/api/")


@cache
def _open_during_enrolment() -> frozenset[str]:
    """Pages an owner who still has to set up two-factor authentication may open."""
    return frozenset(
        {reverse("accounts:two_factor_setup"), reverse("logout"), reverse("set_language")}
    )


class AccountSecurityMiddleware:
    """After AuthenticationMiddleware, OTPMiddleware and MessageMiddleware.

    - A session idle for SESSION_IDLE_MINUTES is logged out.
    - A user with two-factor authentication whose session did not pass it (opened before
      the user turned it on) is logged out.
    - An owner without two-factor authentication is sent to set it up before anything else.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY, now)
            if now - last_seen > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
                minutes = settings.SESSION_IDLE_MINUTES
                messages.info(
                    request,
                    ngettext(
                        "You were logged out after %(minutes)d minute without activity.",
                        "You were logged out after %(minutes)d minutes without activity.",
                        minutes,
                    )
                    % {"minutes": minutes},
                )
            else:
                if LAST_SEEN_KEY not in request.session or (
                    now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS
                ):
                    request.session[LAST_SEEN_KEY] = now
                detour = self._second_factor(request)
                if detour is not None:
                    return detour
        return self.get_response(request)

    def _second_factor(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if user.is_verified() or request.path.startswith(PUBLIC_PREFIXES):
            return None
        if services.has_two_factor(user):
            logout(request)
            messages.info(request, _("Log in again with your two-factor code, please."))
            return redirect_to_login(request.get_full_path())
        if services.two_factor_required(user) and request.path not in _open_during_enrolment():
            return redirect("accounts:two_factor_setup")
        return None
