"""A reload of the client's page served from what this process remembers (the page key by
the raw inputs, the cached HTML cut at the CSRF token, the fast CSRF token): the same HTML
as a fresh render, a working token of its own, and fresh after every change the page shows."""

import re
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CSRF_TOKEN_LENGTH,
    _unmask_cipher_token,
)
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.urls import reverse

from studiocrm.documents import csrf, page_cache, services
from studiocrm.documents.models import Acceptance, Document
from studiocrm.documents.presenting import find_for_page, page_stamps
from tests.documents.conftest import accept

TOKEN = re.compile(r"[A-Za-z0-9]{64}")


def url(name, token):
    return reverse(f"documents_client:{name}", args=[token])


@pytest.fixture
def token(sent_proposal):
    return sent_proposal.link_token()


def _page(browser, token):
    response = browser.get(url("page", token))
    assert response.status_code == 200
    return response.content.decode()


def _without_tokens(html):
    return TOKEN.sub("TOKEN", html)


def test_a_reload_is_the_same_html_as_a_fresh_render_with_a_new_token(token):
    first = _page(HttpClient(), token)  # renders, caches
    second = _page(HttpClient(), token)  # key remembered, HTML from this process
    page_cache.clear()
    cache.clear()
    fresh = _page(HttpClient(), token)  # rendered again from nothing
    assert _without_tokens(first) == _without_tokens(second) == _without_tokens(fresh)
    tokens = [TOKEN.search(html).group(0) for html in (first, second, fresh)]
    assert len(set(tokens)) == 3


def _accept_from_remembered_page(token, form_token=None):
    """Load the page twice in a CSRF-checking browser (the second from memory) and accept
    it with the form's own token, or with ``form_token``."""
    browser = HttpClient(enforce_csrf_checks=True)
    _page(browser, token)
    html = _page(browser, token)
    own = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert _unmask_cipher_token(own) == browser.cookies["csrftoken"].value
    return browser.post(
        url("accept", token),
        {
            "name": "Ирина Петрова",
            "email": "irina@client.test",
            "consent": "on",
            "fingerprint": re.search(r'name="fingerprint" value="([0-9a-f]{64})"', html).group(1),
            "csrfmiddlewaretoken": form_token or own,
        },
    )


def test_the_token_of_a_remembered_page_is_accepted_by_the_csrf_check(token, sent_proposal):
    assert _accept_from_remembered_page(token).status_code == 302
    assert Acceptance.objects.filter(document=sent_proposal).count() == 1


def test_a_forged_token_is_still_refused(token):
    assert _accept_from_remembered_page(token, "a" * CSRF_TOKEN_LENGTH).status_code == 403
    assert not Acceptance.objects.exists()


def test_a_studio_rename_shows_on_the_next_reload(token, studio):
    _page(HttpClient(), token)  # the first view is counted: the row changes once
    assert "Test Studio" in _page(HttpClient(), token)  # the key for this row remembered
    studio.name = "Renamed Studio"
    studio.save()
    html = _page(HttpClient(), token)
    assert "Renamed Studio" in html and "Test Studio" not in html


def test_a_new_title_shows_on_the_next_reload(token, sent_proposal):
    _page(HttpClient(), token)
    Document.objects.filter(pk=sent_proposal.pk).update(title="Предложение, версия 2")
    assert "Предложение, версия 2" in _page(HttpClient(), token)


def test_after_acceptance_the_reload_shows_the_accepted_page(token, sent_proposal):
    _page(HttpClient(), token)
    assert 'name="fingerprint"' in _page(HttpClient(), token)
    accept(sent_proposal)
    html = _page(HttpClient(), token)
    assert 'name="fingerprint"' not in html
    assert 'class="status ok"' in html


def test_the_day_after_the_last_valid_day_the_reload_shows_it_expired(token, sent_proposal):
    today = services.studio_today()
    Document.objects.filter(pk=sent_proposal.pk).update(valid_until=today)
    html = _page(HttpClient(), token)
    assert 'id="valid-until"' in html and 'id="expired"' not in html
    assert 'id="valid-until"' in _page(HttpClient(), token)  # remembered, still valid
    with time_machine.travel(timedelta(days=2)):
        html = _page(HttpClient(), token)  # the same row, a later day
    assert 'id="expired"' in html and 'name="fingerprint"' not in html


def test_each_language_gets_its_own_page(token, sent_proposal):
    _page(HttpClient(), token)
    russian = _page(HttpClient(), token)
    assert '<html lang="ru"' in russian
    Document.objects.filter(pk=sent_proposal.pk).update(language="en")
    english = _page(HttpClient(), token)
    assert '<html lang="en"' in english
    Document.objects.filter(pk=sent_proposal.pk).update(language="ru")
    again = _page(HttpClient(), token)  # both pages remembered: the Russian one comes back
    assert _without_tokens(again) == _without_tokens(russian)


def test_the_csrf_string_is_uniform_over_the_allowed_characters():
    # Each of the 62 characters is the image of exactly 4 of the byte values kept.
    kept = [csrf._TO_CHAR[value] for value in range(csrf._UNBIASED)]
    assert csrf._UNBIASED == 248
    assert set(Counter(kept).values()) == {4}
    assert {chr(code) for code in kept} == set(CSRF_ALLOWED_CHARS)
    strings = {csrf.random_csrf_string() for _ in range(200)}
    assert len(strings) == 200
    assert all(
        len(value) == CSRF_SECRET_LENGTH and set(value) <= set(CSRF_ALLOWED_CHARS)
        for value in strings
    )


def test_get_token_masks_the_cookie_secret_as_django_does():
    request = RequestFactory().get("/")
    first = csrf.get_token(request)
    secret = request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert len(first) == CSRF_TOKEN_LENGTH and _unmask_cipher_token(first) == secret
    # A browser that sent its cookie keeps its secret, under a new mask each time.
    second = csrf.get_token(request)
    assert request.META["CSRF_COOKIE"] == secret
    assert second != first and _unmask_cipher_token(second) == secret


def test_the_token_lookup_reads_the_same_stamps_as_page_stamps(sent_proposal, manager):
    from studiocrm.estimates import services as estimate_services
    from studiocrm.estimates.models import Estimate

    found = find_for_page(sent_proposal.link_token())
    assert found.pk == sent_proposal.pk
    assert found.page_stamps == page_stamps(sent_proposal)
    latest = (
        Estimate.objects.filter(deal=sent_proposal.deal, status=Estimate.Status.SAVED)
        .order_by("-saved_at", "-pk")
        .first()
    )
    assert found.page_stamps.estimate[0] == latest.pk
    assert found.page_stamps.brief == (None, None)
    before = found.page_row
    estimate_services.save_estimate(latest, actor=manager)  # a new saved version
    again = find_for_page(sent_proposal.link_token())
    assert again.page_row != before
    assert again.page_stamps == page_stamps(sent_proposal)
