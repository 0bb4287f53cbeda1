"""The report query runner: on PostgreSQL each report runs without JIT compilation (it cost
seconds per query at 100k deals), and only that query: the connection keeps its setting."""

from __future__ import annotations

import pytest
from django.db import connection

from studiocrm.analytics.sql import fetch


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_report_queries_run_without_jit_and_leave_the_connection_as_it_was():
    if connection.vendor != "postgresql":
        assert fetch("SELECT 1 + 1") == [(2,)]
        return
    before = setting("jit")
    assert fetch("SELECT current_setting('jit'), 1 + 1") == [("off", 2)]
    assert setting("jit") == before
    assert not connection.in_atomic_block
