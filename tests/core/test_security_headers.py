"""Every manager page carries a Content-Security-Policy with a fresh nonce and
``Cache-Control: private, no-store``, and its HTML needs nothing the policy refuses (no
inline scripts without the nonce, no event-handler or style attributes).

The pages come from the URL resolver, not from a hand-made list, so a page added later is
checked too. They are opened as the owner (who may open every page) in the demo studio,
where object number 1 of every kind exists."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from studiocrm.core.models import User
from studiocrm.estimates.views import KINDS

# Pages that are not manager pages and keep their own rules: client links (a stricter
# policy of their own), the public lead form (embedded on studios' sites) and the API.
NOT_MANAGER_PAGES = ("c/", "lead/", "api/")
NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{20,})'")
SAMPLE_ARGUMENTS = {"kind": next(iter(KINDS)), "part": "html", "uidb64": "MQ", "token": "x"}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace + (entry.name or ""), entry


def manager_urls() -> list[str]:
    urls = []
    for route, name, entry in _walk(get_resolver().url_patterns):
        if route.startswith(NOT_MANAGER_PAGES):
            continue
        assert entry.name, f"{route} has no name: cannot be reversed"
        arguments = entry.pattern.regex.groupindex
        urls.append(reverse(name, kwargs={a: SAMPLE_ARGUMENTS.get(a, "1") for a in arguments}))
    return urls


class InlineCodeFinder(HTMLParser):
    """Collects what a strict policy refuses: inline handlers, style attributes, and inline
    <script>/<style> elements without this response's nonce."""

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, _value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}=…>")
        # A JSON data block (json_script) is never run, so the policy has nothing to refuse.
        data_only = values.get("type") == "application/json"
        if (
            tag == "script"
            and "src" not in values
            and not data_only
            and values.get("nonce") != self.nonce
        ):
            self.problems.append("<script> inline without the nonce")
        if tag == "style" and values.get("nonce") != self.nonce:
            self.problems.append("<style> without the nonce")
        if values.get("href", "").startswith("javascript:"):
            self.problems.append(f"<{tag} href=javascript:…>")


@pytest.fixture(scope="module")
def demo_studio(django_db_setup, django_db_blocker, tmp_path_factory):
    with (
        django_db_blocker.unblock(),
        override_settings(DATA_DIR=tmp_path_factory.mktemp("demo-data")),
        transaction.atomic(),
    ):
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo_owner_client(demo_studio, db):
    """The demo's owner, past the second factor owners must have."""
    from tests.conftest import logged_in
    from tests.factories import with_authenticator

    owner = User.objects.filter(role=User.Role.OWNER).order_by("pk").first()
    with_authenticator(owner)
    return logged_in(owner)


def test_every_manager_page_sends_a_nonce_policy_and_no_store(demo_owner_client):
    problems, pages_shown = [], 0
    urls = manager_urls()
    assert len(urls) > 100  # the resolver found the whole site, not a handful
    for url in urls:
        response = demo_owner_client.get(url)
        if response.get("Cache-Control") != "private, no-store":
            problems.append(f"{url}: Cache-Control {response.get('Cache-Control')!r}")
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        policy = response.get("Content-Security-Policy", "")
        match = NONCE.search(policy)
        # Document previews (a studio template in a sandboxed srcdoc iframe) may style
        # inline; nothing may run inline scripts.
        styles = (
            "style-src 'self' 'unsafe-inline';"
            if getattr(resolve(url).func, "csp_inline_styles", False)
            else f"style-src 'self' 'nonce-{match.group(1) if match else ''}';"
        )
        if (
            not match
            or styles not in policy
            or policy.count("unsafe-") != styles.count("unsafe-")
            or "frame-ancestors 'none'" not in policy
        ):
            problems.append(f"{url}: policy {policy!r}")
            continue
        if response.status_code == 200:
            pages_shown += 1
            finder = InlineCodeFinder(match.group(1))
            finder.feed(response.content.decode())
            problems += [f"{url}: {problem}" for problem in sorted(set(finder.problems))]
    assert problems == []
    assert pages_shown >= 40  # the demo studio really rendered the pages


def test_each_response_gets_its_own_nonce(demo_owner_client):
    first = demo_owner_client.get("/deals/")["Content-Security-Policy"]
    second = demo_owner_client.get("/deals/")["Content-Security-Policy"]
    assert NONCE.search(first).group(1) != NONCE.search(second).group(1)


def test_the_sign_in_page_has_the_policy_too(anonymous_client, db):
    response = anonymous_client.get("/login/")
    assert NONCE.search(response["Content-Security-Policy"])


def test_client_link_pages_keep_their_own_stricter_policy(demo_owner_client):
    response = demo_owner_client.get("/c/b/not-a-real-token/")
    assert response.status_code == 404
    assert response["Content-Security-Policy"].startswith("default-src 'self'; img-src")
    assert "nonce-" not in response["Content-Security-Policy"]


def test_static_files_are_served_before_the_headers_are_added():
    """WhiteNoise answers static files itself, so they keep their long cache lifetime
    (the test server has no collected files to show it with a request)."""
    from django.conf import settings

    order = settings.MIDDLEWARE
    assert order.index("whitenoise.middleware.WhiteNoiseMiddleware") < order.index(
        "studiocrm.core.middleware.SecurityHeadersMiddleware"
    )
