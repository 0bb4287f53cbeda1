"""Remember the signed-in user's language in the session (a UI preference, not a flow), and
start the session's idle clock at login."""

import time
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in)
def remember_language(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if getattr(user, "language", ""):
        request.session["user_language"] = user.language


@receiver(user_logged_in)
def start_idle_clock(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from studiocrm.core.accounts.middleware import LAST_SEEN_KEY

    request.session[LAST_SEEN_KEY] = int(time.time())
