"""What a manager sees without opening their mail: the bell (in-app notifications, polled by
htmx) and, for a manager who gave a chat id, Telegram through the outbox's channel registry.

``client_acted`` is a reaction (``flow.reactions``) for the events that are a client's
doing; rules that notify the manager use ``notify`` too.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from studiocrm.core.models import User
from studiocrm.core.urls_util import absolute_url
from studiocrm.deals import events
from studiocrm.deals.models import Deal, Event
from studiocrm.flow.messages import manager_language, responsible_manager
from studiocrm.flow.models import ManagerChannels, Notification
from studiocrm.notifications.outbox import queue_message

CLIENT_ACTIONS = {
    events.BRIEF_FIRST_VIEWED: gettext_noop("The client opened the brief"),
    events.BRIEF_SUBMITTED: gettext_noop("The client submitted the brief"),
    events.DOCUMENT_FIRST_VIEWED: gettext_noop("The client opened the document"),
    events.PROPOSAL_ACCEPTED: gettext_noop("The client accepted the proposal"),
    events.DOCUMENT_SIGNED: gettext_noop("The client signed a document"),
    events.CONTRACT_SIGNED: gettext_noop("The contract is signed"),
    events.DOCUMENT_QUESTION: gettext_noop("The client asked a question"),
    events.INVOICE_FIRST_VIEWED: gettext_noop("The client opened the invoice"),
    events.PAYMENT_RECEIVED: gettext_noop("Payment received"),
    events.EMAIL_RECEIVED: gettext_noop("The client wrote an email"),
}


def notify(
    user: User | None,
    deal: Deal | None,
    text: str,
    *,
    key: str,
    event: Event | None = None,
) -> Notification | None:
    """Ring the bell for ``user`` (``text`` already in their language) and send the same line
    to their Telegram chat, once per ``key``."""
    if user is None or not user.is_active:
        return None
    link = deal.get_absolute_url() if deal is not None else ""
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user, deal=deal, event=event, text=text[:300], link=link
            )
    except IntegrityError:
        return None
    chat = ManagerChannels.objects.filter(user=user).values_list("telegram_chat_id", flat=True)
    chat_id = chat.first()
    if chat_id:
        body = f"{text}\n{absolute_url(link)}" if link else text
        queue_message(
            channel="telegram", to=chat_id, subject="", body=body, dedupe_key=f"{key}:telegram"
        )
    return notification


def tell_manager(
    deal: Deal, message: str, *, key: str, event: Event | None = None
) -> Notification | None:
    """Ring the bell of the deal's responsible manager: ``message`` (an untranslated source,
    ``gettext_noop``) in their language, followed by the deal's title."""
    manager = responsible_manager(deal)
    if manager is None:
        return None
    with translation.override(manager_language(manager)):
        text = f"{_(message)}: {deal.title}"
    return notify(manager, deal, text, key=key, event=event)


def client_acted(event: Event) -> None:
    """The reaction: the deal's manager hears that the client did something."""
    tell_manager(event.deal, CLIENT_ACTIONS[event.name], key=f"bell:{event.pk}", event=event)
