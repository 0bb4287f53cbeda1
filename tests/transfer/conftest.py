import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"
    cache.clear()
    return settings.PRIVATE_ROOT
