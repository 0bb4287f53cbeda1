import pytest

from tests.core.real_server import prepare_site


@pytest.fixture(scope="session")
def prepared_site(tmp_path_factory):
    """A migrated production-like site (SQLite, collected static files) to copy per server."""
    return prepare_site(tmp_path_factory.mktemp("studiocrm-site"))


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counts live in the cache, which outlives a test: start each at zero."""
    from django.core.cache import cache

    cache.clear()
