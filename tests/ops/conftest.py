import atexit

import pytest

from studiocrm.ops import heartbeat


@pytest.fixture(autouse=True)
def no_goodbye_at_exit():
    """``heartbeat.beat`` registers the worker's goodbye for when its process exits; in the
    test process that would write to a test database long gone."""
    yield
    atexit.unregister(heartbeat.stopped)
    heartbeat._registered_exit.clear()
