"""Fixtures for the estimate tests: the shipped RUB price list, a deal, briefs."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone, translation

from studiocrm.briefs.defaults import install_default_templates
from studiocrm.briefs.models import Brief, BriefQuestion, BriefSection, BriefTemplate
from studiocrm.briefs.services import snapshot_questions
from studiocrm.estimates import defaults, services
from studiocrm.estimates.models import (
    EstimateLine,
    EstimateRule,
    Package,
    PageType,
    PriceList,
    Role,
    Service,
)
from tests.factories import DealFactory


@pytest.fixture(autouse=True)
def english():
    """Each test starts in English: a request with another language leaves it active in the
    thread, and messages asserted here are the English source strings."""
    with translation.override("en"):
        yield


@pytest.fixture
def migration_data(db):
    """Stages, brief templates, price lists and rules come from data migrations, and
    transactional tests elsewhere flush them: put back what is missing (all idempotent)."""
    importlib.import_module("studiocrm.deals.migrations.0002_default_stages").create_stages(
        apps, None
    )
    install_default_templates(BriefTemplate, BriefSection, BriefQuestion)
    defaults.load_price_lists(PriceList, Role, Service, PageType, Package)
    defaults.load_rules(EstimateRule)


@pytest.fixture
def rub_list(migration_data):
    return PriceList.objects.get(default_key="default-rub")


@pytest.fixture
def deal(manager, rub_list):
    return DealFactory(manager=manager, currency="RUB")


@pytest.fixture
def estimate(deal, manager):
    return services.create_estimate(deal, actor=manager)


@pytest.fixture
def option(estimate):
    return estimate.options.get()


def add_fixed_line(option, *, name="Work", price="1000", quantity="1", **fields):
    """A service line with a fixed price, straight into the database."""
    return EstimateLine.objects.create(
        option=option,
        kind=EstimateLine.Kind.SERVICE,
        name=name,
        unit_price=Decimal(price),
        quantity=Decimal(quantity),
        **fields,
    )


def submitted_brief(deal, *, answers, questions=None, template_key="corporate", language="ru"):
    """A brief the client has submitted, with the questions of a shipped template."""
    template = BriefTemplate.objects.filter(default_key=template_key, language=language).first()
    brief = Brief(
        deal=deal,
        template=template,
        title="Brief",
        language=language,
        questions=questions if questions is not None else snapshot_questions(template),
        answers=answers,
        status=Brief.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    brief.issue_token()
    brief.save()
    return brief
