from datetime import timedelta

import pytest
from django.utils import timezone

from studiocrm.core.models import AuditLog, AuditLogImmutable, Studio
from studiocrm.deals import services
from studiocrm.deals.models import BRIEF_SENT, LOST, NEW, StageChange
from studiocrm.notifications.models import Outbox
from tests.factories import ClientFactory, ContactFactory, DealFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_creating_a_deal_records_the_first_stage_and_an_audit_row(manager):
    contact = ContactFactory()
    deal = services.create_deal(
        title="Shop", client=contact.client, contact=contact, actor=manager, manager=manager
    )
    assert deal.stage_id == NEW
    change = StageChange.objects.get(deal=deal)
    assert (change.from_stage_id, change.to_stage_id, change.by) == (None, NEW, manager)
    assert AuditLog.objects.filter(verb="deal.created", object_id=str(deal.pk)).count() == 1


def test_creating_with_notification_queues_one_email_with_a_link_to_the_deal(manager):
    contact = ContactFactory()
    deal = services.create_deal(
        title="Shop",
        client=contact.client,
        contact=contact,
        actor=None,
        manager=manager,
        notify_manager=True,
    )
    message = Outbox.objects.get(deal=deal)
    assert message.to == manager.email
    assert f"http://testserver/deals/{deal.pk}/" in message.body


def test_moving_a_deal_writes_one_stage_change(manager):
    deal = DealFactory(manager=manager)
    services.move_deal(deal, BRIEF_SENT, actor=manager)
    deal.refresh_from_db()
    assert deal.stage_id == BRIEF_SENT
    assert list(deal.stage_changes.values_list("from_stage", "to_stage")) == [(NEW, BRIEF_SENT)]


def test_moving_to_lost_needs_a_reason_and_changes_nothing_without_one(manager):
    deal = DealFactory(manager=manager)
    with pytest.raises(services.DealError):
        services.move_deal(deal, LOST, actor=manager)
    deal.refresh_from_db()
    assert deal.stage_id == NEW
    assert not deal.stage_changes.exists()
    services.mark_lost(deal, "Too expensive", actor=manager)
    deal.refresh_from_db()
    assert (deal.stage_id, deal.lost_reason) == (LOST, "Too expensive")
    assert deal.closed_at is not None


def test_another_manager_cannot_move_my_deal(manager, other_manager):
    deal = DealFactory(manager=manager)
    with pytest.raises(services.NotAllowed):
        services.move_deal(deal, BRIEF_SENT, actor=other_manager)
    deal.refresh_from_db()
    assert deal.stage_id == NEW


def test_owner_can_move_any_deal(owner, manager):
    deal = DealFactory(manager=manager)
    services.move_deal(deal, BRIEF_SENT, actor=owner)
    deal.refresh_from_db()
    assert deal.stage_id == BRIEF_SENT


def test_round_robin_alternates_between_active_managers(studio):
    first, second = UserFactory(), UserFactory()
    UserFactory(is_active=False)
    picks = [services.pick_manager() for _ in range(4)]
    assert picks == [first, second, first, second]


def test_default_manager_rule_always_picks_the_default(studio):
    _first, second = UserFactory(), UserFactory()
    studio.assignment_rule = Studio.Assignment.DEFAULT_MANAGER
    studio.default_manager = second
    studio.save()
    assert {services.pick_manager() for _ in range(3)} == {second}


def test_due_task_reminds_its_assignee_once(manager):
    task = TaskFactory(assignee=manager, due_at=timezone.now() - timedelta(minutes=1))
    TaskFactory(assignee=manager, due_at=timezone.now() + timedelta(days=1))
    assert services.send_due_reminders() == 1
    assert services.send_due_reminders() == 0
    message = Outbox.objects.get()
    assert message.to == manager.email and task.title in message.subject


def test_only_the_assignee_or_an_owner_completes_a_task(manager, other_manager, owner):
    task = TaskFactory(assignee=manager)
    with pytest.raises(services.NotAllowed):
        services.complete_task(task, actor=other_manager)
    task.refresh_from_db()
    assert not task.done
    services.complete_task(task, actor=owner)
    task.refresh_from_db()
    assert task.done and task.done_at


def test_audit_log_is_append_only(manager):
    deal = DealFactory(manager=manager)
    services.add_note(deal, "hello", actor=manager)
    row = AuditLog.objects.get(verb="deal.note_added")
    row.verb = "changed"
    with pytest.raises(AuditLogImmutable):
        row.save()
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.all().delete()
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.update(verb="x")
    assert AuditLog.objects.filter(verb="deal.note_added").count() == 1


def test_manager_can_take_an_unassigned_deal_but_not_reassign_others(manager, other_manager):
    unassigned = DealFactory(manager=None, client=ClientFactory())
    services.assign_deal(unassigned, manager, actor=manager)
    unassigned.refresh_from_db()
    assert unassigned.manager == manager
    with pytest.raises(services.NotAllowed):
        services.assign_deal(unassigned, other_manager, actor=other_manager)
    unassigned.refresh_from_db()
    assert unassigned.manager == manager
