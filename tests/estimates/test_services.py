"""Estimate services: making, editing and saving estimates; copies, packages, client view."""

from datetime import timedelta
from decimal import Decimal

import pytest

from studiocrm.core.models import AuditLog, Studio
from studiocrm.deals.models import ESTIMATED, NEW, PROPOSAL_SENT, StageChange
from studiocrm.estimates import calc, services
from studiocrm.estimates.models import Estimate, EstimateLine, Package, PageType, Service
from tests.estimates.conftest import add_fixed_line
from tests.factories import DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("migration_data")]
D = Decimal


def test_a_new_estimate_takes_the_price_list_of_the_deals_currency_and_freezes_its_roles(
    estimate, rub_list
):
    assert estimate.price_list == rub_list
    assert estimate.currency == "RUB"
    assert {role["code"] for role in estimate.roles} >= {"designer", "backend", "pm"}
    assert estimate.options.get().is_primary


def test_a_deal_in_a_currency_without_a_price_list_gets_a_clear_error(manager):
    deal = DealFactory(manager=manager, currency="JPY")
    with pytest.raises(services.NoPriceList, match="JPY"):
        services.create_estimate(deal, actor=manager)
    assert not Estimate.objects.filter(deal=deal).exists()


def test_starting_from_a_package_copies_its_structure(deal, manager, rub_list):
    package = rub_list.packages.get(code="corporate")
    estimate = services.create_estimate(deal, actor=manager, package=package)
    lines = EstimateLine.objects.filter(option__estimate=estimate)
    services_page = lines.get(code="services")
    assert lines.get(code="service_page").parent == services_page
    assert lines.filter(kind="service", code="project_management").get().quantity == 30


def test_adding_a_page_copies_the_page_types_hours_at_that_moment(option, manager, rub_list):
    home = rub_list.page_types.get(slug="home")
    line = services.add_page(option, home, actor=manager)
    home.work = {"designer": "99"}
    home.save()
    line.refresh_from_db()
    assert line.work["designer"] == "16"
    assert line.unit_price is None  # priced from the hours


def test_editing_a_line_reprices_the_option(option, manager):
    line = add_fixed_line(option, price="1000")
    update = services.update_line(line, actor=manager, quantity=D("3"), discount_percent=D("10"))
    assert update.priced.result.total == D("2700.00")


def test_a_refused_edit_leaves_the_line_as_it_was(option, manager):
    line = add_fixed_line(option, price="1000", quantity="2")
    with pytest.raises(services.EstimateError):
        services.update_line(line, actor=manager, quantity=D("-5"))
    with pytest.raises(services.EstimateError):
        services.update_line(line, actor=manager, quantity=D("3"), discount_percent=D("120"))
    line.refresh_from_db()
    assert (line.quantity, line.discount_percent) == (D("2"), D("0"))


def test_another_manager_cannot_edit_and_nothing_changes(option, other_manager):
    line = add_fixed_line(option, price="1000")
    with pytest.raises(services.NotAllowed):
        services.update_line(line, actor=other_manager, quantity=D("9"))
    with pytest.raises(services.NotAllowed):
        services.save_estimate(option.estimate, actor=other_manager)
    line.refresh_from_db()
    assert line.quantity == D("1")
    assert option.estimate.deal.stage_id == NEW


def test_saving_moves_the_deal_to_estimated_and_sets_the_amount(option, manager):
    add_fixed_line(option, price="150000")
    services.save_estimate(option.estimate, actor=manager)
    deal = option.estimate.deal
    deal.refresh_from_db()
    assert deal.stage_id == ESTIMATED
    assert deal.estimated_amount == D("150000.00")
    assert StageChange.objects.filter(deal=deal, to_stage=ESTIMATED).count() == 1
    assert AuditLog.objects.filter(verb="estimate.saved").exists()


def test_saving_never_moves_a_deal_backwards_but_updates_the_amount(option, manager):
    deal = option.estimate.deal
    deal.stage_id = PROPOSAL_SENT
    deal.save()
    add_fixed_line(option, price="5000")
    services.save_estimate(option.estimate, actor=manager)
    deal.refresh_from_db()
    assert deal.stage_id == PROPOSAL_SENT
    assert deal.estimated_amount == D("5000.00")


def test_the_main_options_total_becomes_the_deal_amount(estimate, option, manager):
    add_fixed_line(option, price="100")
    premium = services.add_option(estimate, actor=manager, name="Premium")
    add_fixed_line(premium, price="900")
    services.make_primary(premium, actor=manager)
    services.save_estimate(estimate, actor=manager)
    estimate.deal.refresh_from_db()
    assert estimate.deal.estimated_amount == D("900.00")


def test_an_empty_estimate_cannot_be_saved(estimate, manager):
    with pytest.raises(services.EstimateError):
        services.save_estimate(estimate, actor=manager)
    estimate.deal.refresh_from_db()
    assert (estimate.deal.stage_id, estimate.deal.estimated_amount) == (NEW, None)


def test_vat_on_top_adds_the_studios_rate_to_every_new_line(deal, manager):
    studio = Studio.load()
    studio.tax_mode, studio.vat_rate = "vat_on_top", D("20")
    studio.save()
    estimate = services.create_estimate(deal, actor=manager)
    option = estimate.options.get()
    service = estimate.price_list.services.get(code="launch")  # 6 h × 3000
    services.add_service(option, service, actor=manager)
    [priced] = services.price_estimate(estimate)
    assert priced.result.tax == D("3600.00")
    assert priced.result.total == D("21600.00")


def test_a_page_cannot_be_nested_under_its_own_sub_page(option, manager, rub_list):
    catalog = services.add_page(option, rub_list.page_types.get(slug="catalog"), actor=manager)
    product = services.add_page(
        option, rub_list.page_types.get(slug="product"), actor=manager, parent=catalog
    )
    with pytest.raises(services.EstimateError, match="itself"):
        services.update_line(catalog, actor=manager, parent=product)
    catalog.refresh_from_db()
    assert catalog.parent is None


def test_removing_a_page_removes_its_sub_pages(option, manager, rub_list):
    catalog = services.add_page(option, rub_list.page_types.get(slug="catalog"), actor=manager)
    services.add_page(
        option, rub_list.page_types.get(slug="product"), actor=manager, parent=catalog
    )
    services.delete_line(catalog, actor=manager)
    assert not option.lines.exists()


def test_options_are_priced_independently(estimate, option, manager):
    add_fixed_line(option, price="100")
    other = services.add_option(estimate, actor=manager, copy_of=option)
    services.update_option(other, actor=manager, name="Cheaper", discount_percent=D("50"))
    totals = {item.option.name: item.result.total for item in services.price_estimate(estimate)}
    assert totals == {option.name: D("100.00"), "Cheaper": D("50.00")}


def test_the_last_option_cannot_be_deleted(option, manager):
    with pytest.raises(services.EstimateError):
        services.delete_option(option, actor=manager)
    assert option.estimate.options.count() == 1


def test_a_role_multiplier_changes_hours_and_hour_priced_lines(option, manager, rub_list):
    services.add_page(option, rub_list.page_types.get(slug="about"), actor=manager)
    before = services.price_estimate(option.estimate)[0].result
    services.add_multiplier(option, actor=manager, role="designer", factor=D("2"))
    after = services.price_estimate(option.estimate)[0].result
    assert after.hours["designer"] == before.hours["designer"] * 2
    assert after.total == before.total + D("18000.00")  # 6 more designer hours × 3000


def test_copying_an_estimate_from_a_past_deal_copies_options_and_structure(
    option, manager, rub_list
):
    catalog = services.add_page(option, rub_list.page_types.get(slug="catalog"), actor=manager)
    services.add_page(
        option, rub_list.page_types.get(slug="product"), actor=manager, parent=catalog
    )
    add_fixed_line(option, price="777", discount_percent=D("5"))
    new_deal = DealFactory(manager=manager, currency="RUB")
    copy = services.copy_estimate(option.estimate, new_deal, actor=manager)
    copied = EstimateLine.objects.filter(option__estimate=copy)
    assert copied.count() == 3
    assert copied.get(code="product").parent == copied.get(code="catalog")
    original_total = services.price_estimate(option.estimate)[0].result.total
    assert services.price_estimate(copy)[0].result.total == original_total


def test_copying_refuses_an_estimate_in_another_currency(option, manager):
    usd_deal = DealFactory(manager=manager, currency="USD")
    with pytest.raises(services.EstimateError, match="USD"):
        services.copy_estimate(option.estimate, usd_deal, actor=manager)
    assert not usd_deal.estimates.exists()


def test_an_owner_saves_an_option_as_a_package_and_it_starts_new_estimates(
    option, manager, owner, rub_list
):
    catalog = services.add_page(option, rub_list.page_types.get(slug="catalog"), actor=manager)
    services.add_page(
        option, rub_list.page_types.get(slug="product"), actor=manager, parent=catalog
    )
    add_fixed_line(option, name="Photo shoot", price="30000")
    package = services.save_as_package(option, actor=owner, name="Shop lite")
    estimate = services.create_estimate(
        DealFactory(manager=manager, currency="RUB"), actor=manager, package=package
    )
    lines = EstimateLine.objects.filter(option__estimate=estimate)
    assert lines.get(code="product").parent == lines.get(code="catalog")
    assert lines.get(name="Photo shoot").unit_price == D("30000.00")


def test_a_manager_cannot_save_a_package(option, manager):
    add_fixed_line(option)
    with pytest.raises(services.NotAllowed):
        services.save_as_package(option, actor=manager, name="Mine")
    assert not Package.objects.filter(name="Mine").exists()


def test_the_client_view_has_no_cost_margin_hours_or_rates(option, manager, rub_list):
    services.add_page(option, rub_list.page_types.get(slug="home"), actor=manager)
    services.add_service(option, rub_list.services.get(code="hosting"), actor=manager)
    data = services.client_view(option.estimate)

    def keys(value):
        if isinstance(value, dict):
            for key, item in value.items():
                yield key
                yield from keys(item)
        elif isinstance(value, list):
            for item in value:
                yield from keys(item)

    found = set(keys(data))
    assert not found & {
        "cost",
        "margin",
        "margin_percent",
        "hours",
        "work",
        "rate",
        "unit_cost",
        "origins",
        "roles",
    }
    [client_option] = data["options"]
    assert client_option["pages"][0]["name"] == "Главная страница"
    assert client_option["totals"]["total"] > 0
    assert client_option["timeline"]["total_days"] > 0


def test_duplicating_a_price_list_into_another_currency_scales_prices(owner, rub_list):
    from studiocrm.estimates import catalog

    usd = catalog.duplicate_price_list(
        rub_list, actor=owner, name="USD list", currency="usd", factor=D("0.011")
    )
    assert usd.currency == "USD"
    assert usd.roles.get(code="designer").hourly_rate == D("33.00")
    assert usd.services.get(code="hosting").price == D("132.00")
    hosting = next(
        line for line in usd.packages.get(code="online_store").content if line["code"] == "hosting"
    )
    assert hosting["unit_price"] == "132.00"


def test_deleting_a_role_removes_its_hours_from_the_price_list_only(
    owner, option, manager, rub_list
):
    from studiocrm.estimates import catalog

    line = services.add_page(option, rub_list.page_types.get(slug="home"), actor=manager)
    catalog.delete_role(rub_list.roles.get(code="copywriter"), actor=owner)
    assert "copywriter" not in PageType.objects.get(price_list=rub_list, slug="home").work
    assert "copywriter" not in Service.objects.get(price_list=rub_list, code="copywriting").work
    line.refresh_from_db()
    assert line.work["copywriter"] == "3"  # the estimate keeps its copy
    assert services.price_estimate(option.estimate)[0].result.total > 0


def test_the_shipped_price_lists_price_every_package_without_errors(deal, manager, rub_list):
    for package in rub_list.packages.all():
        estimate = services.create_estimate(deal, actor=manager, package=package)
        result = services.price_estimate(estimate)[0].result
        assert result.total > 0 and result.margin > 0
        assert result.timeline.total_days > 0


def test_limits_keep_totals_inside_the_database_columns(option, manager):
    line = add_fixed_line(option, price="1")
    with pytest.raises(services.EstimateError):
        services.update_line(line, actor=manager, unit_price=calc.MAX_UNIT_PRICE + 1)
    line.refresh_from_db()
    assert line.unit_price == D("1.00")


def test_switching_to_vat_can_set_one_rate_for_every_line(estimate, option, manager):
    add_fixed_line(option, price="1000")
    other = services.add_option(estimate, actor=manager, copy_of=option)
    estimate = services.update_estimate(
        estimate, actor=manager, title="With VAT", tax_mode="vat_on_top", tax_rate=D("20")
    )
    totals = [item.result.total for item in services.price_estimate(estimate)]
    assert totals == [D("1200.00"), D("1200.00")]
    assert other.lines.get().tax_rate == D("20")


def test_an_edit_after_saving_is_flagged_until_saved_again(option, manager):
    line = add_fixed_line(option, price="1000")
    estimate = services.save_estimate(option.estimate, actor=manager)
    assert not estimate.changed_since_saved
    Estimate.objects.filter(pk=estimate.pk).update(
        saved_at=estimate.saved_at - timedelta(seconds=5)
    )
    services.update_line(line, actor=manager, quantity=D("2"))
    estimate.refresh_from_db()
    assert estimate.changed_since_saved
