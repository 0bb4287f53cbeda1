"""The shipped templates: four kinds in two languages, sharing keys and option values."""

import pytest

from studiocrm.briefs.defaults import install_default_templates
from studiocrm.briefs.models import BriefQuestion, BriefSection, BriefTemplate
from studiocrm.briefs.services import snapshot_questions

pytestmark = pytest.mark.django_db

KINDS = ["corporate", "store", "landing", "redesign"]
PAGE_VALUES = [
    "home",
    "about",
    "services",
    "service_page",
    "catalog",
    "product",
    "cart",
    "checkout",
    "blog",
    "article",
    "contacts",
    "account",
    "faq",
    "portfolio",
    "pricing",
]
FEATURE_VALUES = [
    "catalog",
    "cart",
    "online_payment",
    "account",
    "integrations_crm",
    "integrations_1c",
    "multilingual",
    "search",
    "blog",
    "booking",
    "calculator",
]
BUDGETS = {
    "ru": ["lt_300k", "300k_700k", "700k_1500k", "gt_1500k"],
    "en": ["lt_5k", "5k_15k", "15k_40k", "gt_40k"],
}
SHARED = {
    "goal": "long_text",
    "audience": "long_text",
    "pages": "pages",
    "features": "multi_choice",
    "languages_count": "number",
    "content_ready": "single_choice",
    "design_references": "long_text",
    "deadline": "date",
    "budget": "single_choice",
}


def snapshot(kind, language):
    return {
        item["key"]: item
        for item in snapshot_questions(
            BriefTemplate.objects.get(default_key=kind, language=language)
        )
    }


def values(item):
    return [option["value"] for option in item["options"]]


def test_the_migration_installs_four_templates_in_each_language():
    for language in ("ru", "en"):
        assert sorted(
            BriefTemplate.objects.filter(language=language).values_list("default_key", flat=True)
        ) == sorted(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_both_languages_ask_the_same_questions_with_the_same_values(kind, migration_data):
    russian, english = snapshot(kind, "ru"), snapshot(kind, "en")
    assert list(russian) == list(english)
    for key, item in russian.items():
        assert item["type"] == english[key]["type"]
        assert item["show_if"] == english[key]["show_if"]
        if key != "budget":
            assert values(item) == values(english[key])
        assert item["label"] != english[key]["label"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_template_asks_what_an_estimate_needs(kind, language, migration_data):
    questions = snapshot(kind, language)
    for key, kind_of_answer in SHARED.items():
        assert questions[key]["type"] == kind_of_answer
    assert values(questions["pages"]) == PAGE_VALUES
    assert values(questions["features"]) == FEATURE_VALUES
    assert values(questions["content_ready"]) == ["ready", "partial", "none"]
    assert values(questions["budget"]) == BUDGETS[language]
    assert questions["languages_count"]["show_if"] == {"key": "features", "equals": "multilingual"}


def test_store_asks_for_the_product_count_and_redesign_for_the_current_site(migration_data):
    for language in ("ru", "en"):
        assert snapshot("store", language)["products_count"]["type"] == "number"
        assert snapshot("redesign", language)["existing_site"]["type"] == "url"
        assert "existing_site" not in snapshot("corporate", language)


def test_every_question_type_is_used_somewhere(migration_data):
    used = set(BriefQuestion.objects.values_list("type", flat=True))
    assert used == {
        "short_text",
        "long_text",
        "single_choice",
        "multi_choice",
        "number",
        "yes_no",
        "date",
        "url",
        "file",
        "pages",
    }


def test_installing_again_changes_nothing_and_restores_only_deleted_ones(migration_data):
    edited = BriefTemplate.objects.get(default_key="store", language="ru")
    edited.name = "Магазин (наш вариант)"
    edited.save()
    BriefTemplate.objects.get(default_key="landing", language="en").delete()

    created = install_default_templates(BriefTemplate, BriefSection, BriefQuestion)

    assert created == 1
    assert BriefTemplate.objects.count() == 8
    edited.refresh_from_db()
    assert edited.name == "Магазин (наш вариант)"


def _english_texts() -> str:
    install_default_templates(BriefTemplate, BriefSection, BriefQuestion)
    return " ".join(
        f"{question.label} {question.help} {' '.join(o['label'] for o in question.options)}"
        for question in BriefQuestion.objects.filter(template__language="en")
    )


def test_the_english_briefs_spell_catalogue_as_the_price_lists_do():
    import re

    texts = _english_texts()

    assert "Catalogue" in texts
    assert re.findall(r"\bcatalog\b", texts, flags=re.IGNORECASE) == []


def test_the_migration_moves_shipped_catalog_labels_and_keeps_edited_ones():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("studiocrm.briefs.migrations.0004_british_catalogue")
    _english_texts()
    store = BriefTemplate.objects.get(default_key="store", language="en")
    count = store.questions.get(key="products_count")
    count.label = "How many products in the catalog?"
    count.save()
    pages = store.questions.get(key="pages")
    pages.options = [
        {**option, "label": "Catalog"} if option["value"] == "catalog" else option
        for option in pages.options
    ]
    pages.save()
    features = store.questions.get(key="features")
    features.options = [
        {**option, "label": "Our product range"} if option["value"] == "catalog" else option
        for option in features.options
    ]
    features.save()

    migration.british(apps, None)

    count.refresh_from_db()
    pages.refresh_from_db()
    features.refresh_from_db()
    assert count.label == "How many products in the catalogue?"
    assert {"value": "catalog", "label": "Catalogue"} in pages.options
    assert {"value": "catalog", "label": "Our product range"} in features.options
