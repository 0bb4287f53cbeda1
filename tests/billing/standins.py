"""Stand-in payment provider servers on 127.0.0.1 for the tests.

They answer the endpoints the official SDKs call (Stripe: Checkout Sessions, form-encoded;
YooKassa: /v3/payments, JSON) with realistic JSON, check the credentials the SDK sends, honour
idempotency keys, and build webhooks the way the real services do: Stripe events signed with
``t=<time>,v1=HMAC-SHA256(secret, "<t>.<payload>")``, YooKassa notifications unsigned (they
are trusted by source address and re-fetch). No request leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _page(self, page: tuple[int, dict[str, str], bytes]) -> None:
        status, headers, content = page
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.server.standin.requests.append(("GET", self.path))
        page = self.server.standin.browser("GET", self.path)
        if page is not None:
            return self._page(page)
        status, body = self.server.standin.handle("GET", self.path, self.headers, b"")
        self._reply(status, body)

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        self.server.standin.requests.append(("POST", self.path))
        page = self.server.standin.browser("POST", self.path)
        if page is not None:
            return self._page(page)
        status, body = self.server.standin.handle("POST", self.path, self.headers, raw)
        self._reply(status, body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    standin: StandIn


class StandIn:
    """Base: a server thread bound to 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.standin = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(
        self, method: str, path: str, headers: Any, raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        return 404, {"error": "not found"}

    def browser(self, method: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        """A page a person's browser opens (the provider's checkout); None for API calls."""
        return None


# --- Stripe --------------------------------------------------------------------------------


def _form_to_nested(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Decode Stripe's form encoding (``a[b][0][c]=v``) into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _lists(value) for key, value in node.items()}
    return node


class StripeStandIn(StandIn):
    """Checkout Sessions: create, retrieve (with ``expand[]=payment_intent``)."""

    def __init__(self, *, api_key: str, webhook_secret: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, str] = {}
        self.fail_with: int | None = None
        # Seconds every API call waits before answering (a slow Stripe).
        self.delay_seconds: float = 0
        # Where the checkout page delivers the signed webhook after the client pays, and how
        # long after the redirect back (so the return page first shows "pending").
        self.webhook_url: str | None = None
        self.webhook_delay = 1.5

    def browser(self, method: str, path: str) -> tuple[int, dict[str, str], bytes] | None:
        """Stripe's hosted checkout, reduced to one button: pay, send the signed
        ``checkout.session.completed`` webhook a moment later, go back to success_url."""
        url = urlsplit(path)
        if not url.path.startswith("/c/pay/cs_"):
            return None
        session_id = url.path.removeprefix("/c/pay/").removesuffix("/confirm")
        if session_id not in self.sessions:
            return 404, {"Content-Type": "text/plain"}, b"no such session"
        session = self.sessions[session_id]
        if method == "GET":
            amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
            html = (
                "<!doctype html><html><head><meta charset=utf-8><title>Stand-in Checkout</title>"
                f"</head><body><h1>Stand-in Checkout</h1><p>Amount: {amount}</p>"
                f'<form method="post" action="/c/pay/{session_id}/confirm">'
                '<button type="submit">Pay now</button></form></body></html>'
            )
            return 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode()
        self.pay(session_id)
        if self.webhook_url:
            threading.Timer(self.webhook_delay, self.deliver, args=(session_id,)).start()
        return 303, {"Location": session["success_url"]}, b""

    def deliver(self, session_id: str, event_type: str = "checkout.session.completed") -> int:
        """POST a signed event to our webhook URL, as Stripe does."""
        from urllib.request import Request, urlopen

        body = self.event(session_id, event_type)
        request = Request(  # noqa: S310 - the live test server on 127.0.0.1
            self.webhook_url,
            data=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": self.sign(body)},
        )
        with urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status

    def _error(self, status: int, message: str, kind: str = "invalid_request_error") -> tuple:
        return status, {"error": {"type": kind, "message": message}}

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[int, dict]:
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._error(401, "Invalid API Key provided", "invalid_request_error")
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.fail_with:
            return self._error(self.fail_with, "stand-in failure", "api_error")
        url = urlsplit(path)
        if method == "POST" and url.path == "/v1/checkout/sessions":
            return self._create(headers, raw)
        prefix = "/v1/checkout/sessions/"
        if method == "GET" and url.path.startswith(prefix):
            session_id = url.path[len(prefix) :]
            with self.lock:
                session = self.sessions.get(session_id)
                if session is None:
                    return self._error(404, f"No such checkout.session: '{session_id}'")
                body = json.loads(json.dumps(session))
                expand = [value for key, value in parse_qsl(url.query) if key.startswith("expand")]
                if "payment_intent" in expand:
                    body["payment_intent"] = dict(self.intents[session["payment_intent"]])
            return 200, body
        return self._error(404, f"Unrecognized request URL ({method}: {path})")

    def _create(self, headers: Any, raw: bytes) -> tuple[int, dict]:
        params = _form_to_nested(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        key = headers.get("Idempotency-Key")
        with self.lock:
            if key and key in self.idempotency:
                return 200, self.sessions[self.idempotency[key]]
            item = params["line_items"][0]
            amount = int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
            session_id = "cs_test_" + secrets.token_hex(12)
            intent_id = "pi_" + secrets.token_hex(12)
            self.intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "currency": item["price_data"]["currency"],
                "status": "requires_payment_method",
                "metadata": params.get("payment_intent_data", {}).get("metadata", {}),
            }
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params["mode"],
                "url": f"{self.base_url}/c/pay/{session_id}",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount,
                "amount_subtotal": amount,
                "currency": item["price_data"]["currency"],
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "payment_intent": intent_id,
                "success_url": params["success_url"],
                "cancel_url": params.get("cancel_url"),
                "livemode": False,
                "created": int(time.time()),
            }
            self.sessions[session_id] = session
            if key:
                self.idempotency[key] = session_id
        return 200, session

    # What the client does on Stripe's page, and what Stripe then knows.
    def pay(self, session_id: str) -> None:
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid")
            self.intents[session["payment_intent"]]["status"] = "succeeded"

    def fail(self, session_id: str) -> None:
        with self.lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="unpaid")
            self.intents[session["payment_intent"]]["status"] = "requires_payment_method"

    def expire(self, session_id: str) -> None:
        with self.lock:
            self.sessions[session_id].update(status="expired", payment_status="unpaid")

    def set_amount(self, session_id: str, amount: int) -> None:
        with self.lock:
            self.sessions[session_id]["amount_total"] = amount

    def only_session_id(self) -> str:
        (session_id,) = self.sessions
        return session_id

    def event(self, session_id: str, event_type: str, *, event_id: str | None = None) -> bytes:
        """A webhook body as Stripe sends it: an Event with the session snapshot inside."""
        with self.lock:
            snapshot = json.loads(json.dumps(self.sessions[session_id]))
        event = {
            "id": event_id or "evt_" + secrets.token_hex(12),
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
            "data": {"object": snapshot},
        }
        return json.dumps(event, separators=(",", ":")).encode("utf-8")

    def sign(
        self, payload: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> str:
        """The Stripe-Signature header for ``payload``."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        signed = f"{timestamp}.{payload.decode('utf-8')}".encode()
        digest = hmac.new(
            (secret or self.webhook_secret).encode(), signed, hashlib.sha256
        ).hexdigest()
        return f"t={timestamp},v1={digest}"


# --- YooKassa ------------------------------------------------------------------------------


class YooKassaStandIn(StandIn):
    """/v3/payments: create (with Idempotence-Key) and find one."""

    def __init__(self, *, shop_id: str, secret_key: str) -> None:
        super().__init__()
        self.shop_id = shop_id
        self.secret_key = secret_key
        self.payments: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, str] = {}
        self.fail_with: int | None = None
        # Every payment-creation request body, as received (tests assert on them).
        self.received: list[dict[str, Any]] = []

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v3"

    def _error(self, status: int, code: str, description: str) -> tuple[int, dict]:
        return status, {
            "type": "error",
            "id": str(uuid.uuid4()),
            "code": code,
            "description": description,
        }

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{self.shop_id}:{self.secret_key}".encode()).decode(
            "ascii"
        )
        if headers.get("Authorization") != expected:
            return self._error(401, "invalid_credentials", "Basic authentication failed")
        if self.fail_with:
            return self._error(self.fail_with, "internal_server_error", "stand-in failure")
        url = urlsplit(path)
        if method == "POST" and url.path == "/v3/payments":
            return self._create(headers, json.loads(raw or b"{}"))
        prefix = "/v3/payments/"
        if method == "GET" and url.path.startswith(prefix):
            payment_id = url.path[len(prefix) :]
            with self.lock:
                payment = self.payments.get(payment_id)
                if payment is None:
                    return self._error(404, "not_found", "Payment not found")
                return 200, json.loads(json.dumps(payment))
        return self._error(404, "not_found", "Unknown endpoint")

    def _create(self, headers: Any, body: dict[str, Any]) -> tuple[int, dict]:
        key = headers.get("Idempotence-Key")
        if not key:
            return self._error(400, "invalid_request", "Idempotence-Key header is required")
        self.received.append(body)
        problem = _receipt_problem(body)
        if problem:
            return self._error(400, "invalid_request", problem)
        with self.lock:
            if key in self.idempotency:
                return 200, self.payments[self.idempotency[key]]
            payment_id = str(uuid.uuid4())
            payment = {
                "id": payment_id,
                "status": "pending",
                "paid": False,
                "amount": body["amount"],
                "confirmation": {
                    "type": "redirect",
                    "return_url": body["confirmation"]["return_url"],
                    "confirmation_url": (
                        f"{self.base_url}/checkout/payments/v2/contract?orderId={payment_id}"
                    ),
                },
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "description": body.get("description", ""),
                "metadata": body.get("metadata", {}),
                "recipient": {"account_id": self.shop_id, "gateway_id": "100500"},
                "refundable": False,
                "test": True,
            }
            self.payments[payment_id] = payment
            self.idempotency[key] = payment_id
        return 200, payment

    def succeed(self, payment_id: str) -> None:
        with self.lock:
            payment = self.payments[payment_id]
            payment.update(
                status="succeeded",
                paid=True,
                refundable=True,
                captured_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                income_amount=dict(payment["amount"]),
                refunded_amount={"value": "0.00", "currency": payment["amount"]["currency"]},
                payment_method={"type": "bank_card", "id": payment_id, "saved": False},
            )
            payment.pop("confirmation", None)

    def cancel(self, payment_id: str) -> None:
        with self.lock:
            self.payments[payment_id].update(
                status="canceled",
                cancellation_details={"party": "yoo_money", "reason": "expired_on_confirmation"},
            )

    def set_amount(self, payment_id: str, value: str) -> None:
        with self.lock:
            self.payments[payment_id]["amount"]["value"] = value

    def only_payment_id(self) -> str:
        (payment_id,) = self.payments
        return payment_id

    def notification(self, payment_id: str, event: str) -> bytes:
        with self.lock:
            snapshot = json.loads(json.dumps(self.payments[payment_id]))
        return json.dumps({"type": "notification", "event": event, "object": snapshot}).encode()


def _receipt_problem(body: dict[str, Any]) -> str:
    """What YooKassa checks in a ``receipt``: a customer email or phone, and items (each with
    description, quantity, amount, vat_code 1–12) adding up to the payment's amount."""
    receipt = body.get("receipt")
    if receipt is None:
        return ""
    from decimal import Decimal

    customer = receipt.get("customer") or {}
    if not (customer.get("email") or customer.get("phone")):
        return "receipt.customer: email or phone is required"
    items = receipt.get("items") or []
    if not items:
        return "receipt.items is empty"
    total = Decimal(0)
    for item in items:
        missing = {"description", "quantity", "amount", "vat_code"} - set(item)
        if missing:
            return f"receipt.items: {sorted(missing)} missing"
        if not 1 <= int(item["vat_code"]) <= 12:
            return f"receipt.items.vat_code {item['vat_code']} is invalid"
        total += Decimal(str(item["amount"]["value"])) * Decimal(str(item["quantity"]))
    if total.quantize(Decimal("0.01")) != Decimal(str(body["amount"]["value"])):
        return f"receipt items add up to {total}, not {body['amount']['value']}"
    return ""
