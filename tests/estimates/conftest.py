"""Fixtures for the estimate tests: the shipped RUB price list, a deal, briefs."""

from decimal import Decimal

import pytest
from django.utils import timezone, translation

from studiocrm.briefs.models import Brief, BriefTemplate
from studiocrm.briefs.services import snapshot_questions
from studiocrm.estimates import services
from studiocrm.estimates.models import (
    EstimateLine,
    PriceList,
)
from tests.factories import DealFactory
from tests.migration_data import restore_migration_data


@pytest.fixture(autouse=True)
def english():
    """Each test starts in English: a request with another language leaves it active in the
    thread, and messages asserted here are the English source strings."""
    with translation.override("en"):
        yield


@pytest.fixture
def migration_data(db):
    restore_migration_data()


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
