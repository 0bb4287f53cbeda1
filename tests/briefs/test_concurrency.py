"""Two submits of one brief at the same moment give one submission (PostgreSQL only: SQLite
serialises writers, so it cannot show the race)."""

import threading

import pytest
from django.db import connection, connections

from studiocrm.briefs import services
from studiocrm.briefs.models import Brief
from studiocrm.core.models import AuditLog
from studiocrm.deals.models import BRIEF_RECEIVED, StageChange
from studiocrm.notifications.models import Outbox
from tests.briefs.conftest import fill_required

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises writers, so the race cannot happen there",
    ),
]


def run_at_once(count, action):
    barrier = threading.Barrier(count)
    outcomes = []

    def worker():
        try:
            barrier.wait()
            outcomes.append(action())
        except Exception as error:  # collected and asserted on below
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_simultaneous_submits_make_one_submission(deal, template_en, manager):
    brief = fill_required(services.send_brief(deal, template_en, actor=manager))

    outcomes = run_at_once(4, lambda: services.submit_brief(Brief.objects.get(pk=brief.pk)))

    submitted = [item for item in outcomes if isinstance(item, Brief)]
    refused = [item for item in outcomes if isinstance(item, services.BriefAlreadySubmitted)]
    assert len(submitted) == 1
    assert len(refused) == 3
    assert AuditLog.objects.filter(verb="brief.submitted").count() == 1
    assert StageChange.objects.filter(deal=deal, to_stage=BRIEF_RECEIVED).count() == 1
    assert Outbox.objects.filter(dedupe_key__startswith="brief-submitted:").count() == 1


def test_autosaves_racing_a_submit_never_change_a_submitted_brief(deal, template_en, manager):
    brief = fill_required(services.send_brief(deal, template_en, actor=manager))
    numbers = iter(range(6))
    lock = threading.Lock()

    def submit_or_autosave():
        with lock:
            number = next(numbers)
        fresh = Brief.objects.get(pk=brief.pk)
        if number == 0:
            return ("submit", services.submit_brief(fresh).answers)
        return ("save", services.save_answer(fresh, "audience", f"version {number}").answers)

    outcomes = run_at_once(6, submit_or_autosave)

    submitted_answers = next(
        result
        for kind, result in (item for item in outcomes if isinstance(item, tuple))
        if kind == "submit"
    )
    late = [item for item in outcomes if isinstance(item, services.BriefAlreadySubmitted)]
    saved = [item for item in outcomes if isinstance(item, tuple) and item[0] == "save"]
    assert len(late) + len(saved) == 5
    assert Brief.objects.get(pk=brief.pk).answers == submitted_answers
