"""Automation tests: a Russian studio, a deal that goes through the sales path, and a clock
we move by hand (time-machine) before running the timer job."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from studiocrm.flow import rules
from studiocrm.notifications.models import Outbox
from tests.documents.conftest import (  # noqa: F401 - fixtures used by name
    accept,
    clean_cache,
    deal,
    migration_data,
    private_root,
    proposal,
    rub_list,
    sent_proposal,
)
from tests.e2e.sales_path_support import russian_studio
from tests.notifications.conftest import smtp_server  # noqa: F401 - fixture used by name

MOSCOW = ZoneInfo("Europe/Moscow")
# A Monday, 10:00 in Moscow: business days and hours count from here.
MONDAY = datetime(2027, 3, 1, 10, 0, tzinfo=MOSCOW)


STUDIO = "Веб-студия «Пиксель»"


@pytest.fixture
def studio(db):
    return russian_studio()


class Clock:
    """The test's clock: starts on MONDAY; ``at(moment)`` moves it and runs the timer job
    as the worker would."""

    def __init__(self) -> None:
        self.traveller = time_machine.travel(MONDAY, tick=False)
        self.coordinates = self.traveller.start()

    def move_to(self, moment: datetime) -> None:
        self.coordinates.move_to(moment)

    def run_jobs_at(self, moment: datetime) -> dict[str, int]:
        self.move_to(moment)
        return rules.fire_due()

    def stop(self) -> None:
        self.traveller.stop()


@pytest.fixture
def clock(studio):
    moving = Clock()
    yield moving
    moving.stop()


def letters(key_prefix: str) -> list[Outbox]:
    return list(Outbox.objects.filter(dedupe_key__startswith=key_prefix).order_by("pk"))


def rule_letters(code: str) -> list[Outbox]:
    return letters(f"rule:{code}:")
