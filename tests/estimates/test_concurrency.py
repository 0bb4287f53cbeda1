"""Two saves of one estimate at the same moment (two browser tabs): one stage change."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from studiocrm.deals.models import ESTIMATED, StageChange
from studiocrm.estimates import services
from tests.estimates.conftest import add_fixed_line

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("migration_data"),
]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs real row locks between connections: run with DATABASE_URL=postgres://…",
)
def test_saving_twice_at_once_moves_the_deal_once(option, manager):
    add_fixed_line(option, price="120000")
    barrier = threading.Barrier(2)
    errors = []

    def save():
        try:
            barrier.wait()
            services.save_estimate(option.estimate, actor=manager)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    deal = option.estimate.deal
    deal.refresh_from_db()
    assert (deal.stage_id, deal.estimated_amount) == (ESTIMATED, Decimal("120000.00"))
    assert StageChange.objects.filter(deal=deal, to_stage=ESTIMATED).count() == 1
