"""Deal pages: who may see and change what, moves, notes, tasks, escaping."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from studiocrm.core.models import AuditLog
from studiocrm.deals.models import BRIEF_SENT, LOST, NEW, PAID, Deal, Note, StageChange, Task
from studiocrm.notifications.models import Outbox
from tests.factories import ContactFactory, DealFactory, TaskFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def no_panels_from_other_apps(settings):
    """These tests are about the deal pages themselves; panels have their own tests."""
    settings.DEAL_PANELS = []


@pytest.fixture
def deal(manager):
    return DealFactory(manager=manager, title="Shop for garden goods", expected_amount=100)


def documents_panel(request, deal):
    """A stand-in for another app's deal panel (see settings.DEAL_PANELS)."""
    return f'<p class="test-panel">Proposal for deal {deal.pk}</p>'


def broken_panel(request, deal):
    raise RuntimeError("this panel is broken")


def http_for(request, persona):
    return request.getfixturevalue(f"{persona}_client")


def snapshot(deal):
    deal.refresh_from_db()
    return (
        deal.stage_id,
        deal.manager_id,
        deal.title,
        deal.lost_reason,
        StageChange.objects.filter(deal=deal).count(),
        Note.objects.filter(deal=deal).count(),
        Task.objects.filter(deal=deal).count(),
    )


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "manager", "other_manager"])
@pytest.mark.parametrize("name", ["deals:board", "deals:list", "deals:my_day", "deals:create"])
def test_signed_in_people_see_the_deal_pages(request, persona, name):
    response = http_for(request, persona).get(reverse(name))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["deals:board", "deals:list", "deals:my_day", "deals:create"])
def test_anonymous_visitors_are_sent_to_log_in(anonymous_client, name):
    response = anonymous_client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_visitor_cannot_open_a_deal(anonymous_client, deal):
    response = anonymous_client.get(deal.get_absolute_url())
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_deal_page_lives_at_the_url_used_in_emails(deal):
    assert reverse("deals:detail", args=[deal.pk]) == f"/deals/{deal.pk}/"


@pytest.mark.parametrize("persona", ["owner", "manager"])
def test_people_who_may_edit_see_the_action_buttons(request, persona, deal):
    response = http_for(request, persona).get(deal.get_absolute_url())
    assert response.status_code == 200
    assert reverse("deals:move", args=[deal.pk]) in response.content.decode()
    assert reverse("deals:add_note", args=[deal.pk]) in response.content.decode()


def test_another_manager_sees_the_deal_read_only(other_manager_client, deal):
    response = other_manager_client.get(deal.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert deal.title in html
    for name in ["move", "mark_lost", "add_note", "add_task", "edit"]:
        assert reverse(f"deals:{name}", args=[deal.pk]) not in html


def test_client_typed_request_text_is_escaped(manager_client, deal):
    Deal.objects.filter(pk=deal.pk).update(description="<script>alert(1)</script>")
    response = manager_client.get(deal.get_absolute_url())
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_deal_page_shows_stage_history_with_who_moved(manager_client, manager, deal):
    StageChange.objects.create(deal=deal, from_stage_id=NEW, to_stage_id=BRIEF_SENT, by=manager)
    html = manager_client.get(deal.get_absolute_url()).content.decode()
    assert "Brief sent" in html
    assert str(manager) in html


def test_deal_page_shows_panels_from_other_apps(manager_client, deal, settings):
    settings.DEAL_PANELS = ["tests.deals.test_views.documents_panel"]
    html = manager_client.get(deal.get_absolute_url()).content.decode()
    assert f'<p class="test-panel">Proposal for deal {deal.pk}</p>' in html


def test_a_failing_panel_leaves_the_deal_page_working(manager_client, deal, settings):
    settings.DEAL_PANELS = [
        "tests.deals.test_views.broken_panel",
        "tests.deals.test_views.no_such_panel",
        "tests.deals.test_views.documents_panel",
    ]
    response = manager_client.get(deal.get_absolute_url())
    assert response.status_code == 200
    assert "test-panel" in response.content.decode()


def test_missing_deal_is_404(manager_client):
    assert manager_client.get(reverse("deals:detail", args=[999999])).status_code == 404


# --- moving ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "manager"])
def test_move_endpoint_moves_the_deal_and_records_the_change(request, persona, deal):
    response = http_for(request, persona).post(
        reverse("deals:move", args=[deal.pk]), {"stage": BRIEF_SENT}, **HTMX
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage_id == BRIEF_SENT
    assert StageChange.objects.filter(deal=deal, from_stage=NEW, to_stage=BRIEF_SENT).exists()


def test_move_answer_updates_both_column_headers(manager_client, deal):
    response = manager_client.post(
        reverse("deals:move", args=[deal.pk]), {"stage": BRIEF_SENT, "scope": "all"}, **HTMX
    )
    html = response.content.decode()
    assert 'id="col-head-new" hx-swap-oob="true"' in html
    assert 'id="col-head-brief_sent" hx-swap-oob="true"' in html
    assert "100\u00a0₽" in html


def test_another_manager_cannot_move_a_deal(other_manager_client, deal):
    before = snapshot(deal)
    response = other_manager_client.post(
        reverse("deals:move", args=[deal.pk]), {"stage": BRIEF_SENT}, **HTMX
    )
    assert response.status_code == 403
    assert "Only the responsible manager" in response.content.decode()
    assert snapshot(deal) == before


def test_another_manager_gets_403_on_a_plain_move_post(other_manager_client, deal):
    before = snapshot(deal)
    response = other_manager_client.post(
        reverse("deals:move", args=[deal.pk]), {"stage": BRIEF_SENT}
    )
    assert response.status_code == 403
    assert snapshot(deal) == before


def test_anonymous_move_is_refused_and_changes_nothing(anonymous_client, deal):
    before = snapshot(deal)
    response = anonymous_client.post(reverse("deals:move", args=[deal.pk]), {"stage": BRIEF_SENT})
    assert response.status_code == 302
    assert snapshot(deal) == before


def test_anonymous_htmx_move_tells_htmx_to_open_the_login_page(anonymous_client, deal):
    response = anonymous_client.post(
        reverse("deals:move", args=[deal.pk]), {"stage": BRIEF_SENT}, **HTMX
    )
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_moving_to_lost_without_a_reason_is_refused_with_a_message(manager_client, deal):
    before = snapshot(deal)
    response = manager_client.post(reverse("deals:move", args=[deal.pk]), {"stage": LOST}, **HTMX)
    assert response.status_code == 400
    assert "Say why the deal was lost." in response.content.decode()
    assert snapshot(deal) == before


def test_moving_to_lost_with_a_reason_closes_the_deal(manager_client, deal):
    response = manager_client.post(
        reverse("deals:move", args=[deal.pk]),
        {"stage": LOST, "lost_reason": "Chose a cheaper studio"},
        **HTMX,
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert (deal.stage_id, deal.lost_reason) == (LOST, "Chose a cheaper studio")
    assert deal.closed_at is not None


def test_moving_to_an_unknown_stage_is_a_clear_400(manager_client, deal):
    before = snapshot(deal)
    response = manager_client.post(
        reverse("deals:move", args=[deal.pk]), {"stage": "<nope>"}, **HTMX
    )
    assert response.status_code == 400
    assert snapshot(deal) == before


def test_plain_move_form_redirects_back_to_the_deal(manager_client, deal):
    response = manager_client.post(reverse("deals:move", args=[deal.pk]), {"stage": BRIEF_SENT})
    assert response.status_code == 302
    assert response.url == deal.get_absolute_url()


def test_move_ignores_a_next_url_on_another_host(manager_client, deal):
    response = manager_client.post(
        reverse("deals:move", args=[deal.pk]),
        {"stage": BRIEF_SENT, "next": "https://evil.example/"},
    )
    assert response.url == deal.get_absolute_url()


def test_move_endpoint_refuses_get(manager_client, deal):
    assert manager_client.get(reverse("deals:move", args=[deal.pk])).status_code == 405


def test_mark_lost_form_needs_a_reason(manager_client, deal):
    before = snapshot(deal)
    manager_client.post(reverse("deals:mark_lost", args=[deal.pk]), {"lost_reason": "  "})
    assert snapshot(deal) == before
    manager_client.post(reverse("deals:mark_lost", args=[deal.pk]), {"lost_reason": "No budget"})
    deal.refresh_from_db()
    assert (deal.stage_id, deal.lost_reason) == (LOST, "No budget")


def test_another_manager_cannot_mark_a_deal_lost(other_manager_client, deal):
    before = snapshot(deal)
    response = other_manager_client.post(
        reverse("deals:mark_lost", args=[deal.pk]), {"lost_reason": "No budget"}
    )
    assert response.status_code == 403
    assert snapshot(deal) == before


# --- editing -----------------------------------------------------------------------------


def edit_data(deal, **changes):
    data = {
        "title": deal.title,
        "contact": deal.contact_id or "",
        "source": deal.source,
        "currency": deal.currency,
        "expected_amount": "100.00",
        "description": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("persona", ["owner", "manager"])
def test_edit_form_saves_through_the_service(request, persona, deal):
    response = http_for(request, persona).post(
        reverse("deals:edit", args=[deal.pk]),
        edit_data(deal, title="Renamed", expected_amount="2500.50", currency="EUR"),
    )
    assert response.status_code == 302
    deal.refresh_from_db()
    assert (deal.title, deal.expected_amount, deal.currency) == (
        "Renamed",
        Decimal("2500.50"),
        "EUR",
    )
    assert AuditLog.objects.filter(verb="deal.updated", object_id=str(deal.pk)).exists()


def test_edit_offers_only_the_clients_own_contacts(manager_client, deal):
    stranger = ContactFactory()
    before = snapshot(deal)
    response = manager_client.post(
        reverse("deals:edit", args=[deal.pk]), edit_data(deal, contact=stranger.pk)
    )
    assert response.status_code == 200
    assert "contact" in response.context["form"].errors
    assert snapshot(deal) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_manager_cannot_edit(other_manager_client, deal, method):
    before = snapshot(deal)
    call = getattr(other_manager_client, method)
    response = call(reverse("deals:edit", args=[deal.pk]), edit_data(deal, title="Hijacked"))
    assert response.status_code == 403
    assert snapshot(deal) == before


def test_a_negative_amount_is_refused(manager_client, deal):
    before = snapshot(deal)
    response = manager_client.post(
        reverse("deals:edit", args=[deal.pk]), edit_data(deal, expected_amount="-5")
    )
    assert response.status_code == 200
    assert "expected_amount" in response.context["form"].errors
    assert snapshot(deal) == before


# --- assignment --------------------------------------------------------------------------


def test_owner_reassigns_a_deal(owner_client, deal, other_manager):
    owner_client.post(reverse("deals:assign", args=[deal.pk]), {"manager": other_manager.pk})
    deal.refresh_from_db()
    assert deal.manager == other_manager


def test_manager_cannot_reassign_their_deal(manager_client, deal, other_manager, manager):
    response = manager_client.post(
        reverse("deals:assign", args=[deal.pk]), {"manager": other_manager.pk}
    )
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.manager == manager


def test_manager_takes_an_unassigned_deal(manager_client, manager):
    deal = DealFactory(manager=None)
    manager_client.post(reverse("deals:assign", args=[deal.pk]), {"take": "1"})
    deal.refresh_from_db()
    assert deal.manager == manager


def test_manager_cannot_take_someone_elses_deal(other_manager_client, deal, manager):
    response = other_manager_client.post(reverse("deals:assign", args=[deal.pk]), {"take": "1"})
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.manager == manager


def test_unassigned_deal_shows_take_button_to_a_manager(manager_client):
    deal = DealFactory(manager=None)
    html = manager_client.get(deal.get_absolute_url()).content.decode()
    assert "Take this deal" in html


# --- notes and tasks ---------------------------------------------------------------------


def test_note_added_with_htmx_comes_back_in_the_notes_section(manager_client, deal, manager):
    response = manager_client.post(
        reverse("deals:add_note", args=[deal.pk]), {"text": "Called <b>them</b>"}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card" id="notes"')
    assert "Called &lt;b&gt;them&lt;/b&gt;" in html
    assert Note.objects.get(deal=deal).author == manager


def test_empty_note_shows_an_error_and_adds_nothing(manager_client, deal):
    response = manager_client.post(
        reverse("deals:add_note", args=[deal.pk]), {"text": "   "}, **HTMX
    )
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not Note.objects.filter(deal=deal).exists()


def test_another_manager_cannot_add_a_note(other_manager_client, deal):
    before = snapshot(deal)
    response = other_manager_client.post(
        reverse("deals:add_note", args=[deal.pk]), {"text": "Mine now"}, **HTMX
    )
    assert response.status_code == 403
    assert snapshot(deal) == before


def test_task_added_with_htmx_is_due_in_the_studio_time_zone(manager_client, deal, studio):
    studio.time_zone = "Asia/Tokyo"
    studio.save()
    response = manager_client.post(
        reverse("deals:add_task", args=[deal.pk]),
        {"title": "Call back", "due_at": "2030-05-01T10:00", "assignee": deal.manager_id},
        **HTMX,
    )
    assert response.status_code == 200
    assert "Call back" in response.content.decode()
    task = Task.objects.get(deal=deal)
    assert task.due_at.astimezone(timezone.get_fixed_timezone(0)).hour == 1  # 10:00 JST = 01 UTC


def test_task_without_a_due_time_is_not_added(manager_client, deal):
    response = manager_client.post(
        reverse("deals:add_task", args=[deal.pk]),
        {"title": "Call back", "due_at": "", "assignee": deal.manager_id},
        **HTMX,
    )
    assert response.status_code == 200
    assert "error" in response.content.decode()
    assert not Task.objects.filter(deal=deal).exists()


def test_another_manager_cannot_add_a_task(other_manager_client, deal, other_manager):
    before = snapshot(deal)
    response = other_manager_client.post(
        reverse("deals:add_task", args=[deal.pk]),
        {"title": "x", "due_at": "2030-05-01T10:00", "assignee": other_manager.pk},
        **HTMX,
    )
    assert response.status_code == 403
    assert snapshot(deal) == before


def test_assignee_ticks_a_task_done_and_back(manager_client, deal):
    task = TaskFactory(deal=deal)
    response = manager_client.post(
        reverse("deals:task_done", args=[task.pk]), {"done": "1"}, **HTMX
    )
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()
    task.refresh_from_db()
    assert task.done and task.done_at is not None
    manager_client.post(reverse("deals:task_done", args=[task.pk]), {}, **HTMX)
    task.refresh_from_db()
    assert not task.done


def test_owner_may_tick_anyones_task(owner_client, deal):
    task = TaskFactory(deal=deal)
    owner_client.post(reverse("deals:task_done", args=[task.pk]), {"done": "1"}, **HTMX)
    task.refresh_from_db()
    assert task.done


def test_another_manager_cannot_tick_a_task(other_manager_client, deal):
    task = TaskFactory(deal=deal)
    response = other_manager_client.post(
        reverse("deals:task_done", args=[task.pk]), {"done": "1"}, **HTMX
    )
    assert response.status_code == 403
    task.refresh_from_db()
    assert not task.done


def test_anonymous_cannot_tick_a_task(anonymous_client, deal):
    task = TaskFactory(deal=deal)
    anonymous_client.post(reverse("deals:task_done", args=[task.pk]), {"done": "1"})
    task.refresh_from_db()
    assert not task.done


# --- outgoing messages -------------------------------------------------------------------


def failed_message(deal):
    return Outbox.objects.create(
        to="client@example.com",
        subject="Your brief",
        body="...",
        dedupe_key=f"test:{deal.pk}",
        deal=deal,
        status=Outbox.Status.FAILED,
        attempts=3,
        last_error="550 mailbox unavailable",
    )


def test_deal_page_lists_its_messages_with_the_last_error(manager_client, deal):
    failed_message(deal)
    html = manager_client.get(deal.get_absolute_url()).content.decode()
    assert "550 mailbox unavailable" in html
    assert "Retry" in html


def test_retry_puts_a_failed_message_back_in_the_queue(
    manager_client, deal, django_capture_on_commit_callbacks
):
    message = failed_message(deal)
    with django_capture_on_commit_callbacks(execute=False):
        response = manager_client.post(reverse("deals:retry_message", args=[deal.pk, message.pk]))
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == Outbox.Status.QUEUED


def test_another_manager_cannot_retry_a_message(other_manager_client, deal):
    message = failed_message(deal)
    response = other_manager_client.post(reverse("deals:retry_message", args=[deal.pk, message.pk]))
    assert response.status_code == 403
    message.refresh_from_db()
    assert message.status == Outbox.Status.FAILED


def test_retry_of_another_deals_message_is_404(manager_client, deal):
    message = failed_message(DealFactory())
    response = manager_client.post(reverse("deals:retry_message", args=[deal.pk, message.pk]))
    assert response.status_code == 404
    message.refresh_from_db()
    assert message.status == Outbox.Status.FAILED


# --- new deal ----------------------------------------------------------------------------


def test_new_deal_for_a_new_client_creates_client_contact_and_deal(manager_client, manager):
    response = manager_client.post(
        reverse("deals:create"),
        {
            "new_client_name": "Acme",
            "new_contact_name": "Jane Roe",
            "new_contact_email": "jane@acme.test",
            "title": "Website",
            "source": "phone",
            "currency": "RUB",
            "expected_amount": "150000",
            "manager": manager.pk,
        },
    )
    deal = Deal.objects.get(title="Website")
    assert response.status_code == 302 and response.url == deal.get_absolute_url()
    assert (deal.client.name, deal.contact.name, deal.contact.email) == (
        "Acme",
        "Jane Roe",
        "jane@acme.test",
    )
    assert deal.stage_id == NEW
    assert StageChange.objects.filter(deal=deal, to_stage=NEW).exists()


def test_new_deal_for_an_existing_client_uses_the_chosen_contact(manager_client, manager):
    contact = ContactFactory()
    manager_client.post(
        reverse("deals:create"),
        {
            "client": contact.client.pk,
            "contact": contact.pk,
            "title": "Redesign",
            "source": "referral",
            "currency": "EUR",
            "manager": "",
        },
    )
    deal = Deal.objects.get(title="Redesign")
    assert (deal.client, deal.contact, deal.manager, deal.currency) == (
        contact.client,
        contact,
        None,
        "EUR",
    )


def test_new_deal_with_a_known_email_reuses_the_contact(manager_client, manager):
    contact = ContactFactory(email="known@client.test")
    manager_client.post(
        reverse("deals:create"),
        {
            "new_contact_name": "Someone",
            "new_contact_email": "KNOWN@client.test",
            "title": "Second project",
            "source": "email",
            "currency": "RUB",
            "manager": manager.pk,
        },
    )
    assert Deal.objects.get(title="Second project").contact == contact


def test_new_deal_needs_a_client_or_a_contact_name(manager_client):
    response = manager_client.post(
        reverse("deals:create"), {"title": "Orphan", "source": "phone", "currency": "RUB"}
    )
    assert response.status_code == 200
    assert "new_contact_name" in response.context["form"].errors
    assert not Deal.objects.exists()


def test_new_deal_assigned_to_a_colleague_emails_them(manager_client, other_manager):
    manager_client.post(
        reverse("deals:create"),
        {
            "new_contact_name": "Jane",
            "title": "For a colleague",
            "source": "phone",
            "currency": "RUB",
            "manager": other_manager.pk,
        },
    )
    deal = Deal.objects.get(title="For a colleague")
    assert Outbox.objects.filter(deal=deal, to=other_manager.email).exists()


def test_anonymous_cannot_create_a_deal(anonymous_client):
    anonymous_client.post(
        reverse("deals:create"),
        {"new_contact_name": "X", "title": "Nope", "source": "phone", "currency": "RUB"},
    )
    assert not Deal.objects.exists()


def test_new_deal_form_offers_the_contacts_of_a_preselected_client(manager_client):
    contact = ContactFactory(name="Preselected Person")
    html = manager_client.get(
        reverse("deals:create"), {"client": contact.client.pk}
    ).content.decode()
    assert "Preselected Person" in html


# --- my day ------------------------------------------------------------------------------


def test_my_day_groups_overdue_today_and_tomorrow(manager_client, manager, studio):
    studio.time_zone = "UTC"
    studio.save()
    now = timezone.now()
    deal = DealFactory(manager=manager)
    overdue = TaskFactory(deal=deal, title="Overdue one", due_at=now - timedelta(days=3))
    tomorrow = TaskFactory(deal=deal, title="Tomorrow one", due_at=now + timedelta(days=1))
    later = TaskFactory(deal=deal, title="Next week", due_at=now + timedelta(days=7))
    TaskFactory(deal=deal, title="Already done", due_at=now - timedelta(hours=1), done=True)
    response = manager_client.get(reverse("deals:my_day"))
    sections = {key: tasks for key, _title, tasks in response.context["sections"]}
    assert sections["overdue"] == [overdue]
    assert tomorrow in sections["tomorrow"]
    shown = [task for tasks in sections.values() for task in tasks]
    assert later not in shown
    assert all(not task.done for task in shown)


def test_my_day_shows_only_my_tasks(manager_client, other_manager):
    TaskFactory(deal=DealFactory(manager=other_manager), title="Not mine")
    response = manager_client.get(reverse("deals:my_day"))
    assert "Not mine" not in response.content.decode()


def test_owner_can_look_at_another_managers_day(owner_client, manager):
    TaskFactory(deal=DealFactory(manager=manager), title="Anna's call")
    response = owner_client.get(reverse("deals:my_day"), {"user": manager.pk})
    assert response.context["person"] == manager
    assert "Anna&#x27;s call" in response.content.decode()


def test_manager_cannot_look_at_another_managers_day(manager_client, other_manager):
    TaskFactory(deal=DealFactory(manager=other_manager), title="Private call")
    response = manager_client.get(reverse("deals:my_day"), {"user": other_manager.pk})
    assert "Private call" not in response.content.decode()


# --- stage names -------------------------------------------------------------------------


def test_owner_renames_a_stage_and_empty_means_the_default(owner_client):
    from studiocrm.deals.models import Stage

    response = owner_client.post(reverse("deals:stages"), {NEW: "Incoming", PAID: ""})
    assert response.status_code == 302
    assert Stage.objects.get(pk=NEW).label == "Incoming"
    assert Stage.objects.get(pk=PAID).label == "Paid"
    assert list(Stage.objects.values_list("code", flat=True))[0] == NEW


@pytest.mark.parametrize("persona", ["manager", "other_manager"])
def test_managers_cannot_rename_stages(request, persona):
    from studiocrm.deals.models import Stage

    http = http_for(request, persona)
    assert http.get(reverse("deals:stages")).status_code == 403
    assert http.post(reverse("deals:stages"), {NEW: "Hacked"}).status_code == 403
    assert Stage.objects.get(pk=NEW).name == ""


def test_anonymous_cannot_rename_stages(anonymous_client):
    from studiocrm.deals.models import Stage

    response = anonymous_client.post(reverse("deals:stages"), {NEW: "Hacked"})
    assert response.status_code == 302
    assert Stage.objects.get(pk=NEW).name == ""


def test_renamed_stage_shows_on_the_board(owner_client, manager_client):
    owner_client.post(reverse("deals:stages"), {NEW: "Incoming leads"})
    assert "Incoming leads" in manager_client.get(reverse("deals:board")).content.decode()


def test_deal_page_query_count_does_not_grow_with_notes_tasks_and_history(
    manager_client, manager, deal
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import NoteFactory

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(deal.get_absolute_url()).status_code == 200
        return len(captured)

    NoteFactory(deal=deal, author=manager)
    TaskFactory(deal=deal)
    StageChange.objects.create(deal=deal, from_stage_id=NEW, to_stage_id=BRIEF_SENT, by=manager)
    few = queries()
    for index in range(10):
        NoteFactory(deal=deal, author=manager)
        TaskFactory(deal=deal)
        StageChange.objects.create(deal=deal, from_stage_id=NEW, to_stage_id=PAID, by=manager)
        Outbox.objects.create(
            to="a@b.test", subject="s", body="b", dedupe_key=f"many:{index}", deal=deal
        )
    assert queries() == few


def test_move_to_suggests_the_next_stage_not_the_first(manager_client, manager):
    deal = DealFactory(manager=manager, stage_id="proposal_accepted")
    html = manager_client.get(reverse("deals:detail", args=[deal.pk])).content.decode()
    assert '<option value="contract_sent" selected>' in html
    assert '<option value="new" selected>' not in html
