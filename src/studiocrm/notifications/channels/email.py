"""The email channel: SMTP (or any Django email backend) configured by EMAIL_URL."""

from __future__ import annotations

import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from studiocrm.notifications.channels import Channel, DeliveryError
from studiocrm.notifications.models import Outbox

# Authentication trouble is a server-side configuration error: it is answered with a 5xx
# code but goes away once the credentials are fixed, so it is retried like an outage.
AUTHENTICATION_CODES = {530, 534, 535}


def classify(error: Exception) -> DeliveryError:
    """Tell temporary SMTP trouble (retry) from a permanent refusal (stop)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in error.recipients.values()]
        permanent = all(500 <= code < 600 for code in codes)
        return DeliveryError(f"recipient refused: {error.recipients}", permanent=permanent)
    if isinstance(error, smtplib.SMTPResponseException):
        permanent = 500 <= error.smtp_code < 600 and error.smtp_code not in AUTHENTICATION_CODES
        detail = error.smtp_error
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return DeliveryError(f"{error.smtp_code} {detail}", permanent=permanent)
    if isinstance(error, ValueError):
        # Raised while building the message (an address that does not parse, a header
        # with a newline, text the charset cannot hold): the same every time we try.
        return DeliveryError(f"message cannot be sent: {error}", permanent=True)
    if isinstance(error, smtplib.SMTPServerDisconnected | OSError | socket.timeout):
        return DeliveryError(f"server unavailable: {error}", permanent=False)
    return DeliveryError(f"{type(error).__name__}: {error}", permanent=False)


class EmailChannel(Channel):
    name = "email"

    def send(self, message: Outbox) -> None:
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            reply_to=[message.reply_to] if message.reply_to else None,
            headers={"Message-ID": message.message_id},
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        try:
            email.connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
            sent = email.send(fail_silently=False)
        except Exception as error:
            raise classify(error) from error
        if not sent:
            # Django sends nothing and reports 0 when there is no recipient; marking the
            # row sent would hide a message that never left.
            raise DeliveryError("no recipient address", permanent=True)
