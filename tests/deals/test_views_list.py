"""Board and list: what they show, search, filters, sorting, paging and query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from studiocrm.deals.models import BRIEF_SENT, IN_WORK, LOST, NEW, PAID, Deal, Source
from tests.factories import ClientFactory, ContactFactory, DealFactory, TaskFactory

pytestmark = pytest.mark.django_db


def titles(response):
    return [deal.title for deal in response.context["page"].object_list]


def column(response, code):
    return next(c for c in response.context["columns"] if c.stage.code == code)


def make_deals(count, manager, **extra):
    for index in range(count):
        deal = DealFactory(
            manager=manager,
            stage_id=[NEW, BRIEF_SENT, PAID, LOST][index % 4],
            expected_amount=Decimal(1000 + index),
            currency=["RUB", "EUR"][index % 2],
            **extra,
        )
        TaskFactory(deal=deal, due_at=timezone.now() - timedelta(hours=1))


def count_queries(http, url):
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries)


# --- board -------------------------------------------------------------------------------


def test_board_has_a_column_per_stage_in_order(manager_client):
    response = manager_client.get(reverse("deals:board"))
    codes = [c.stage.code for c in response.context["columns"]]
    assert codes[0] == NEW and codes[-3:] == [IN_WORK, PAID, LOST]
    assert len(codes) == 12


def test_board_column_sums_amounts_per_currency(manager_client, manager):
    DealFactory(manager=manager, expected_amount=Decimal("1200000"), currency="RUB")
    DealFactory(manager=manager, expected_amount=Decimal("3000"), currency="EUR")
    DealFactory(
        manager=manager,
        expected_amount=Decimal("1"),
        estimated_amount=Decimal("500"),
        currency="EUR",
    )
    DealFactory(manager=manager, expected_amount=None, currency="RUB")
    response = manager_client.get(reverse("deals:board"))
    new = column(response, NEW)
    assert new.count == 4
    assert sorted(new.totals) == [("EUR", Decimal("3500")), ("RUB", Decimal("1200000"))]
    assert "€3,500 · 1,200,000\u00a0₽" in response.content.decode()


def test_closed_columns_show_only_the_last_30_days(manager_client, manager):
    recent = DealFactory(manager=manager, stage_id=PAID, title="Paid recently")
    old = DealFactory(manager=manager, stage_id=PAID, title="Paid long ago")
    Deal.objects.filter(pk=old.pk).update(stage_changed_at=timezone.now() - timedelta(days=45))
    old_open = DealFactory(manager=manager, stage_id=NEW, title="Old but open")
    Deal.objects.filter(pk=old_open.pk).update(stage_changed_at=timezone.now() - timedelta(days=90))
    response = manager_client.get(reverse("deals:board"))
    assert [d.title for d in column(response, PAID).cards] == [recent.title]
    assert [d.title for d in column(response, NEW).cards] == [old_open.title]
    assert "last 30 days" in response.content.decode()


def test_board_caps_cards_and_links_to_the_full_list(manager_client, manager, monkeypatch):
    monkeypatch.setattr("studiocrm.deals.views.BOARD_CARD_LIMIT", 3)
    for _ in range(5):
        DealFactory(manager=manager, stage_id=NEW)
    response = manager_client.get(reverse("deals:board"))
    new = column(response, NEW)
    assert (len(new.cards), new.count) == (3, 5)
    assert f"{reverse('deals:list')}?stage={NEW}" in response.content.decode()
    assert "all 5 in the list" in response.content.decode()


def test_board_loads_the_rest_of_a_column_by_keyset_cursor(manager_client, manager, monkeypatch):
    monkeypatch.setattr("studiocrm.deals.views.BOARD_CARD_LIMIT", 3)
    monkeypatch.setattr("studiocrm.deals.views.BOARD_MORE_LIMIT", 2)
    made = [DealFactory(manager=manager, stage_id=NEW, title=f"Deal {n}") for n in range(6)]
    same_moment = timezone.now() - timedelta(hours=1)
    # Equal timestamps: the pk breaks the tie, so no card is shown twice or skipped.
    Deal.objects.filter(pk__in=[deal.pk for deal in made]).update(updated_at=same_moment)
    response = manager_client.get(reverse("deals:board"))
    new = column(response, NEW)
    assert [d.title for d in new.cards] == ["Deal 5", "Deal 4", "Deal 3"]
    html = response.content.decode()
    assert 'hx-trigger="click, intersect once"' in html
    more_url = reverse("deals:board_more")
    assert f"{more_url}?stage={NEW}&amp;manager=all&amp;after={new.cursor}" in html

    seen = []
    cursor = new.cursor
    while cursor:
        part = manager_client.get(more_url, {"stage": NEW, "after": cursor, "manager": "all"})
        assert part.status_code == 200
        seen += [d.title for d in part.context["cards"]]
        cursor = part.context["cursor"]
        assert bool(cursor) == ("cards-more" in part.content.decode())
    assert seen == ["Deal 2", "Deal 1", "Deal 0"]


def test_board_more_keeps_the_scope_and_refuses_hostile_cursors(
    manager_client, manager, other_manager
):
    mine = DealFactory(manager=manager, stage_id=NEW, title="Mine")
    DealFactory(manager=other_manager, stage_id=NEW, title="Theirs")
    cursor = f"{(mine.updated_at + timedelta(seconds=1)).timestamp():.6f}_{mine.pk + 10}"
    url = reverse("deals:board_more")
    answer = manager_client.get(url, {"stage": NEW, "after": cursor, "manager": "mine"})
    assert [d.title for d in answer.context["cards"]] == ["Mine"]
    for hostile in (
        {"stage": "nope", "after": cursor},
        {"stage": NEW, "after": "x_1"},
        {"stage": NEW, "after": "1e999_1"},
        {"stage": NEW, "after": "1_-5"},
        {"stage": NEW},
    ):
        assert manager_client.get(url, hostile).status_code == 400


def test_board_shows_most_recently_changed_deals_first(manager_client, manager):
    first = DealFactory(manager=manager, title="Touched long ago")
    second = DealFactory(manager=manager, title="Touched just now")
    Deal.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(days=2))
    response = manager_client.get(reverse("deals:board"))
    assert [d.title for d in column(response, NEW).cards] == [second.title, first.title]


def test_board_card_shows_overdue_badge_only_for_overdue_tasks(manager_client, manager):
    late = DealFactory(manager=manager, title="Late")
    TaskFactory(deal=late, due_at=timezone.now() - timedelta(hours=1))
    fine = DealFactory(manager=manager, title="Fine")
    TaskFactory(deal=fine, due_at=timezone.now() + timedelta(hours=1))
    TaskFactory(deal=fine, due_at=timezone.now() - timedelta(hours=1), done=True)
    response = manager_client.get(reverse("deals:board"))
    flags = {d.title: d.has_overdue for d in column(response, NEW).cards}
    assert flags == {"Late": True, "Fine": False}


def test_board_mine_filter_shows_only_my_deals(manager_client, manager, other_manager):
    DealFactory(manager=manager, title="Mine")
    DealFactory(manager=other_manager, title="Theirs")
    DealFactory(manager=None, title="Nobody's")
    mine = manager_client.get(reverse("deals:board"), {"manager": "mine"})
    assert [d.title for d in column(mine, NEW).cards] == ["Mine"]
    unassigned = manager_client.get(reverse("deals:board"), {"manager": "none"})
    assert [d.title for d in column(unassigned, NEW).cards] == ["Nobody's"]
    everyone = manager_client.get(reverse("deals:board"), {"manager": "<script>"})
    assert column(everyone, NEW).count == 3


def test_only_deals_i_may_change_are_draggable(manager_client, manager, other_manager):
    DealFactory(manager=manager, title="Mine")
    DealFactory(manager=other_manager, title="Theirs")
    response = manager_client.get(reverse("deals:board"))
    movable = {d.title: d.can_move for d in column(response, NEW).cards}
    assert movable == {"Mine": True, "Theirs": False}


def test_board_query_count_does_not_grow_with_deals(manager_client, manager):
    make_deals(5, manager)
    few = count_queries(manager_client, reverse("deals:board"))
    make_deals(55, manager)
    many = count_queries(manager_client, reverse("deals:board"))
    assert few == many


def test_board_move_answer_query_count_does_not_grow_with_deals(manager_client, manager):
    make_deals(5, manager)
    deal = DealFactory(manager=manager)

    def move_queries(stage):
        with CaptureQueriesContext(connection) as queries:
            response = manager_client.post(
                reverse("deals:move", args=[deal.pk]), {"stage": stage}, HTTP_HX_REQUEST="true"
            )
        assert response.status_code == 200
        return len(queries)

    few = move_queries(BRIEF_SENT)
    make_deals(55, manager)
    assert move_queries(NEW) == few


# --- list --------------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_deals(manager_client, manager):
    url = reverse("deals:list") + "?q=a&sort=-amount&status=open"
    make_deals(5, manager)
    few = count_queries(manager_client, url)
    make_deals(55, manager)
    many = count_queries(manager_client, url)
    assert few == many


@pytest.mark.parametrize(
    "query",
    ["garden", "GARDEN", "Ромашка", "ромашка", "irina@example", "Ирина", "+7 (999) 123-45-67"],
)
def test_search_finds_by_title_client_contact_email_and_phone(manager_client, query):
    client = ClientFactory(name="ООО «Ромашка»")
    contact = ContactFactory(
        client=client,
        name="Ирина Петрова",
        email="irina@example.com",
        phone="8 999 123 45 67",
        phone_normalized="+79991234567",
    )
    DealFactory(client=client, contact=contact, title="Online store for garden goods")
    DealFactory(title="Unrelated")
    response = manager_client.get(reverse("deals:list"), {"q": query})
    assert titles(response) == ["Online store for garden goods"]


def test_filters_by_stage_manager_source_and_status(manager_client, manager, other_manager):
    DealFactory(title="A", manager=manager, stage_id=NEW, source=Source.WEBSITE)
    DealFactory(title="B", manager=other_manager, stage_id=BRIEF_SENT, source=Source.PHONE)
    DealFactory(title="C", manager=None, stage_id=PAID, source=Source.PHONE)
    DealFactory(title="D", manager=manager, stage_id=LOST, source=Source.EMAIL)
    url = reverse("deals:list")

    def shown(**params):
        return sorted(titles(manager_client.get(url, params)))

    assert shown(stage=BRIEF_SENT) == ["B"]
    assert shown(manager="mine") == ["A", "D"]
    assert shown(manager="none") == ["C"]
    assert shown(manager=str(other_manager.pk)) == ["B"]
    assert shown(source=Source.PHONE) == ["B", "C"]
    assert shown(status="open") == ["A", "B"]
    assert shown(status="closed") == ["C", "D"]
    assert shown(status="won") == ["C"]
    assert shown(status="lost") == ["D"]
    assert shown(source=Source.PHONE, status="open") == ["B"]


def test_hostile_filter_values_are_ignored_not_errors(manager_client):
    DealFactory(title="Visible")
    response = manager_client.get(
        reverse("deals:list"),
        {"stage": "'; drop", "manager": "999999", "source": "x", "sort": "pk", "page": "-1"},
    )
    assert response.status_code == 200
    assert titles(response) == ["Visible"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("title", ["Alpha", "Beta", "Gamma"]),
        ("-title", ["Gamma", "Beta", "Alpha"]),
        ("amount", ["Beta", "Gamma", "Alpha"]),
        ("-amount", ["Alpha", "Gamma", "Beta"]),
        ("created", ["Gamma", "Alpha", "Beta"]),
        ("-created", ["Beta", "Alpha", "Gamma"]),
        ("stage_changed", ["Beta", "Gamma", "Alpha"]),
        ("-stage_changed", ["Alpha", "Gamma", "Beta"]),
    ],
)
def test_sorting_in_both_directions(manager_client, sort, expected):
    now = timezone.now()
    rows = [
        ("Alpha", Decimal("300"), None, 2, 1),
        ("Beta", Decimal("999"), Decimal("100"), 1, 3),
        ("Gamma", Decimal("200"), None, 3, 2),
    ]
    for title, expected_amount, estimated, created_days_ago, changed_days_ago in rows:
        deal = DealFactory(title=title, expected_amount=expected_amount, estimated_amount=estimated)
        Deal.objects.filter(pk=deal.pk).update(
            created_at=now - timedelta(days=created_days_ago),
            stage_changed_at=now - timedelta(days=changed_days_ago),
        )
    assert titles(manager_client.get(reverse("deals:list"), {"sort": sort})) == expected


def test_deals_without_an_amount_sort_last_both_ways(manager_client):
    DealFactory(title="Unknown", expected_amount=None)
    DealFactory(title="Known", expected_amount=Decimal("5"))
    for sort in ("amount", "-amount"):
        assert titles(manager_client.get(reverse("deals:list"), {"sort": sort}))[-1] == "Unknown"


def test_pagination_has_50_per_page_and_keeps_filters(manager_client, manager):
    for index in range(55):
        DealFactory(title=f"Deal {index:02}", manager=manager)
    DealFactory(title="Someone else's")
    response = manager_client.get(reverse("deals:list"), {"manager": "mine", "sort": "title"})
    assert len(titles(response)) == 50
    html = response.content.decode()
    assert "manager=mine&amp;sort=title&amp;page=2" in html
    second = manager_client.get(
        reverse("deals:list"), {"manager": "mine", "sort": "title", "page": "2"}
    )
    assert titles(second) == [f"Deal {index:02}" for index in range(50, 55)]


def test_list_escapes_deal_titles(manager_client):
    DealFactory(title="<img src=x onerror=alert(1)>")
    html = manager_client.get(reverse("deals:list")).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_deals_in_work_stay_on_the_board_whatever_their_age(manager_client, manager):
    """In work is won but not finished: unlike Paid and Lost it is not cut to 30 days."""
    old = DealFactory(manager=manager, stage_id=IN_WORK, title="Started long ago")
    Deal.objects.filter(pk=old.pk).update(stage_changed_at=timezone.now() - timedelta(days=90))

    response = manager_client.get(reverse("deals:board"))

    assert [d.title for d in column(response, IN_WORK).cards] == ["Started long ago"]
    assert not column(response, IN_WORK).is_closed


def test_list_count_stops_at_the_cap_and_pages_still_work(manager_client, manager, monkeypatch):
    monkeypatch.setattr("studiocrm.deals.views.LIST_COUNT_CAP", 4)
    monkeypatch.setattr("studiocrm.deals.views.LIST_PAGE_SIZE", 2)
    for index in range(7):
        DealFactory(title=f"Deal {index}", manager=manager)
    first = manager_client.get(reverse("deals:list"), {"sort": "title"})
    html = first.content.decode()
    assert "4+ deals" in html and "Page 1</span>" in html and "page=2" in html
    last = manager_client.get(reverse("deals:list"), {"sort": "title", "page": "4"})
    assert titles(last) == ["Deal 6"]
    assert 'rel="next"' not in last.content.decode()
    for stale in ("99", "0", "-1", "x" * 50):
        assert (
            titles(manager_client.get(reverse("deals:list"), {"sort": "title", "page": stale}))[0]
            == "Deal 0"
        )
    exact = manager_client.get(reverse("deals:list"), {"q": "Deal 6"})
    assert "1 deal<" in exact.content.decode() and "Page" not in exact.content.decode()


def test_search_by_many_matching_clients_falls_back_to_a_subquery(manager_client, monkeypatch):
    monkeypatch.setattr("studiocrm.deals.views.SEARCH_ID_LIMIT", 2)
    for index in range(4):
        DealFactory(title=f"Project {index}", client=ClientFactory(name=f"Acme branch {index}"))
    DealFactory(title="Unrelated", client=ClientFactory(name="Other"))
    found = manager_client.get(reverse("deals:list"), {"q": "acme", "sort": "title"})
    assert titles(found) == [f"Project {index}" for index in range(4)]


def test_board_cards_escape_their_text_and_mark_idle_deals_in_both_languages(
    manager_client, manager
):
    hostile = DealFactory(manager=manager, title="<img src=x onerror=alert(1)>")
    idle = DealFactory(manager=manager, title="Waiting")
    Deal.objects.filter(pk=idle.pk).update(stage_changed_at=timezone.now() - timedelta(days=9))
    html = manager_client.get(reverse("deals:board")).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "idle 9 days" in html
    assert f'id="deal-{hostile.pk}"' in html and "data-movable" in html
    assert 'name="csrfmiddlewaretoken"' in html
    manager_client.cookies["django_language"] = "ru"
    text = manager_client.get(reverse("deals:board")).content.decode()
    assert "без движения 9 дней" in text
    assert "Перевести «Waiting» на этап" in text
