"""A draft estimate from the submitted brief, by the shipped rules, with real briefs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from studiocrm.briefs.models import Brief, BriefTemplate
from studiocrm.deals.models import NEW, PAID, StageChange
from studiocrm.estimates import drafting, services
from studiocrm.estimates.models import Estimate, EstimateLine, EstimateRule
from studiocrm.estimates.similar import similar_won_deals
from tests.estimates.conftest import submitted_brief
from tests.factories import DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("migration_data")]
D = Decimal

STORE_ANSWERS = {
    "company": "Garden goods",
    "goal": "Sell online",
    "pages": ["home", "catalog", "product", "cart", "checkout", "contacts"],
    "features": ["cart", "online_payment", "search"],
    "products_count": "1200",
    "content_ready": "none",
}


def lines_of(estimate):
    return EstimateLine.objects.filter(option__estimate=estimate)


def test_a_store_brief_drafts_the_online_store_with_every_line_traced_to_an_answer(deal, manager):
    submitted_brief(deal, answers=STORE_ANSWERS, template_key="store")
    estimate = drafting.draft_from_brief(deal, actor=manager)
    option = estimate.options.get()
    assert option.name == "Интернет-магазин"
    lines = lines_of(estimate)
    search = lines.get(code="site_search")
    assert search.origins[0]["key"] == "features"
    assert search.origins[0]["answer"]  # the labels the client saw
    import_keys = [origin["key"] for origin in lines.get(code="catalog_import").origins]
    assert "products_count" in import_keys  # in the package, and asked for by the answer
    assert lines.get(code="content_upload").quantity == D("120")
    assert lines.get(code="copywriting").quantity == D("5")
    assert lines.filter(code="catalog").count() == 1  # package and answer merged


def test_pages_picked_in_the_brief_become_the_site_structure(deal, manager):
    submitted_brief(
        deal,
        answers={"goal": "Leads", "pages": ["home", "about", "faq"], "content_ready": "ready"},
    )
    estimate = drafting.draft_from_brief(deal, actor=manager)
    pages = set(lines_of(estimate).filter(kind="page").values_list("code", flat=True))
    assert pages == {"home", "about", "faq"}
    faq = lines_of(estimate).get(code="faq")
    assert faq.origins[0]["key"] == "pages"


def test_unanswered_questions_the_rules_needed_are_listed_for_the_manager(deal, manager):
    submitted_brief(deal, answers={"goal": "Leads", "pages": ["home"]})
    estimate = drafting.draft_from_brief(deal, actor=manager)
    unanswered = [item["key"] for item in estimate.draft_report["unanswered"]]
    assert "content_ready" in unanswered
    assert "features" in unanswered
    assert "languages_count" not in unanswered  # hidden: the client did not pick multilingual


def test_several_languages_multiply_the_copywriters_hours_by_the_answer(deal, manager):
    submitted_brief(
        deal,
        answers={"pages": ["home"], "features": ["multilingual"], "languages_count": "3"},
    )
    option = drafting.draft_from_brief(deal, actor=manager).options.get()
    [entry] = option.multipliers
    assert (entry["role"], entry["factor"]) == ("copywriter", "3.00")
    assert entry["origin"]["key"] == "languages_count"


def test_a_rule_reading_a_question_the_brief_lacks_is_reported_and_the_rest_still_apply(
    deal, manager
):
    questions = [{"key": "pages", "label": "Pages", "type": "pages", "options": []}]
    submitted_brief(deal, answers={"pages": ["home"]}, questions=questions)
    estimate = drafting.draft_from_brief(deal, actor=manager)
    assert any("features" in problem for problem in estimate.draft_report["problems"])
    assert lines_of(estimate).filter(code="home").exists()


def test_a_rule_naming_something_missing_from_the_price_list_is_reported(deal, manager):
    EstimateRule.objects.create(
        question_key="", operator="always", action="add_service", target="teleport", position=1
    )
    submitted_brief(deal, answers={"pages": ["home"]})
    estimate = drafting.draft_from_brief(deal, actor=manager)
    assert any("teleport" in problem for problem in estimate.draft_report["problems"])


def test_the_shipped_rules_fit_every_shipped_brief_template(deal, manager):
    for template in BriefTemplate.objects.exclude(default_key=""):
        Brief.objects.filter(deal=deal).delete()
        submitted_brief(
            deal,
            answers={"pages": ["home"]},
            template_key=template.default_key,
            language=template.language,
        )
        estimate = drafting.draft_from_brief(deal, actor=manager)
        assert estimate.draft_report["problems"] == [], (template, estimate.draft_report)


def test_a_draft_does_not_move_the_deal(deal, manager):
    submitted_brief(deal, answers=STORE_ANSWERS, template_key="store")
    estimate = drafting.draft_from_brief(deal, actor=manager)
    deal.refresh_from_db()
    assert estimate.status == Estimate.Status.DRAFT
    assert deal.stage_id == NEW


def test_without_a_submitted_brief_there_is_no_draft(deal, manager):
    brief = submitted_brief(deal, answers={"pages": ["home"]})
    Brief.objects.filter(pk=brief.pk).update(status=Brief.Status.SENT)
    with pytest.raises(services.NoSubmittedBrief):
        drafting.draft_from_brief(deal, actor=manager)
    assert not deal.estimates.exists()


def test_another_manager_cannot_draft_on_my_deal(deal, other_manager):
    submitted_brief(deal, answers={"pages": ["home"]})
    with pytest.raises(services.NotAllowed):
        drafting.draft_from_brief(deal, actor=other_manager)
    assert not deal.estimates.exists()


def _won_deal(manager, package, amount, days):
    deal = DealFactory(manager=manager, currency="RUB")
    estimate = services.create_estimate(deal, actor=manager, package=package)
    services.save_estimate(estimate, actor=manager)
    created = timezone.now() - timedelta(days=days)
    deal.__class__.objects.filter(pk=deal.pk).update(
        stage_id=PAID, created_at=created, closed_at=timezone.now(), estimated_amount=D(amount)
    )
    StageChange.objects.create(deal=deal, from_stage_id="invoiced", to_stage_id=PAID)
    return deal


def test_similar_won_deals_give_the_median_price_and_duration(deal, manager, rub_list):
    store = rub_list.packages.get(code="online_store")
    _won_deal(manager, store, "400000", 30)
    _won_deal(manager, store, "600000", 50)
    _won_deal(manager, store, "900000", 70)
    _won_deal(manager, rub_list.packages.get(code="landing"), "90000", 10)
    submitted_brief(deal, answers=STORE_ANSWERS, template_key="store")
    estimate = drafting.draft_from_brief(deal, actor=manager)
    similar = similar_won_deals(estimate, estimate.options.get())
    assert (similar.count, similar.median_price, similar.median_days) == (3, D("600000.00"), 50)


def test_no_similar_deals_means_nothing_to_show(estimate, manager, rub_list):
    services.add_page(estimate.options.get(), rub_list.page_types.get(slug="home"), actor=manager)
    assert similar_won_deals(estimate, estimate.options.get()) is None


def euro_deal_with_english_brief(manager):
    deal = DealFactory(manager=manager, currency="EUR")
    submitted_brief(
        deal,
        answers={"goal": "Leads", "pages": ["home"], "content_ready": "ready"},
        language="en",
    )
    return deal


def test_an_english_draft_carries_the_shipped_rule_notes_in_english(manager, rub_list):
    # The rules were loaded in the Russian studio's language.
    assert EstimateRule.objects.filter(note="Нужно в любом проекте").exists()
    deal = euro_deal_with_english_brief(manager)

    estimate = drafting.draft_from_brief(deal, actor=manager)

    assert estimate.language == "en"
    testing = lines_of(estimate).get(code="testing")
    assert testing.origins[0]["label"] == "Every project"


def test_a_note_the_owner_wrote_stays_as_written_in_any_language(manager, rub_list):
    EstimateRule.objects.filter(operator="always", target="testing").update(
        note="Всегда, по договорённости с Ильёй"
    )
    deal = euro_deal_with_english_brief(manager)

    estimate = drafting.draft_from_brief(deal, actor=manager)

    testing = lines_of(estimate).get(code="testing")
    assert testing.origins[0]["label"] == "Всегда, по договорённости с Ильёй"
