"""Clause 1.1 of the contract names the project, and the chosen option only when the
project's title does not already say it ("«Ромашка — Корпоративный сайт» (вариант
«Корпоративный сайт»)" read twice)."""

from __future__ import annotations

import re

import pytest

from studiocrm.documents import services
from studiocrm.documents.rendering import render_document
from tests.documents.conftest import accept, make_estimated_deal

pytestmark = pytest.mark.django_db


def clause_1_1(deal, manager) -> str:
    proposal = services.create_proposal(deal, actor=manager)
    services.send_document(proposal, actor=manager)
    accept(proposal)
    html = render_document(services.contract_of(deal)).html
    return re.search(r"1\.1\. .*?</p>", html).group(0)


def test_the_option_is_not_repeated_when_the_project_title_names_it(manager, rub_list):
    deal = make_estimated_deal(manager, rub_list, title="Ромашка — корпоративный сайт")
    option = deal.estimates.get().options.order_by("position").first().name

    clause = clause_1_1(deal, manager)

    assert option.lower() in deal.title.lower()
    assert "«Ромашка — корпоративный сайт», а Заказчик" in clause
    assert "вариант" not in clause


def test_the_option_is_named_when_it_tells_the_client_more(manager, rub_list):
    deal = make_estimated_deal(manager, rub_list, title="Ромашка")
    option = deal.estimates.get().options.order_by("position").first().name

    clause = clause_1_1(deal, manager)

    assert f"«Ромашка» (вариант «{option}»)" in clause
