"""The contract billing reads: payment_schedule(deal) and signed_contract(deal)."""

from decimal import Decimal

import pytest

from studiocrm.documents import services
from studiocrm.documents.context import ScheduleError, schedule_amounts, validate_schedule
from studiocrm.documents.models import Document, Kind
from tests.documents.conftest import accept


def _sign_contract(proposal, manager, *, with_appendix=True):
    accept(proposal)
    contract = Document.objects.get(deal=proposal.deal, kind=Kind.CONTRACT)
    services.send_document(contract, actor=manager)
    accept(contract)
    if with_appendix:
        accept(Document.objects.get(deal=proposal.deal, kind=Kind.APPENDIX))
    return contract


def test_no_signed_contract_means_no_schedule(sent_proposal):
    accept(sent_proposal)  # the contract exists but nobody signed it
    assert services.payment_schedule(sent_proposal.deal) == []
    assert services.signed_contract(sent_proposal.deal) is None


def test_the_default_schedule_is_half_deposit_half_on_acceptance(sent_proposal, manager):
    _sign_contract(sent_proposal, manager)
    total = Decimal(sent_proposal.deal.estimates.get().total)
    steps = services.payment_schedule(sent_proposal.deal)
    assert [step.number for step in steps] == [1, 2]
    assert [step.percent for step in steps] == [Decimal("50"), Decimal("50")]
    assert sum(step.amount for step in steps) == total
    assert steps[0].amount == total / 2
    assert {step.currency for step in steps} == {"RUB"}
    assert steps[0].label == "Предоплата"
    assert isinstance(steps[0], services.PaymentStep)


def test_the_schedule_comes_from_the_frozen_revision_not_from_later_edits(sent_proposal, manager):
    contract = _sign_contract(sent_proposal, manager)
    appendix = Document.objects.get(kind=Kind.APPENDIX)
    services.update_document(
        appendix,
        actor=manager,
        title=appendix.title,
        source=appendix.source,
        schedule=[{"label": "Всё сразу", "percent": "100", "due_days": 1}],
    )
    steps = services.payment_schedule(contract.deal)
    assert [step.label for step in steps] == ["Предоплата", "После приёмки работ"]


def test_a_schedule_set_on_the_proposal_carries_into_the_contract(sent_proposal, manager):
    services.update_document(
        sent_proposal,
        actor=manager,
        title=sent_proposal.title,
        source=sent_proposal.source,
        schedule=[
            {"label": "Аванс", "percent": "30", "due_days": 3},
            {"label": "Дизайн", "percent": "30", "due_days": 5},
            {"label": "Запуск", "percent": "40", "due_days": 5},
        ],
    )
    services.send_document(sent_proposal, actor=manager)
    _sign_contract(sent_proposal, manager)
    steps = services.payment_schedule(sent_proposal.deal)
    total = Decimal(sent_proposal.deal.estimates.get().total)
    assert [(step.label, step.percent) for step in steps] == [
        ("Аванс", Decimal("30")),
        ("Дизайн", Decimal("30")),
        ("Запуск", Decimal("40")),
    ]
    assert sum(step.amount for step in steps) == total


def test_a_signed_contract_without_a_signed_appendix_still_gives_the_schedule(
    sent_proposal, manager
):
    contract = _sign_contract(sent_proposal, manager, with_appendix=False)
    assert services.signed_contract(contract.deal) == contract
    assert len(services.payment_schedule(contract.deal)) == 2


def test_amounts_add_up_to_the_total_with_the_remainder_on_the_last_step():
    steps = validate_schedule(
        [
            {"label": "a", "percent": "33.33", "due_days": 1},
            {"label": "b", "percent": "33.33", "due_days": 1},
            {"label": "c", "percent": "33.34", "due_days": 1},
        ]
    )
    rows = schedule_amounts(steps, Decimal("100000.01"), "RUB", "ru")
    assert sum(row["amount"] for row in rows) == Decimal("100000.01")
    assert rows[0]["amount"] == Decimal("33330.00")
    assert rows[0]["amount_in_words"].endswith("рублей 00 копеек")


@pytest.mark.parametrize(
    "steps",
    [
        [],
        [{"label": "a", "percent": "60", "due_days": 1}],
        [{"label": "", "percent": "100", "due_days": 1}],
        [{"label": "a", "percent": "-10", "due_days": 1}, {"label": "b", "percent": "110"}],
        [{"label": "a", "percent": "abc", "due_days": 1}],
        [{"label": "a", "percent": "100", "due_days": 9999}],
        [{"label": "a", "percent": "NaN", "due_days": 1}],
    ],
)
def test_a_schedule_that_does_not_add_up_is_refused(steps):
    with pytest.raises(ScheduleError):
        validate_schedule(steps)
