"""The Telegram channel: a manager's notifications through a bot (Bot API ``sendMessage``).

The bot token is ``TELEGRAM_BOT_TOKEN``; ``TELEGRAM_API_URL`` points at the Bot API (a
stand-in server in tests). ``Outbox.to`` is the chat id, ``Outbox.body`` the text.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings

from studiocrm.notifications.channels import Channel, DeliveryError
from studiocrm.notifications.models import Outbox


class TelegramChannel(Channel):
    name = "telegram"

    def send(self, message: Outbox) -> None:
        token = settings.TELEGRAM_BOT_TOKEN
        if not token:
            raise DeliveryError("TELEGRAM_BOT_TOKEN is not set", permanent=True)
        if not settings.TELEGRAM_API_URL.startswith(("https://", "http://")):
            raise DeliveryError("TELEGRAM_API_URL must be an http(s) address", permanent=True)
        text = f"{message.subject}\n{message.body}" if message.subject else message.body
        request = urllib.request.Request(  # noqa: S310 - an http(s) address, checked above
            f"{settings.TELEGRAM_API_URL}/bot{token}/sendMessage",
            data=json.dumps(
                {"chat_id": message.to, "text": text[:4096], "disable_web_page_preview": True}
            ).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.EMAIL_TIMEOUT) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            # 429 (flood control) and 5xx pass; a wrong chat or a blocked bot (400/403) does not.
            permanent = 400 <= error.code < 500 and error.code != 429
            raise DeliveryError(f"Telegram answered {error.code}", permanent=permanent) from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise DeliveryError(f"Telegram unreachable: {error}", permanent=False) from error
        if not answer.get("ok"):
            raise DeliveryError(
                f"Telegram refused: {answer.get('description', '')}", permanent=True
            )
