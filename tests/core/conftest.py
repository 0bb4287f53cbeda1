import pytest

from tests.core.real_server import prepare_site


@pytest.fixture(scope="session")
def prepared_site(tmp_path_factory):
    """A migrated production-like site (SQLite, collected static files) to copy per server."""
    return prepare_site(tmp_path_factory.mktemp("studiocrm-site"))
