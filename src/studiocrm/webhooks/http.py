"""Posting to a receiver without letting a webhook reach inside the studio's network.

The host is resolved once, every address it resolves to is checked (no private, loopback,
link-local, multicast, reserved or unspecified address unless ``WEBHOOK_ALLOW_PRIVATE``),
and the connection is made to the checked address itself, so a DNS answer that changes
between the check and the connection (rebinding) cannot redirect it. HTTPS still verifies
the certificate against the host name. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UnsafeUrl(ValueError):
    """The address is not one a webhook may be sent to."""


@dataclass
class Response:
    status: int | None
    duration_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an acceptable URL, or UnsafeUrl."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise UnsafeUrl(_("Use an http:// or https:// address."))
    if parts.scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise UnsafeUrl(_("Use an https:// address."))
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeUrl(_("The address needs a host name and no user or password."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl(_("The port is not a number.")) from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, path


def resolve(host: str, port: int) -> str:
    """The first address of ``host`` if every address it resolves to is allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(_("The host name does not resolve.")) from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise UnsafeUrl(_("The host name does not resolve."))
    if not all(_allowed(address) for address in addresses):
        raise UnsafeUrl(_("The address points into a private network; webhooks go out only."))
    return str(addresses[0])


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, **kwargs: object) -> None:
        super().__init__(host, **kwargs)  # type: ignore[arg-type]
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, **kwargs: object) -> None:
        super().__init__(host, **kwargs)  # type: ignore[arg-type]
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    """POST ``body``; never raises for the receiver's faults (they are in the Response)."""
    started = time.monotonic()

    def done(status: int | None, error: str = "") -> Response:
        return Response(status, int((time.monotonic() - started) * 1000), error[:500])

    try:
        scheme, host, port, path = check_url(url)
        address = resolve(host, port)
    except UnsafeUrl as error:
        return done(None, str(error))
    if scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPS(
            host, address, port=port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = _PinnedHTTP(host, address, port=port, timeout=timeout)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65_536)
        return done(response.status)
    except TimeoutError:
        return done(None, _("The receiver did not answer in %(seconds)s s.") % {"seconds": timeout})
    except (OSError, http.client.HTTPException) as error:
        return done(None, f"{type(error).__name__}: {error}")
    finally:
        connection.close()
