"""Invoice numbers are gapless and unique when many managers issue at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from studiocrm.billing import services
from studiocrm.billing.models import Invoice
from tests.billing.conftest import make_invoice, on_postgresql


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_issuing_at_once_get_exactly_one_to_twenty(deal, manager):
    drafts = [make_invoice(deal, manager, "100", issue=False) for _ in range(20)]
    barrier = threading.Barrier(len(drafts))
    errors: list[BaseException] = []

    def issue(draft: Invoice) -> None:
        try:
            barrier.wait()
            services.issue_invoice(draft, actor=manager, notify_client=False)
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = sorted(Invoice.objects.filter(deal=deal).values_list("sequence_number", flat=True))
    assert numbers == list(range(1, 21))
    assert Invoice.objects.filter(deal=deal).values("number").distinct().count() == 20


@pytest.mark.django_db
def test_a_failed_issue_returns_its_number(deal, manager, monkeypatch):
    draft = make_invoice(deal, manager, "100", issue=False)

    def broken(*args, **kwargs):
        raise RuntimeError("mail system down")

    monkeypatch.setattr("studiocrm.flow.letters.queue_email", broken)
    with pytest.raises(RuntimeError):
        services.issue_invoice(draft, actor=manager)
    monkeypatch.undo()

    assert make_invoice(deal, manager, "100").sequence_number == 1


@pytest.mark.django_db
def test_credit_notes_count_in_their_own_series(invoice, manager):
    from decimal import Decimal

    note = services.create_credit_note(invoice, amount=Decimal("1"), reason="x", actor=manager)
    second = make_invoice(invoice.deal, manager, "50")
    assert (invoice.sequence_number, note.sequence_number, second.sequence_number) == (1, 1, 2)
