"""A fixed-price line has no quantity: on a phone its card prints no "Кол-во: —" / "Qty: —"
row (the cards label each figure with its cell's data-label; the cell of a fixed price has
none and is hidden on narrow screens)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studiocrm.documents import services
from studiocrm.documents.rendering import render_document
from studiocrm.estimates.models import EstimateLine
from tests.documents.conftest import make_english_deal, make_estimated_deal

pytestmark = pytest.mark.django_db

SCREEN_CSS = (
    Path(services.__file__).parent / "static" / "documents" / "document-screen.css"
).read_text()


@pytest.mark.parametrize(("language", "label"), [("ru", "Кол-во"), ("en", "Qty")])
def test_a_fixed_price_lines_card_has_no_quantity_row(language, label, manager, rub_list):
    if language == "ru":
        deal = make_estimated_deal(manager, rub_list)
    else:
        deal = make_english_deal(manager)
    fixed = EstimateLine.objects.filter(option__estimate__deal=deal, unit="fixed").count()
    counted = EstimateLine.objects.filter(option__estimate__deal=deal).exclude(unit="fixed")
    assert fixed and counted.exists()  # both kinds of line are on the page

    html = render_document(services.create_proposal(deal, actor=manager)).html

    assert f'data-label="{label}">—' not in html
    assert '<td class="num no-quantity">—</td>' in html  # the wide table keeps its dash
    assert re.search(rf'data-label="{label}">\d', html)  # counted lines keep theirs
    assert "td.no-quantity { display: none; }" in SCREEN_CSS
