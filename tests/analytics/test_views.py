import csv
import importlib
import io
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from studiocrm.analytics.models import AnalyticsSettings
from studiocrm.deals import services as deal_services
from studiocrm.deals.models import LOST, Deal, LostReason, Stage, StageChange
from studiocrm.intake.services import LeadData, submit_lead
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "analytics:dashboard"


def deals_with_history(count, manager):
    now = timezone.now()
    for index in range(count):
        deal = DealFactory(manager=manager, created_at=now - timedelta(days=index % 200))
        StageChange.objects.create(deal=deal, to_stage_id="new", at=deal.created_at)
        StageChange.objects.create(
            deal=deal,
            from_stage_id="new",
            to_stage_id="brief_sent",
            by=manager,
            at=deal.created_at + timedelta(hours=index % 7 + 1),
        )


def test_dashboard_needs_a_login(anonymous_client):
    response = anonymous_client.get(reverse(DASHBOARD))
    assert response.status_code == 302
    assert reverse("login") in response.url


def test_owner_sees_every_section_and_a_manager_filter(owner_client, manager):
    deals_with_history(3, manager)
    response = owner_client.get(reverse(DASHBOARD))
    html = response.content.decode()
    assert response.status_code == 200
    for key in ("inflow", "funnel", "speed", "money", "effort", "managers"):
        assert f'id="{key}"' in html
    assert 'name="manager"' in html


def test_a_manager_sees_only_their_own_figures_whatever_the_query(
    manager_client, manager, other_manager
):
    deals_with_history(2, manager)
    deals_with_history(5, other_manager)
    response = manager_client.get(reverse(DASHBOARD), {"manager": other_manager.pk})
    assert 'name="manager"' not in response.content.decode()
    export = manager_client.get(
        reverse("analytics:export", args=["funnel", "csv"]), {"manager": other_manager.pk}
    )
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[1][:2] == ["New", "2"]


def test_csv_and_xlsx_exports_hold_the_table(owner_client, manager):
    deals_with_history(4, manager)
    csv_response = owner_client.get(reverse("analytics:export", args=["funnel", "csv"]))
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Stage", "Reached", "From the previous stage, %", "From application, %"]
    assert rows[1][:2] == ["New", "4"] and rows[2][:2] == ["Brief sent", "4"]

    xlsx = owner_client.get(reverse("analytics:export", args=["funnel", "xlsx"]))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [cell.value for cell in sheet[1]][:2] == ["Stage", "Reached"]
    assert [cell.value for cell in sheet[2]][:2] == ["New", 4]


def test_export_refuses_unknown_tables_formats_and_bad_filters(owner_client):
    assert owner_client.get(reverse("analytics:export", args=["nope", "csv"])).status_code == 404
    assert owner_client.get(reverse("analytics:export", args=["funnel", "pdf"])).status_code == 404
    bad = owner_client.get(
        reverse("analytics:export", args=["funnel", "csv"]),
        {"date_from": "2026-05-01", "date_to": "2026-01-01"},
    )
    assert bad.status_code == 400


def test_dashboard_query_count_does_not_grow_with_the_data(owner_client, manager):
    # The settings row and the facts' state are created once, on the first visit. Each
    # measured visit then comes after new history, so each catches the facts up (a fixed
    # number of queries, however many deals changed).
    owner_client.get(reverse(DASHBOARD))
    deals_with_history(5, manager)
    with CaptureQueriesContext(connection) as small:
        assert owner_client.get(reverse(DASHBOARD)).status_code == 200
    deals_with_history(40, manager)
    with CaptureQueriesContext(connection) as large:
        assert owner_client.get(reverse(DASHBOARD)).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_owner_sets_probabilities_sla_and_lost_reasons(owner_client):
    reasons = list(LostReason.objects.all())
    data = {"sla": "30"}
    for stage in Stage.objects.filter(kind=Stage.Kind.OPEN):
        data[f"stage_{stage.code}"] = str(stage.probability)
    data["stage_new"] = "12"
    for reason in reasons:
        data[f"reason-{reason.pk}-name"] = reason.name
        data[f"reason-{reason.pk}-active"] = "on"
    del data[f"reason-{reasons[0].pk}-active"]
    data["reason-new-name"] = "Chose to build in-house"
    data["reason-new-active"] = "on"
    response = owner_client.post(reverse("analytics:settings"), data)
    assert response.status_code == 302
    assert Stage.objects.get(code="new").probability == 12
    assert AnalyticsSettings.load().new_lead_sla_minutes == 30
    assert not LostReason.objects.get(pk=reasons[0].pk).active
    assert LostReason.objects.filter(name="Chose to build in-house", active=True).exists()


def test_a_manager_may_not_change_report_settings(manager_client):
    before = list(Stage.objects.values_list("code", "probability"))
    response = manager_client.post(reverse("analytics:settings"), {"sla": "1", "stage_new": "99"})
    assert response.status_code == 403
    assert list(Stage.objects.values_list("code", "probability")) == before


def test_losing_a_deal_picks_a_reason_and_keeps_the_words_as_a_comment(manager_client, manager):
    deal = DealFactory(manager=manager)
    price = LostReason.objects.get(code="price")
    manager_client.post(
        reverse("deals:mark_lost", args=[deal.pk]),
        {"reason": price.pk, "lost_reason": "They found a freelancer for half"},
    )
    deal.refresh_from_db()
    assert (deal.stage_id, deal.lost_reason_choice, deal.lost_reason) == (
        LOST,
        price,
        "They found a freelancer for half",
    )


def test_reopening_a_lost_deal_clears_its_reason(manager):
    deal = DealFactory(manager=manager)
    deal_services.mark_lost(deal, "", actor=manager, reason=LostReason.objects.get(code="price"))
    deal = deal_services.move_deal(deal, "proposal_sent", actor=manager)
    assert (deal.lost_reason_choice, deal.lost_reason) == (None, "")


def test_migration_files_free_text_reasons_under_the_list(manager):
    migration = importlib.import_module(
        "studiocrm.deals.migrations.0005_lost_reasons_stage_probability_utm"
    )
    russian = DealFactory(manager=manager, stage_id=LOST, lost_reason="Слишком дорого")
    english = DealFactory(manager=manager, stage_id=LOST, lost_reason="no budget yet.")
    own_words = DealFactory(manager=manager, stage_id=LOST, lost_reason="Went with Tilda")
    migration.forwards(apps, None)
    found = {
        deal.title: (deal.lost_reason_choice.code, deal.lost_reason)
        for deal in Deal.objects.filter(pk__in=[russian.pk, english.pk, own_words.pk])
    }
    assert found == {
        russian.title: ("price", ""),
        english.title: ("no_budget", ""),
        own_words.title: ("other", "Went with Tilda"),
    }


def test_intake_keeps_the_utm_tags_on_the_deal(studio, manager):
    result = submit_lead(
        LeadData(
            name="Ivan",
            email="ivan@client.test",
            message="A shop",
            utm_source="yandex",
            utm_medium="cpc",
            utm_campaign="winter",
        ),
        source="website",
        idempotency_key=None,
    )
    deal = result.deal
    assert (deal.utm_source, deal.utm_medium, deal.utm_campaign) == ("yandex", "cpc", "winter")


def without_nonces(response):
    """The page without what changes on every response (CSP nonces, the CSRF token)."""
    page = re.sub(r'nonce="[^"]*"', "", response.content.decode())
    return re.sub(r"\b[A-Za-z0-9]{64}\b", "", page)


@pytest.fixture
def analytics_cache(settings):
    from django.core.cache import cache

    settings.ANALYTICS_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def test_cached_dashboard_answers_from_the_cache_until_the_data_changes(
    analytics_cache, owner_client, manager
):
    from django.core.cache import cache

    deals_with_history(3, manager)
    owner_client.get(reverse(DASHBOARD))  # creates the settings row once
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        first = owner_client.get(reverse(DASHBOARD))
    with CaptureQueriesContext(connection) as warm:
        second = owner_client.get(reverse(DASHBOARD))
    assert without_nonces(first) == without_nonces(second)

    # The reports read the cells and the deals' values (analytics/cells.py), kept with the
    # per-deal facts of the stage history (analytics/facts.py).
    def reads(queries):
        return [
            q for q in queries if "analytics_cell" in q["sql"] or "analytics_dealvalue" in q["sql"]
        ]

    report_queries = reads(cold.captured_queries)
    warm_reports = reads(warm.captured_queries)
    warm_history = [q for q in warm.captured_queries if "deals_stagechange" in q["sql"]]
    # Warm: no report query; only the version query touches the history.
    assert len(report_queries) >= 3
    assert not warm_reports
    assert len(warm_history) == 1 and "MAX(id)" in warm_history[0]["sql"]

    # A new stage move changes the version: the next page catches the facts up and counts it.
    deals_with_history(1, manager)
    with CaptureQueriesContext(connection) as after:
        third = owner_client.get(reverse(DASHBOARD))
    assert [q for q in after.captured_queries if "analytics_dealfacts" in q["sql"]]
    assert len(reads(after.captured_queries)) > len(report_queries)
    assert without_nonces(third) != without_nonces(second)


def test_cache_keeps_managers_and_languages_apart(analytics_cache, owner_client, manager):
    deals_with_history(2, manager)
    english = owner_client.get(reverse(DASHBOARD), HTTP_ACCEPT_LANGUAGE="en")
    russian = owner_client.get(reverse(DASHBOARD), HTTP_ACCEPT_LANGUAGE="ru")
    mine = owner_client.get(reverse(DASHBOARD), {"manager": manager.pk})
    assert english.status_code == russian.status_code == mine.status_code == 200
    assert "Воронка" in russian.content.decode()
    assert "Воронка" not in english.content.decode()


def test_extra_query_parameters_make_no_new_cache_entry_and_stay_out_of_the_links(
    analytics_cache, owner_client, manager
):
    deals_with_history(2, manager)
    url = reverse(DASHBOARD)
    owner_client.get(url, {"date_from": "2026-01-01", "date_to": "2026-03-31"})
    with CaptureQueriesContext(connection) as junk:
        response = owner_client.get(
            url, {"date_from": "2026-01-01", "date_to": "2026-03-31", "junk": "<x>" * 500}
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert "junk" not in page.split("<main", 1)[1].split("</form>", 1)[1]
    assert "?date_from=2026-01-01&amp;date_to=2026-03-31&amp;unit=month" in page
    # Served from the cached sections: only the version query reads the history.
    assert len([q for q in junk.captured_queries if "deals_stagechange" in q["sql"]]) == 1


def test_a_deal_changed_in_place_changes_the_cached_dashboard(
    analytics_cache, owner_client, manager, other_manager
):
    """A reassignment by a plain UPDATE (no new row anywhere) still reaches a cached page:
    the database triggers queue the deal, and the queue is part of the cache's version."""
    deals_with_history(3, manager)
    url = reverse(DASHBOARD)
    owner_client.get(url)  # creates the settings row once
    first = owner_client.get(url)
    again = owner_client.get(url)
    assert without_nonces(first) == without_nonces(again)  # served from the cache

    Deal.objects.filter(manager=manager).update(manager=other_manager)
    moved = owner_client.get(url)
    assert without_nonces(moved) != without_nonces(again)
    # And again from the cache once the queue was taken off, not recomputed to the old page.
    assert without_nonces(owner_client.get(url)) == without_nonces(moved)
