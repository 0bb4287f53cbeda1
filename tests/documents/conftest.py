"""Fixtures for the documents tests: a deal with a saved estimate of two options, one of
them with an optional line, and helpers to send and accept."""

from decimal import Decimal

import pytest

from studiocrm.documents import services
from studiocrm.estimates import services as estimate_services
from studiocrm.estimates.models import EstimateLine, Package, PriceList
from tests.factories import ClientFactory, ContactFactory, DealFactory
from tests.migration_data import restore_migration_data as restore_all


@pytest.fixture(autouse=True)
def clean_cache():
    """Rate limits live in the cache; every test starts with none."""
    from django.core.cache import cache

    from studiocrm.documents import page_cache

    cache.clear()
    page_cache.clear()
    yield
    cache.clear()
    page_cache.clear()


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    """PDFs are private files; keep them in the test's own directory."""
    settings.PRIVATE_ROOT = tmp_path / "private"
    return settings.PRIVATE_ROOT


def restore_migration_data():
    restore_all()
    return PriceList.objects.get(default_key="default-rub")


@pytest.fixture
def migration_data(db):
    return restore_migration_data()


@pytest.fixture
def rub_list(migration_data):
    return PriceList.objects.get(default_key="default-rub")


def make_estimated_deal(manager, rub_list, **deal_fields):
    """A deal with a saved estimate: "Корпоративный сайт" (main, from the package) and
    "Лендинг", plus an optional "Поддержка" line on the main option."""
    client = ClientFactory(name="ООО «Ромашка»", legal_name="ООО «Ромашка»")
    contact = ContactFactory(client=client, name="Ирина Петрова", email="irina@client.test")
    deal = DealFactory(
        manager=manager, client=client, contact=contact, currency="RUB", **deal_fields
    )
    corporate = Package.objects.get(price_list=rub_list, code="corporate")
    landing = Package.objects.get(price_list=rub_list, code="landing")
    estimate = estimate_services.create_estimate(deal, actor=manager, package=corporate)
    main = estimate.options.get()
    EstimateLine.objects.create(
        option=main,
        kind=EstimateLine.Kind.SERVICE,
        name="Поддержка 3 месяца",
        unit_price=Decimal("30000"),
        quantity=Decimal("1"),
        is_optional=True,
        is_selected=False,
        position=999,
    )
    second = estimate_services.add_option(estimate, actor=manager, name="Лендинг")
    estimate_services.apply_package(second, landing, actor=manager)
    estimate_services.save_estimate(estimate, actor=manager)
    deal.refresh_from_db()
    return deal


def make_english_deal(manager, **deal_fields):
    """A deal in euros whose estimate comes from the English price list: its documents are
    written in English whatever the studio's language is."""
    eur_list = PriceList.objects.get(default_key="default-eur")
    client = ClientFactory(name="Acme Ltd", legal_name="Acme Ltd")
    contact = ContactFactory(client=client, name="Jane Doe", email="jane@acme.test")
    deal = DealFactory(
        manager=manager, client=client, contact=contact, currency="EUR", **deal_fields
    )
    corporate = Package.objects.get(price_list=eur_list, code="corporate")
    landing = Package.objects.get(price_list=eur_list, code="landing")
    estimate = estimate_services.create_estimate(deal, actor=manager, package=corporate)
    second = estimate_services.add_option(estimate, actor=manager, name="Landing page")
    estimate_services.apply_package(second, landing, actor=manager)
    estimate_services.save_estimate(estimate, actor=manager)
    deal.refresh_from_db()
    return deal


@pytest.fixture
def deal(manager, rub_list):
    return make_estimated_deal(manager, rub_list)


@pytest.fixture
def proposal(deal, manager):
    return services.create_proposal(deal, actor=manager)


@pytest.fixture
def sent_proposal(proposal, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.send_document(proposal, actor=manager)
    proposal.refresh_from_db()
    return proposal


@pytest.fixture
def sent_contract(sent_proposal, manager, django_capture_on_commit_callbacks):
    """The contract and appendix issued from the accepted proposal, sent to the client."""
    accept(sent_proposal)
    contract = services.contract_of(sent_proposal.deal)
    with django_capture_on_commit_callbacks(execute=True):
        services.send_document(contract, actor=manager)
    contract.refresh_from_db()
    return contract


def meta():
    return services.RequestMeta(ip="203.0.113.7", user_agent="pytest-browser/1.0")


def accept(document, *, selection=None, name="Ирина Петрова", email="irina@client.test"):
    """Accept the document's current version as the client would."""
    from studiocrm.documents.rendering import render_document

    document.refresh_from_db()
    fingerprint = render_document(document).fingerprint
    return services.accept_document(
        document,
        fingerprint=fingerprint,
        signer=services.Signer(name=name, email=email),
        request_meta=meta(),
        selection=selection,
    )
