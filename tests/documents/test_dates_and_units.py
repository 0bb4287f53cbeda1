"""Documents write dates and units as people do: "8 февраля 2027 г." / "8 February 2027",
"4 страницы", "20 hours", never "2027-02-08" or "20 hour"."""

import re

import pytest
from django.utils import translation

from studiocrm.briefs import services as brief_services
from studiocrm.briefs.defaults import install_default_templates
from studiocrm.briefs.models import BriefQuestion, BriefSection, BriefTemplate
from studiocrm.documents import defaults, sandbox, services
from studiocrm.documents.filters import plural_form
from studiocrm.documents.models import Kind
from studiocrm.documents.rendering import render_document
from studiocrm.estimates.models import unit_label
from tests.documents.conftest import make_english_deal, make_estimated_deal

RU_UNITS = {
    "час": ("час", "часа", "часов"),
    "страниц": ("страница", "страницы", "страниц"),
    "месяц": ("месяц", "месяца", "месяцев"),
}
EN_UNITS = {"hour": ("hour", "hours"), "page": ("page", "pages"), "month": ("month", "months")}


def _text(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def _submit_brief(deal, language, manager, **answers):
    install_default_templates(BriefTemplate, BriefSection, BriefQuestion)
    template = BriefTemplate.objects.get(default_key="corporate", language=language)
    brief = brief_services.send_brief(deal, template, actor=manager)
    for key, value in {
        "company": "Acme",
        "goal": "Orders",
        "pages": ["home", "contacts"],
        "content_ready": "partial",
        **answers,
    }.items():
        brief_services.save_answer(brief, key, value)
    brief.refresh_from_db()
    return brief_services.submit_brief(brief)


@pytest.mark.parametrize(
    ("language", "expected"), [("ru", "8 февраля 2027 г."), ("en", "8 February 2027")]
)
def test_the_proposal_writes_the_briefs_deadline_out_in_its_language(
    language, expected, manager, rub_list
):
    if language == "en":
        deal = make_english_deal(manager)
    else:
        deal = make_estimated_deal(manager, rub_list)
    _submit_brief(deal, language, manager, deadline="2027-02-08")

    text = _text(render_document(services.create_proposal(deal, actor=manager)).html)

    assert expected in text
    assert "2027-02-08" not in text


@pytest.mark.parametrize("kind", Kind.values)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_no_default_template_prints_an_iso_date(kind, language, migration_data):
    context = defaults.sample_context(kind, language)

    text = _text(sandbox.render_source(defaults.default_source(kind, language), context))

    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    if language == "ru":
        # every date written out in a Russian document ends in "г."
        for match in re.finditer(r"\d{1,2} [а-я]+ (\d{4})(.{0,3})", text):
            assert match.group(2).startswith(" г."), match.group(0)


def test_the_russian_proposal_cover_dates_end_in_the_year_mark(proposal):
    text = _text(render_document(proposal).html)
    issued = proposal.issued_on

    assert re.search(rf"{issued.day} [а-я]+ {issued.year} г\.", text)


@pytest.mark.parametrize(
    ("language", "quantity", "expected"),
    [
        ("ru", "1", "страница"),
        ("ru", "4", "страницы"),
        ("ru", "5", "страниц"),
        ("ru", "21", "страница"),
        ("ru", "12", "страниц"),
        ("ru", "1.5", "страницы"),
        ("en", "1", "page"),
        ("en", "4", "pages"),
        ("en", "1.5", "pages"),
        ("en", "20.00", "pages"),
    ],
)
def test_a_unit_agrees_with_its_quantity(language, quantity, expected):
    with translation.override(language):
        assert unit_label("page", quantity) == expected


def test_hours_and_months_agree_with_their_quantity_in_both_languages():
    with translation.override("ru"):
        assert [unit_label("hour", n) for n in (1, 3, 20)] == ["час", "часа", "часов"]
        assert [unit_label("month", n) for n in (1, 3, 6)] == ["месяц", "месяца", "месяцев"]
    with translation.override("en"):
        assert [unit_label("hour", n) for n in (1, 20)] == ["hour", "hours"]


def test_a_unit_typed_by_hand_is_kept_as_typed():
    assert unit_label("visit", 3) == "visit"


def _assert_units_agree(text, units, language):
    found = 0
    for stem, forms in units.items():
        for match in re.finditer(rf"(\d[\d ]*) ({stem}\w*)", text):
            count = int(match.group(1).replace(" ", ""))
            assert match.group(2) == plural_form(count, forms, language), match.group(0)
            found += 1
    return found


def test_the_russian_proposal_agrees_units_with_numbers(proposal):
    text = _text(render_document(proposal).html)

    assert _assert_units_agree(text, RU_UNITS, "ru")
    assert "4 страница" not in text


def test_the_english_proposal_agrees_units_with_numbers(manager, migration_data):
    deal = make_english_deal(manager)
    text = _text(render_document(services.create_proposal(deal, actor=manager)).html)

    assert _assert_units_agree(text, EN_UNITS, "en")
    assert " ; " not in text


def test_a_fractional_quantity_keeps_its_decimals(migration_data):
    source = "{{ a|number }} {{ b|number }} {{ c|number(2) }} {{ d|number }}"
    context = {"language": "ru", "a": "1.5", "b": "20.00", "c": "3", "d": "1234567"}

    assert sandbox.render_source(source, context) == "1,5 20 3,00 1\xa0234\xa0567"


def test_a_one_day_stage_names_its_day_not_a_range(proposal):
    """ "Запуск 33–33" read as a typo: a stage of one day shows that day alone."""
    from studiocrm.documents.context import build_context

    context = build_context(proposal)
    launch = {**context["timeline"][-1], "start_day": 32, "end_day": 33, "days": 1}
    context["timeline"] = [*context["timeline"][:-1], launch]

    html = _text(sandbox.render_source(defaults.default_source(Kind.PROPOSAL, "ru"), context))

    assert re.search(rf"{launch['name']} 33 1 день", html)
    assert "33–33" not in html


@pytest.mark.parametrize(
    ("kind", "status", "russian", "english"),
    [
        (Kind.PROPOSAL, "accepted", "Принято", "Accepted"),
        (Kind.PROPOSAL, "sent", "Отправлено", "Sent"),
        (Kind.CONTRACT, "accepted", "Подписан", "Signed"),
        (Kind.APPENDIX, "accepted", "Подписано", "Signed"),
        (Kind.ACT, "changed", "Изменён после подписания", "Changed after signing"),
        (Kind.CONTRACT, "draft", "Черновик", "Draft"),
    ],
)
def test_a_documents_status_agrees_with_its_kind(kind, status, russian, english):
    from studiocrm.documents.models import Document

    document = Document(kind=kind, status=status)
    with translation.override("ru"):
        assert document.status_label == russian
    with translation.override("en"):
        assert document.status_label == english
