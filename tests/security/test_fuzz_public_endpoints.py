"""Issue 14, "Done when": generated bodies posted to every public form and endpoint of a
real server (Django's live_server on 127.0.0.1) never get a 5xx.

Hypothesis generates the bodies: random field names beside the real ones, values of any
size and alphabet (NUL, control and astral characters, markup), JSON of any shape, form
bodies in other encodings than declared, raw bytes, wrong or missing content types and,
for the pages that need one, the right CSRF token (so the fuzz reaches the form code, not
only the CSRF check), and Stripe signatures computed over the generated body (so it reaches
the event parser). Anything below 500 is an answer: 400, 403, 404, 405, 409, 413, 415, 422
and 429 are all fine; a 5xx or a dropped connection fails the test.

Endpoints: the hosted lead form and the embed endpoint, the lead API, the client brief's
save/upload/remove/submit, the client document's choose/accept/ask, the client invoice's pay
buttons, both providers' webhooks, login and password reset.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
import requests
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studiocrm.billing import services as billing_services
from studiocrm.billing.models import ProviderAccount
from studiocrm.billing.services import LineInput
from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import BriefTemplate
from studiocrm.deals.models import CONTRACT_SIGNED
from studiocrm.documents import services as document_services
from studiocrm.estimates.models import PriceList
from studiocrm.intake import services as intake_services
from tests.billing.conftest import STRIPE_KEY, STRIPE_WEBHOOK_SECRET
from tests.billing.standins import StripeStandIn
from tests.documents.conftest import make_estimated_deal
from tests.factories import ClientFactory, ContactFactory, DealFactory
from tests.migration_data import restore_migration_data

# Examples per endpoint: about 25 requests each, two minutes for the whole module.
EXAMPLES = 25
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- what a hostile body is made of -------------------------------------------------------

nasty_text = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "<script>alert(1)</script>",
            "{{ 7*7 }}",
            "'; DROP TABLE deals; --",
            "a@localhost",
            "x@[127.0.0.1]",
            "a" * 65 + "@example.com",
            "0000000000",
            "+7 999 123-45-67",
            "anna@example.com",
            "1e309",
            "NaN",
            "-1",
            "99999999999999999999999",
            "../../etc/passwd",
            "\u202e\ufeff\U0001f600",
            "x" * 70_000,
        ]
    ),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | nasty_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(nasty_text, children, max_size=4)
    ),
    max_leaves=12,
)


def fields(known: list[str]) -> st.SearchStrategy[dict[str, str]]:
    """A form: some of the real field names and some made up, each with a hostile value."""
    names = st.sampled_from(known) | st.text(min_size=1, max_size=20)
    return st.dictionaries(names, nasty_text, max_size=len(known) + 3)


@st.composite
def form_bodies(draw: Any, known: list[str]) -> tuple[bytes, str]:
    """(body, content type): urlencoded in UTF-8 or another encoding, multipart, JSON, raw
    bytes, or a content type that does not match the body."""
    data = draw(fields(known))
    kind = draw(st.sampled_from(["urlencoded", "latin1", "utf16", "multipart", "json", "raw"]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode(), "application/json"
    if kind == "raw":
        raw = draw(st.binary(max_size=2000))
        content_type = draw(
            st.sampled_from(
                [
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=xyz",
                    "multipart/form-data",
                    "text/plain",
                    "application/octet-stream",
                    "",
                ]
            )
        )
        return raw, content_type
    if kind == "multipart":
        prepared = requests.Request(
            "POST",
            "http://x/",
            files={
                name: (None, value.encode("utf-8", "surrogatepass")) for name, value in data.items()
            },
        ).prepare()
        return prepared.body or b"", prepared.headers.get("Content-Type", "")
    if kind == "utf16":
        # Not even percent-encoded: the text itself in UTF-16, as a broken client sends it.
        encoded = "&".join(f"{name}={value}" for name, value in data.items()).encode(
            "utf-16", "surrogatepass"
        )
    else:
        codec = "latin-1" if kind == "latin1" else "utf-8"
        encoded = "&".join(
            f"{quote(name, safe='', encoding=codec, errors='replace')}="
            f"{quote(value, safe='', encoding=codec, errors='replace')}"
            for name, value in data.items()
        ).encode("ascii")
    return encoded, (
        "application/x-www-form-urlencoded"
        + draw(st.sampled_from(["", "; charset=utf-8", "; charset=latin-1", "; charset=bogus"]))
    )


# --- the server and what it serves ----------------------------------------------------------


@pytest.fixture
def site(live_server, manager, owner, tmp_path):
    """Everything a stranger can reach: a sent brief, a sent proposal, an issued invoice with
    Stripe and bank transfer on, an API key, Stripe's and YooKassa's webhooks."""
    restore_migration_data()
    stripe = StripeStandIn(api_key=STRIPE_KEY, webhook_secret=STRIPE_WEBHOOK_SECRET).start()
    overrides = override_settings(
        INTAKE_RATE="100000/m",
        PORTAL_NOT_FOUND_RATE="100000/m",
        STRIPE_API_BASE=stripe.base_url,
        YOOKASSA_WEBHOOK_NETWORKS=["127.0.0.1/32"],
        PRIVATE_ROOT=tmp_path / "private",
        BASE_URL=live_server.url,
    )
    overrides.enable()
    try:
        ProviderAccount.objects.update_or_create(
            provider="stripe",
            defaults={
                "enabled": True,
                "secret_key": STRIPE_KEY,
                "webhook_secret": STRIPE_WEBHOOK_SECRET,
            },
        )
        ProviderAccount.objects.update_or_create(
            provider="yookassa",
            defaults={"enabled": True, "account_id": "100500", "secret_key": "test_secret"},
        )
        ProviderAccount.objects.update_or_create(
            provider="bank_transfer", defaults={"enabled": True}
        )
        brief_deal = DealFactory(manager=manager)
        template = BriefTemplate.objects.filter(language="en", is_active=True).first()
        brief = brief_services.send_brief(brief_deal, template, actor=manager)
        proposal_deal = make_estimated_deal(
            manager, PriceList.objects.get(default_key="default-rub")
        )
        proposal = document_services.create_proposal(proposal_deal, actor=manager)
        document_services.send_document(proposal, actor=manager)
        client = ClientFactory(name="Buyer")
        invoice_deal = DealFactory(
            client=client,
            contact=ContactFactory(client=client, email="buyer@example.com"),
            manager=manager,
            stage_id=CONTRACT_SIGNED,
        )
        invoice = billing_services.create_invoice(
            invoice_deal,
            lines=[LineInput("Work", Decimal(1), Decimal("1000.00"))],
            actor=manager,
        )
        invoice_token = billing_services.issue_invoice(invoice, actor=manager)
        _key, api_secret = intake_services.create_api_key("Fuzz", actor=owner)
        yield {
            "base": live_server.url,
            "brief": brief.link_token(),
            "document": proposal.link_token(),
            "invoice": invoice_token,
            "api_key": api_secret,
            "stripe": stripe,
        }
    finally:
        overrides.disable()
        stripe.stop()


def csrf_session(base: str, page: str) -> tuple[requests.Session, str]:
    """A browser-like session that opened ``page`` and holds its CSRF token."""
    session = requests.Session()
    html = session.get(base + page, timeout=20).text
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return session, found.group(1) if found else ""


def send(session: requests.Session, url: str, body: bytes, content_type: str, **headers: str):
    if content_type:
        headers["Content-Type"] = content_type
    response = session.post(url, data=body, headers=headers, timeout=60, allow_redirects=False)
    assert response.status_code < 500, (url, response.status_code, body[:300], content_type)
    return response


def with_csrf(body: bytes, content_type: str, token: str) -> bytes:
    """Put the page's CSRF token in front of an urlencoded body, so the form code runs."""
    if token and content_type.startswith("application/x-www-form-urlencoded"):
        return f"csrfmiddlewaretoken={token}&".encode() + body
    return body


# --- one test per door ------------------------------------------------------------------------

LEAD_FIELDS = [
    "name",
    "email",
    "phone",
    "company",
    "message",
    "submission_id",
    "page_url",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "website",
]


@pytest.mark.parametrize("path", ["/lead/submit/", "/lead/submit/?embed=1&lang=ru", "/lead/"])
def test_the_lead_form_and_embed_never_fail(site, path):
    session = requests.Session()

    @FUZZ
    @given(body=form_bodies(LEAD_FIELDS), wants_json=st.booleans())
    def run(body, wants_json):
        headers = {"Accept": "application/json"} if wants_json else {}
        send(session, site["base"] + path, *body, **headers)

    run()


def test_the_lead_api_never_fails(site):
    session = requests.Session()
    lead_keys = [
        "name",
        "email",
        "phone",
        "company",
        "message",
        "budget",
        "page_url",
        "utm_source",
        "idempotency_key",
    ]

    @FUZZ
    @given(
        payload=json_values | st.dictionaries(st.sampled_from(lead_keys), json_values, max_size=6),
        raw=st.none() | st.binary(max_size=500),
        key=st.none() | st.text(max_size=40) | st.sampled_from(["same-key"]),
        auth=st.sampled_from(["good", "none", "bad"]),
        content_type=st.sampled_from(
            ["application/json", "application/json; charset=latin-1", "text/plain", ""]
        ),
    )
    def run(payload, raw, key, auth, content_type):
        headers = {}
        if auth == "good":
            headers["Authorization"] = f"Bearer {site['api_key']}"
        elif auth == "bad":
            headers["Authorization"] = "Bearer sck_000000000000_" + "x" * 43
        if key is not None and key.isascii() and key.isprintable():
            headers["Idempotency-Key"] = key
        body = raw if raw is not None else json.dumps(payload).encode()
        send(session, site["base"] + "/api/v1/leads", body, content_type, **headers)

    run()


BRIEF_ACTIONS = ["save/", "upload/", "remove-file/", "submit/"]


@pytest.mark.parametrize("action", BRIEF_ACTIONS)
def test_the_client_brief_never_fails(site, action):
    page = f"/c/b/{site['brief']}/"
    session, token = csrf_session(site["base"], page)
    known = [
        "company",
        "goal",
        "pages",
        "content_ready",
        "budget",
        "file_id",
        "question",
        "csrfmiddlewaretoken",
    ]

    @FUZZ
    @given(body=form_bodies(known))
    def run(body):
        raw, content_type = body
        send(
            session,
            site["base"] + page + action,
            with_csrf(raw, content_type, token),
            content_type,
            Referer=site["base"] + page,
        )

    run()


@pytest.mark.parametrize("action", ["choose/", "accept/", "ask/"])
def test_the_client_document_never_fails(site, action):
    page = f"/c/doc/{site['document']}/"
    session, token = csrf_session(site["base"], page)
    known = ["option", "optional", "name", "email", "consent", "revision", "text", "total"]

    @FUZZ
    @given(body=form_bodies(known))
    def run(body):
        raw, content_type = body
        send(
            session, site["base"] + page + action, with_csrf(raw, content_type, token), content_type
        )

    run()


@pytest.mark.parametrize("provider", ["stripe", "bank_transfer", "yookassa", "nonsense"])
def test_the_client_pay_buttons_never_fail(site, provider):
    page = f"/c/pay/{site['invoice']}/"
    session = requests.Session()

    @settings(FUZZ, max_examples=8)
    @given(body=form_bodies(["amount", "provider", "csrfmiddlewaretoken"]))
    def run(body):
        send(session, site["base"] + page + f"pay/{provider}/", *body)

    run()


def test_the_stripe_webhook_never_fails(site):
    session = requests.Session()

    @FUZZ
    @given(
        payload=json_values
        | st.fixed_dictionaries(
            {
                "id": json_values,
                "type": st.sampled_from(
                    ["checkout.session.completed", "checkout.session.expired", "x"]
                )
                | json_values,
                "data": json_values | st.fixed_dictionaries({"object": json_values}),
            }
        ),
        raw=st.none() | st.binary(max_size=500),
        signed=st.booleans(),
    )
    def run(payload, raw, signed):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {}
        if signed:
            try:
                headers["Stripe-Signature"] = site["stripe"].sign(body)
            except UnicodeDecodeError:
                headers["Stripe-Signature"] = "t=1,v1=00"
        send(session, site["base"] + "/c/pay/webhooks/stripe/", body, "application/json", **headers)

    run()


def test_the_yookassa_webhook_never_fails(site):
    session = requests.Session()

    @FUZZ
    @given(
        payload=json_values
        | st.fixed_dictionaries(
            {
                "type": st.just("notification") | json_values,
                "event": st.sampled_from(["payment.succeeded", "payment.canceled"]) | json_values,
                "object": json_values | st.fixed_dictionaries({"id": json_values}),
            }
        ),
        raw=st.none() | st.binary(max_size=500),
    )
    def run(payload, raw):
        body = raw if raw is not None else json.dumps(payload).encode()
        send(session, site["base"] + "/c/pay/webhooks/yookassa/", body, "application/json")

    run()


@pytest.mark.parametrize("page", ["/login/", "/password-reset/"])
def test_login_and_password_reset_never_fail(site, page):
    session, token = csrf_session(site["base"], page)

    @FUZZ
    @given(body=form_bodies(["username", "password", "email", "next"]))
    def run(body):
        raw, content_type = body
        send(
            session,
            site["base"] + page,
            with_csrf(raw, content_type, token),
            content_type,
            Referer=site["base"] + page,
        )

    run()
