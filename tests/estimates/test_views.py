"""Editor, deal actions and price-list pages over HTTP: who may do what, live recalculation,
and hostile input on every form (clear error, no 500, nothing half-saved)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studiocrm.deals.models import ESTIMATED, NEW
from studiocrm.estimates import services
from studiocrm.estimates.models import (
    Estimate,
    EstimateLine,
    EstimateRule,
    PriceList,
    Role,
    Service,
)
from studiocrm.estimates.panels import estimate_panel
from tests.estimates.conftest import add_fixed_line, submitted_brief
from tests.factories import DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("migration_data")]
D = Decimal
HTMX = {"HTTP_HX_REQUEST": "true"}


def line_post(line, **values):
    data = {
        "name": line.name,
        "quantity": str(line.quantity),
        "unit_price": "" if line.unit_price is None else str(line.unit_price),
        "discount_percent": str(line.discount_percent),
        "tax_rate": str(line.tax_rate),
        "is_selected": "on",
    }
    data.update(values)
    return {f"line-{line.pk}-{key}": value for key, value in data.items()}


# --- the editor ------------------------------------------------------------------------------


def test_the_editor_shows_structure_services_and_totals(manager_client, option, manager, rub_list):
    services.add_page(option, rub_list.page_types.get(slug="home"), actor=manager)
    add_fixed_line(option, name="Logo design", price="25000")
    response = manager_client.get(reverse("estimates:edit", args=[option.estimate.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Главная страница" in html and "Logo design" in html
    assert 'id="totals"' in html and "Internal" in html


def test_anonymous_visitors_are_sent_to_log_in(anonymous_client, estimate):
    response = anonymous_client.get(reverse("estimates:edit", args=[estimate.pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_another_manager_may_look_but_not_change(other_manager_client, option):
    line = add_fixed_line(option, price="1000")
    page = other_manager_client.get(reverse("estimates:edit", args=[option.estimate.pk]))
    assert page.status_code == 200
    assert "<fieldset disabled>" in page.content.decode()
    response = other_manager_client.post(
        reverse("estimates:update_line", args=[line.pk]), line_post(line, quantity="50"), **HTMX
    )
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.quantity == D("1")
    save = other_manager_client.post(reverse("estimates:save", args=[option.estimate.pk]))
    assert save.status_code == 403
    assert option.estimate.deal.stage_id == NEW


def test_a_line_edit_answers_with_the_lines_figures_and_the_totals(manager_client, option):
    line = add_fixed_line(option, price="1000")
    response = manager_client.post(
        reverse("estimates:update_line", args=[line.pk]),
        line_post(line, quantity="3", discount_percent="10"),
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="line-{line.pk}-sum" hx-swap-oob="true"' in html
    assert 'id="totals"' in html and 'hx-swap-oob="true"' in html
    assert "2,700\u00a0₽" in html
    line.refresh_from_db()
    assert (line.quantity, line.discount_percent) == (D("3"), D("10"))


def test_a_comma_decimal_is_understood(manager_client, option):
    line = add_fixed_line(option, price="1000")
    manager_client.post(
        reverse("estimates:update_line", args=[line.pk]),
        line_post(line, quantity="1,5", unit_price="1 200,50"),
        **HTMX,
    )
    line.refresh_from_db()
    assert (line.quantity, line.unit_price) == (D("1.5"), D("1200.50"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "-1"),
        ("quantity", "abc"),
        ("quantity", ""),
        ("quantity", "NaN"),
        ("quantity", "1e30"),
        ("quantity", "99999999999999999999999"),
        ("unit_price", "-100"),
        ("unit_price", "1000000000000"),
        ("unit_price", "Infinity"),
        ("discount_percent", "150"),
        ("discount_percent", "-3"),
        ("tax_rate", "300"),
        ("name", ""),
        ("name", "x" * 500),
    ],
)
def test_hostile_line_input_gets_a_clear_error_and_changes_nothing(
    manager_client, option, field, value
):
    line = add_fixed_line(option, price="1000", quantity="2")
    response = manager_client.post(
        reverse("estimates:update_line", args=[line.pk]), line_post(line, **{field: value}), **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="line-{line.pk}-errors"' in html and html.count("hx-swap-oob") == 1
    assert len(html.strip()) > 80  # a message, not an empty box
    line.refresh_from_db()
    assert (line.name, line.quantity, line.unit_price, line.discount_percent) == (
        "Work",
        D("2"),
        D("1000"),
        D("0"),
    )


def test_without_htmx_a_line_edit_posts_and_returns_to_the_editor(manager_client, option):
    line = add_fixed_line(option, price="1000")
    response = manager_client.post(
        reverse("estimates:update_line", args=[line.pk]), line_post(line, quantity="4")
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.quantity == D("4")


def test_adding_a_page_under_a_parent_re_renders_the_editor(manager_client, option, rub_list):
    catalog = services.add_page(option, rub_list.page_types.get(slug="catalog"), actor=None)
    product = rub_list.page_types.get(slug="product")
    response = manager_client.post(
        reverse("estimates:add_page", args=[option.pk]),
        {"page_type": product.pk, "parent": catalog.pk, "quantity": "1"},
        **HTMX,
    )
    assert response.status_code == 200
    assert 'id="editor"' in response.content.decode()
    assert option.lines.get(code="product").parent == catalog


@pytest.mark.parametrize(
    "data",
    [
        {"quantity": "-2"},
        {"quantity": "0"},
        {"quantity": "lots"},
        {"quantity": "100000000"},
        {"page_type": "999999"},
        {"page_type": "abc"},
        {"parent": "999999"},
    ],
)
def test_hostile_page_input_adds_nothing(manager_client, option, rub_list, data):
    form = {"page_type": rub_list.page_types.get(slug="home").pk, "quantity": "1", "parent": ""}
    form.update(data)
    response = manager_client.post(reverse("estimates:add_page", args=[option.pk]), form, **HTMX)
    assert response.status_code == 200
    assert "was not added" in response.content.decode() or "error" in response.content.decode()
    assert not option.lines.exists()


def test_a_page_type_of_another_price_list_is_refused(manager_client, option):
    foreign = PriceList.objects.get(default_key="default-eur").page_types.get(slug="home")
    manager_client.post(
        reverse("estimates:add_page", args=[option.pk]),
        {"page_type": foreign.pk, "quantity": "1"},
        **HTMX,
    )
    assert not option.lines.exists()


def test_adding_a_service_uses_its_default_quantity(manager_client, option, rub_list):
    service = rub_list.services.get(code="project_management")
    manager_client.post(
        reverse("estimates:add_service", args=[option.pk]), {"service": service.pk}, **HTMX
    )
    assert option.lines.get().quantity == D("20")


@pytest.mark.parametrize("value", ["-5", "101", "abc"])
def test_a_hostile_option_discount_is_refused(manager_client, option, value):
    name = option.name
    response = manager_client.post(
        reverse("estimates:update_option", args=[option.pk]),
        {"name": "Basic", "discount_percent": value},
        **HTMX,
    )
    assert response.status_code == 200
    option.refresh_from_db()
    assert (option.name, option.discount_percent) == (name, D("0"))


@pytest.mark.parametrize("value", ["-1", "1000", "x"])
def test_a_hostile_multiplier_is_refused(manager_client, option, value):
    manager_client.post(
        reverse("estimates:add_multiplier", args=[option.pk]),
        {"role": "designer", "factor": value},
        **HTMX,
    )
    option.refresh_from_db()
    assert option.multipliers == []


def test_a_multiplier_for_an_unknown_role_is_refused(manager_client, option):
    manager_client.post(
        reverse("estimates:add_multiplier", args=[option.pk]),
        {"role": "astronaut", "factor": "2"},
        **HTMX,
    )
    option.refresh_from_db()
    assert option.multipliers == []


def test_the_details_panel_nests_a_page_and_edits_its_hours(manager_client, option, rub_list):
    catalog = services.add_page(option, rub_list.page_types.get(slug="catalog"), actor=None)
    product = services.add_page(option, rub_list.page_types.get(slug="product"), actor=None)
    url = reverse("estimates:line_details", args=[product.pk])
    assert manager_client.get(url, **HTMX).status_code == 200
    prefix = f"details-{product.pk}-"
    response = manager_client.post(
        url,
        {
            prefix + "parent": catalog.pk,
            prefix + "unit": "page",
            prefix + "stage": "",
            prefix + "unit_cost": "0",
            prefix + "hours_designer": "20",
        },
        **HTMX,
    )
    assert response["HX-Retarget"] == "#editor"
    product.refresh_from_db()
    assert product.parent == catalog
    assert product.work == {"designer": "20"}


def test_the_details_panel_refuses_a_cycle_and_bad_hours(manager_client, option, rub_list):
    catalog = services.add_page(option, rub_list.page_types.get(slug="catalog"), actor=None)
    product = services.add_page(
        option, rub_list.page_types.get(slug="product"), actor=None, parent=catalog
    )
    prefix = f"details-{catalog.pk}-"
    response = manager_client.post(
        reverse("estimates:line_details", args=[catalog.pk]),
        {prefix + "parent": product.pk, prefix + "unit": "page", prefix + "hours_designer": "-4"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "HX-Retarget" not in response
    catalog.refresh_from_db()
    assert catalog.parent is None and catalog.work["designer"] == "14"


def test_saving_through_the_editor_moves_the_deal(manager_client, option):
    add_fixed_line(option, price="99000")
    response = manager_client.post(reverse("estimates:save", args=[option.estimate.pk]))
    assert response.status_code == 302
    deal = option.estimate.deal
    deal.refresh_from_db()
    assert (deal.stage_id, deal.estimated_amount) == (ESTIMATED, D("99000.00"))


def test_editor_queries_do_not_grow_with_the_number_of_lines(manager_client, option):
    url = reverse("estimates:edit", args=[option.estimate.pk])
    add_fixed_line(option)
    with CaptureQueriesContext(connection) as few:
        manager_client.get(url)
    for number in range(40):
        add_fixed_line(option, name=f"Line {number}")
    with CaptureQueriesContext(connection) as many:
        manager_client.get(url)
    assert len(many) == len(few)


def test_a_long_estimate_shows_its_first_lines_and_loads_the_rest_in_chunks(
    manager_client, option, monkeypatch
):
    monkeypatch.setattr("studiocrm.estimates.views.EDITOR_FIRST_LINES", 3)
    monkeypatch.setattr("studiocrm.estimates.views.EDITOR_LINE_CHUNK", 4)
    for number in range(10):
        add_fixed_line(option, name=f"Line {number:02}", position=number)
    estimate = option.estimate
    page = manager_client.get(reverse("estimates:edit", args=[estimate.pk]))
    html = page.content.decode()
    assert html.count('class="est-item"') == 3
    assert 'hx-trigger="click, intersect once"' in html
    # The totals still count every line, shown or not.
    assert page.context["priced"].result.net == D("10000")

    url = reverse("estimates:lines", args=[estimate.pk])
    names, start = [], 3
    while start is not None:
        part = manager_client.get(url, {"option": option.pk, "section": "services", "start": start})
        assert part.status_code == 200
        names += [item.line.name for item in part.context["items"]]
        start = part.context["next_start"]
        assert (start is not None) == ("est-more" in part.content.decode())
    assert names == [f"Line {number:02}" for number in range(3, 10)]


@pytest.mark.parametrize(
    "params",
    [
        {"section": "secrets", "start": "0"},
        {"section": "services", "start": "-1"},
        {"section": "services", "start": "x"},
        {"section": "services", "start": "0", "option": "999999"},
        {"section": "services", "start": "0", "option": "1 OR 1=1"},
    ],
)
def test_hostile_line_chunk_requests_are_refused(manager_client, option, params):
    params = {"option": option.pk, **params}
    url = reverse("estimates:lines", args=[option.estimate.pk])
    assert manager_client.get(url, params).status_code == 400


def test_a_line_chunk_past_the_end_is_empty(manager_client, option):
    add_fixed_line(option)
    url = reverse("estimates:lines", args=[option.estimate.pk])
    answer = manager_client.get(url, {"option": option.pk, "section": "services", "start": "999"})
    assert answer.status_code == 200 and list(answer.context["items"]) == []


# --- deal actions ----------------------------------------------------------------------------


def test_draft_from_brief_opens_the_editor_with_what_to_ask_the_client(manager_client, deal):
    submitted_brief(deal, answers={"pages": ["home", "contacts"]})
    response = manager_client.post(reverse("estimates:draft", args=[deal.pk]))
    estimate = Estimate.objects.get(deal=deal)
    assert response["Location"] == estimate.get_absolute_url()
    page = manager_client.get(estimate.get_absolute_url()).content.decode()
    assert "content_ready" in page  # an unanswered question the rules needed
    assert 'class="est-origin"' in page  # each drafted line shows the answer behind it


def test_draft_without_a_brief_says_so_and_makes_nothing(manager_client, deal):
    response = manager_client.post(reverse("estimates:draft", args=[deal.pk]), follow=True)
    assert "no submitted brief" in response.content.decode()
    assert not deal.estimates.exists()


def test_new_estimate_from_a_package(manager_client, deal, rub_list):
    package = rub_list.packages.get(code="landing")
    manager_client.post(reverse("estimates:new", args=[deal.pk]), {"package": package.pk})
    assert EstimateLine.objects.filter(option__estimate__deal=deal, code="home").exists()


def test_new_estimate_with_a_bogus_package_makes_nothing(manager_client, deal):
    manager_client.post(reverse("estimates:new", args=[deal.pk]), {"package": "x1"})
    assert not deal.estimates.exists()


def test_another_manager_cannot_start_an_estimate_on_my_deal(other_manager_client, deal):
    response = other_manager_client.post(reverse("estimates:new", args=[deal.pk]))
    assert response.status_code == 403
    assert not deal.estimates.exists()


def test_copy_lists_past_estimates_in_the_deals_currency_and_copies_one(
    manager_client, manager, option
):
    add_fixed_line(option, name="Shop audit", price="5000")
    other = services.create_estimate(DealFactory(manager=manager, currency="EUR"), actor=manager)
    new_deal = DealFactory(manager=manager, currency="RUB")
    listing = manager_client.get(reverse("estimates:copy", args=[new_deal.pk])).content.decode()
    assert option.estimate.get_absolute_url() in listing
    assert other.get_absolute_url() not in listing
    manager_client.post(
        reverse("estimates:copy", args=[new_deal.pk]), {"source": option.estimate.pk}
    )
    assert EstimateLine.objects.filter(option__estimate__deal=new_deal, name="Shop audit").exists()


def test_copy_with_a_bogus_source_makes_nothing(manager_client, manager):
    new_deal = DealFactory(manager=manager, currency="RUB")
    manager_client.post(reverse("estimates:copy", args=[new_deal.pk]), {"source": "';--"})
    assert not new_deal.estimates.exists()


def test_the_deal_panel_offers_a_draft_when_the_brief_is_in(deal, manager, rub_list):
    submitted_brief(deal, answers={"pages": ["home"]})
    request = RequestFactory().get("/")
    request.user = manager
    html = estimate_panel(request, deal)
    assert reverse("estimates:draft", args=[deal.pk]) in html
    assert "Лендинг" in html  # packages to start from


def test_the_deal_panel_summarises_the_saved_estimate_for_anyone(deal, manager, other_manager):
    estimate = services.create_estimate(deal, actor=manager)
    add_fixed_line(estimate.options.get(), price="42000")
    services.save_estimate(estimate, actor=manager)
    request = RequestFactory().get("/")
    request.user = other_manager
    html = estimate_panel(request, deal)
    assert "42,000\u00a0₽" in html
    assert reverse("estimates:new", args=[deal.pk]) not in html


# --- price list and rules (owner) ------------------------------------------------------------


def test_a_manager_cannot_open_the_price_list(manager_client, rub_list):
    assert manager_client.get(reverse("estimates:price_lists")).status_code == 403
    url = reverse("estimates:price_item", args=[rub_list.pk, "roles", rub_list.roles.first().pk])
    response = manager_client.post(url, {"name": "Hacked"})
    assert response.status_code == 403
    assert not Role.objects.filter(name="Hacked").exists()


def test_the_owner_sees_every_tab_of_the_price_list(owner_client, rub_list):
    for tab in ("roles", "services", "pages", "packages"):
        response = owner_client.get(f"{rub_list.get_absolute_url()}?tab={tab}")
        assert response.status_code == 200
    assert "Price list" in owner_client.get(reverse("core:settings")).content.decode()


def test_the_owner_adds_a_service_with_hours_per_role(owner_client, rub_list):
    url = reverse("estimates:price_item_new", args=[rub_list.pk, "services"])
    response = owner_client.post(
        url,
        {
            "code": "audit",
            "name": "UX audit",
            "unit": "fixed",
            "unit_cost": "0",
            "default_quantity": "1",
            "position": "0",
            "hours_analyst": "12",
        },
    )
    assert response.status_code == 302
    assert Service.objects.get(price_list=rub_list, code="audit").work == {"analyst": "12"}


@pytest.mark.parametrize(
    "bad",
    [
        {"price": "-5"},
        {"price": "abc"},
        {"price": "1e15"},
        {"default_quantity": "-1"},
        {"default_quantity": "99999"},
        {"hours_designer": "-3"},
        {"hours_designer": "many"},
        {"code": "Not a slug!"},
        {"code": "hosting"},  # already used in this list
        {"unit": "parsec"},
    ],
)
def test_hostile_service_input_saves_nothing(owner_client, rub_list, bad):
    data = {
        "code": "audit",
        "name": "UX audit",
        "unit": "fixed",
        "unit_cost": "0",
        "default_quantity": "1",
        "position": "0",
    }
    data.update(bad)
    before = Service.objects.count()
    response = owner_client.post(
        reverse("estimates:price_item_new", args=[rub_list.pk, "services"]), data
    )
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert Service.objects.count() == before


def test_a_roles_code_cannot_change_once_rules_may_use_it(owner_client, rub_list):
    role = rub_list.roles.get(code="designer")
    owner_client.post(
        reverse("estimates:price_item", args=[rub_list.pk, "roles", role.pk]),
        {
            "code": "artist",
            "name": "Designer",
            "hourly_rate": "3100",
            "cost_rate": "1500",
            "hours_per_day": "6",
            "people": "2",
            "stage": "design",
            "position": "0",
        },
    )
    role.refresh_from_db()
    assert (role.code, role.hourly_rate, role.people) == ("designer", D("3100"), 2)


def test_copying_a_price_list_with_a_bad_currency_is_refused(owner_client, rub_list):
    before = PriceList.objects.count()
    owner_client.post(
        reverse("estimates:duplicate_price_list", args=[rub_list.pk]),
        {"name": "X", "currency": "$$$", "factor": "0.01"},
    )
    assert PriceList.objects.count() == before


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"operator": "contains", "value": "", "action": "add_page", "target": "home"}, "value"),
        ({"operator": "gte", "value": "lots", "action": "add_page", "target": "home"}, "value"),
        ({"operator": "is", "value": "x", "action": "add_page", "target": "nope"}, "target"),
        (
            {
                "operator": "is",
                "value": "x",
                "action": "multiply_role",
                "target": "designer",
                "amount": "500",
            },
            "amount",
        ),
        (
            {
                "operator": "is",
                "value": "x",
                "action": "add_service",
                "target": "hosting",
                "amount": "-1",
            },
            "amount",
        ),
    ],
)
def test_a_rule_that_cannot_work_is_refused_with_the_reason(owner_client, data, field):
    form = {"question_key": "features", "amount": "1", "position": "0", "is_active": "on"}
    form.update(data)
    before = EstimateRule.objects.count()
    response = owner_client.post(reverse("estimates:rule_new"), form)
    assert response.status_code == 200
    assert f'id="id_{field}_error"' in response.content.decode()
    assert EstimateRule.objects.count() == before


def test_the_rules_list_flags_a_question_no_template_asks(owner_client):
    EstimateRule.objects.create(
        question_key="zodiac_sign", operator="is", value="leo", action="add_page", target="home"
    )
    html = owner_client.get(reverse("estimates:rules")).content.decode()
    assert "no brief template asks this question" in html


def test_the_editor_speaks_russian(manager_client, option):
    add_fixed_line(option)
    html = manager_client.get(
        reverse("estimates:edit", args=[option.estimate.pk]), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "Структура сайта" in html and "Сохранить смету" in html
    assert "Скидка, %<" in html  # a literal per cent sign, not "%%"


def test_the_package_picker_offers_what_the_brief_asked_for(manager_client, deal, rub_list):
    submitted_brief(deal, answers={"pages": ["home", "contacts"]}, template_key="corporate")
    manager_client.post(reverse("estimates:draft", args=[deal.pk]))
    estimate = Estimate.objects.get(deal=deal)
    corporate = rub_list.packages.get(code="corporate")
    html = manager_client.get(estimate.get_absolute_url()).content.decode()
    assert f'<option value="{corporate.pk}" selected>' in html
    panel = manager_client.get(reverse("deals:detail", args=[deal.pk])).content.decode()
    assert f'<option value="{corporate.pk}" selected>' in panel


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_rules_list_reads_as_words_not_codes(owner_client, migration_data, language):
    from studiocrm.briefs.models import BriefQuestion

    html = owner_client.get(
        reverse("estimates:rules"), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    features = BriefQuestion.objects.filter(key="features", template__language=language).first()
    assert f'<q title="features">{features.label}</q>' in html
    cart = next(option["label"] for option in features.options if option["value"] == "cart")
    assert f'<q title="cart">{cart}</q>' in html
    store = "Интернет-магазин" if language == "ru" else "Online store"
    assert f'<q title="online_store">{store}</q>' in html
    assert "<code>" not in html
    # The shipped notes were written in Russian; an English owner reads them in English.
    note = "Every project" if language == "en" else "Нужно в любом проекте"
    assert f"<small>{note}</small>" in html
