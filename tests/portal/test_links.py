"""Client link tokens: randomness, storage, lookup, revocation, expiry, views."""

from datetime import timedelta

import pytest
from django.utils import timezone

from studiocrm.briefs.models import Brief
from studiocrm.portal.links import (
    LinkTokenLost,
    derive_token,
    hash_token,
    plausible_token,
    record_view,
    revoke,
)

pytestmark = pytest.mark.django_db


def test_tokens_are_long_url_safe_and_all_different(sent_brief):
    tokens = {sent_brief.issue_token() for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert len(token) == 43  # 256-bit HMAC output; the salt behind it has 128 random bits
        assert plausible_token(token)
    assert len(sent_brief.token_salt) == 32


def test_the_token_depends_on_the_secret_key(sent_brief, settings):
    token = sent_brief.link_token()
    assert derive_token(sent_brief.token_salt, "another key") != token


def test_the_database_keeps_the_hash_not_the_token(sent_brief):
    token = sent_brief.link_token()
    assert sent_brief.token_hash == hash_token(token)
    assert token not in sent_brief.token_hash


def test_a_wrong_token_finds_nothing(sent_brief):
    token = sent_brief.link_token()
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert Brief.find_by_token(wrong) is None
    assert Brief.find_by_token("") is None
    assert Brief.find_by_token("short") is None
    assert Brief.find_by_token(sent_brief.token_hash) is None


def test_a_revoked_token_finds_nothing(sent_brief):
    revoke(sent_brief)
    assert Brief.find_by_token(sent_brief.link_token()) is None


def test_an_expired_token_finds_nothing(sent_brief):
    sent_brief.expires_at = timezone.now() - timedelta(seconds=1)
    sent_brief.save(update_fields=["expires_at"])
    assert Brief.find_by_token(sent_brief.link_token()) is None
    sent_brief.expires_at = timezone.now() + timedelta(days=1)
    sent_brief.save(update_fields=["expires_at"])
    assert Brief.find_by_token(sent_brief.link_token()) == sent_brief


def test_links_survive_a_secret_key_rotation_with_a_fallback(sent_brief, settings):
    token = sent_brief.link_token()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a brand new secret key that is long enough to be taken seriously"
    assert sent_brief.link_token() == token
    assert Brief.find_by_token(token) == sent_brief


def test_without_the_old_key_the_link_cannot_be_rebuilt(sent_brief, settings):
    settings.SECRET_KEY = "a brand new secret key that is long enough to be taken seriously"
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(LinkTokenLost):
        sent_brief.link_token()


def test_only_the_first_view_is_reported_as_first(sent_brief):
    assert record_view(sent_brief) is True
    assert record_view(sent_brief) is False
    assert record_view(Brief.objects.get(pk=sent_brief.pk)) is False
    sent_brief.refresh_from_db()
    assert sent_brief.view_count == 3
    assert sent_brief.first_viewed_at is not None
