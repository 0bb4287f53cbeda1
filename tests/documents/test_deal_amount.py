"""The deal is worth what the client accepted: another option and optional extras change
the deal's amount, priced on the server as the signature record holds it."""

from decimal import Decimal

from studiocrm.core.models import AuditLog
from studiocrm.estimates.models import EstimateLine, EstimateOption
from tests.documents.conftest import accept


def _extra(deal):
    return EstimateLine.objects.get(option__estimate__deal=deal, name="Поддержка 3 месяца")


def test_accepting_the_main_option_with_an_extra_adds_the_extra_to_the_deal(sent_proposal):
    deal = sent_proposal.deal
    offered = deal.estimated_amount
    extra = _extra(deal)

    acceptance = accept(
        sent_proposal, selection={"option": str(extra.option_id), "optional": [str(extra.pk)]}
    )

    deal.refresh_from_db()
    assert deal.estimated_amount == Decimal(acceptance.selection["total"])
    assert deal.estimated_amount == offered + Decimal("30000")


def test_accepting_another_option_makes_its_total_the_deals_amount(sent_proposal):
    deal = sent_proposal.deal
    offered = deal.estimated_amount
    landing = EstimateOption.objects.get(estimate__deal=deal, name="Лендинг")

    acceptance = accept(sent_proposal, selection={"option": str(landing.pk), "optional": []})

    deal.refresh_from_db()
    assert deal.estimated_amount == Decimal(acceptance.selection["total"])
    assert deal.estimated_amount < offered
    change = AuditLog.objects.filter(verb="deal.estimated_amount_set").latest("pk")
    assert change.actor is None
    assert Decimal(change.data["to"]) == deal.estimated_amount


def test_accepting_what_was_offered_leaves_the_deals_amount_alone(sent_proposal):
    deal = sent_proposal.deal
    offered = deal.estimated_amount
    changes = AuditLog.objects.filter(verb="deal.estimated_amount_set").count()

    accept(sent_proposal)

    deal.refresh_from_db()
    assert deal.estimated_amount == offered
    assert AuditLog.objects.filter(verb="deal.estimated_amount_set").count() == changes
