"""Put back the rows data migrations create (stages, brief templates, price lists, estimate
rules, letters, automation rules). Transactional tests restore them through serialized
rollback; tests that set up a live server or threads may still ask for them explicitly.
Every loader is idempotent."""

import importlib

from django.apps import apps


def restore_stages() -> None:
    importlib.import_module("studiocrm.deals.migrations.0002_default_stages").create_stages(
        apps, None
    )
    importlib.import_module("studiocrm.deals.migrations.0004_in_work_stage").add_in_work(apps, None)
    # Stage probabilities and the default lost reasons.
    importlib.import_module(
        "studiocrm.deals.migrations.0005_lost_reasons_stage_probability_utm"
    ).forwards(apps, None)


def restore_migration_data() -> None:
    from studiocrm.briefs.defaults import install_default_templates
    from studiocrm.briefs.models import BriefQuestion, BriefSection, BriefTemplate
    from studiocrm.estimates import defaults as estimate_defaults
    from studiocrm.estimates.models import EstimateRule, Package, PageType, PriceList, Role
    from studiocrm.estimates.models import Service as PriceService
    from studiocrm.flow.defaults import install_default_letters, install_default_rules
    from studiocrm.flow.models import MessageTemplate, Rule

    restore_stages()
    install_default_templates(BriefTemplate, BriefSection, BriefQuestion)
    estimate_defaults.load_price_lists(PriceList, Role, PriceService, PageType, Package)
    estimate_defaults.load_rules(EstimateRule)
    install_default_letters(MessageTemplate)
    install_default_rules(Rule)
