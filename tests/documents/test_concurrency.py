"""Simultaneous clicks, for real: threads and a barrier against PostgreSQL."""

import threading

import pytest
from django.db import connection

from studiocrm.documents import services
from studiocrm.documents.models import Acceptance, Document, Kind
from studiocrm.documents.rendering import render_document
from tests.documents.conftest import make_estimated_deal, meta

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises all writers; row locks are only meaningful on PostgreSQL",
    ),
]


def _sent_proposal(manager, rub_list):
    deal = make_estimated_deal(manager, rub_list)
    proposal = services.create_proposal(deal, actor=manager)
    services.send_document(proposal, actor=manager)
    return proposal


def _race(calls):
    barrier = threading.Barrier(len(calls))
    results = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            call()
            results.append("accepted")
        except services.AlreadyAccepted:
            results.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(results)


def _accept_call(document_id, fingerprint):
    def call():
        services.accept_document(
            Document.objects.get(pk=document_id),
            fingerprint=fingerprint,
            signer=services.Signer("Ирина Петрова", "irina@client.test"),
            request_meta=meta(),
        )

    return call


def test_two_simultaneous_acceptances_make_exactly_one(manager, rub_list):
    proposal = _sent_proposal(manager, rub_list)
    fingerprint = render_document(proposal).fingerprint
    results = _race([_accept_call(proposal.pk, fingerprint)] * 2)
    assert results == ["accepted", "already"]
    assert Acceptance.objects.count() == 1
    assert list(Document.objects.filter(kind=Kind.CONTRACT).values_list("number", flat=True)) == [1]


def test_proposals_accepted_at_once_get_consecutive_contract_numbers(manager, rub_list):
    proposals = [_sent_proposal(manager, rub_list) for _ in range(3)]
    calls = [_accept_call(p.pk, render_document(p).fingerprint) for p in proposals]
    assert _race(calls) == ["accepted"] * 3
    numbers = sorted(Document.objects.filter(kind=Kind.CONTRACT).values_list("number", flat=True))
    assert numbers == [1, 2, 3]


def test_two_simultaneous_joint_signatures_of_contract_and_appendix_make_one(manager, rub_list):
    proposal = _sent_proposal(manager, rub_list)
    services.accept_document(
        proposal,
        fingerprint=render_document(proposal).fingerprint,
        signer=services.Signer("Ирина Петрова", "irina@client.test"),
        request_meta=meta(),
    )
    contract = services.contract_of(proposal.deal)
    services.send_document(contract, actor=manager)
    appendix = contract.children.get(kind=Kind.APPENDIX)
    fingerprints = {
        part.pk: render_document(Document.objects.get(pk=part.pk)).fingerprint
        for part in (contract, appendix)
    }

    def together():
        services.accept_together(
            Document.objects.get(pk=contract.pk),
            fingerprints=fingerprints,
            signer=services.Signer("Ирина Петрова", "irina@client.test"),
            request_meta=meta(),
        )

    def appendix_alone():
        services.accept_document(
            Document.objects.get(pk=appendix.pk),
            fingerprint=fingerprints[appendix.pk],
            signer=services.Signer("Ирина Петрова", "irina@client.test"),
            request_meta=meta(),
        )

    assert _race([together, together, appendix_alone]) in (
        ["accepted", "already", "already"],
        ["accepted", "accepted", "already"],  # the appendix alone first, then the contract
    )
    assert Acceptance.objects.filter(document=appendix).count() == 1
    assert Acceptance.objects.filter(document=contract).count() == 1
