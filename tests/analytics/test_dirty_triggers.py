"""The database triggers of analytics/migrations/0004: every write a report depends on
queues its deal in `DirtyDeal`, whoever writes it — save(), QuerySet.update() (which skips
save() and so every signal) or raw SQL. Each test empties the queue, makes one write and
checks which deal ids were queued (a deal may be queued more than once; the reader removes
duplicates)."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from studiocrm.analytics.models import DirtyDeal
from studiocrm.billing.models import Invoice, Payment
from studiocrm.briefs import services as brief_services
from studiocrm.briefs.models import BriefTemplate
from studiocrm.core import audit
from studiocrm.core.models import AuditLog
from studiocrm.deals.models import Deal, StageChange
from studiocrm.documents import services as document_services
from studiocrm.estimates.models import Estimate
from tests.analytics.history import _invoice, _payment
from tests.documents.conftest import (  # noqa: F401 - autouse fixtures: no cache, PDFs in tmp
    clean_cache,
    make_estimated_deal,
    private_root,
    restore_migration_data,
)
from tests.factories import DealFactory, TaskFactory

pytestmark = pytest.mark.django_db

triggers = importlib.import_module("studiocrm.analytics.migrations.0004_dirty_deal_triggers")


def clear() -> None:
    DirtyDeal.objects.all().delete()


def queued() -> list[int]:
    return sorted(DirtyDeal.objects.values_list("deal_id", flat=True))


@pytest.fixture
def deal(manager):
    return DealFactory(manager=manager)


@pytest.fixture
def rub_prices(db):
    """The rows the data migrations made (price lists, brief templates), which the flush
    of a transactional test may have removed."""
    return restore_migration_data()


@pytest.fixture
def invoice(deal):
    return _invoice(deal, Decimal("1000.00"), timezone.now(), timezone.localdate())


def installed_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'analytics_dirty%%'")
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'analytics_dirty%%'"
            )
        return {name for (name,) in cursor.fetchall()}


def test_every_trigger_is_installed():
    """On SQLite, a migration that alters one of these tables copies it to a new one and
    drops its triggers with the old: this fails until that migration installs them again."""
    assert installed_triggers() == triggers.trigger_names(connection.vendor)
    assert len(installed_triggers()) == (8 if connection.vendor == "postgresql" else 22)


# --- deals -----------------------------------------------------------------------------


def test_a_new_deal_is_queued(manager):
    clear()
    deal = DealFactory(manager=manager)
    assert set(queued()) == {deal.pk}


def test_a_deal_changed_by_queryset_update_is_queued(deal, other_manager):
    clear()
    Deal.objects.filter(pk=deal.pk).update(manager=other_manager)
    assert queued() == [deal.pk]


def test_a_deleted_deal_is_queued_under_its_old_id(deal):
    deal_id = deal.pk
    clear()
    deal.delete()
    assert set(queued()) == {deal_id}


def test_raw_sql_is_seen(deal):
    clear()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE deals_deal SET title = %s WHERE id = %s", ["Renamed", deal.pk])
    assert queued() == [deal.pk]


def test_a_stage_change_alone_queues_nothing(deal):
    """The stage history is followed by the facts' watermark, not by a trigger."""
    clear()
    StageChange.objects.create(deal=deal, from_stage_id=None, to_stage_id="new")
    assert queued() == []


# --- invoices and payments --------------------------------------------------------------


def test_a_new_invoice_is_queued_under_its_deal(deal):
    clear()
    _invoice(deal, Decimal("1000.00"), timezone.now(), timezone.localdate())
    assert queued() == [deal.pk]


def test_an_updated_invoice_is_queued_under_its_deal(invoice):
    clear()
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.PAID)
    assert queued() == [invoice.deal_id]


def test_an_invoice_moved_to_another_deal_queues_both(invoice, manager):
    other = DealFactory(manager=manager)
    clear()
    Invoice.objects.filter(pk=invoice.pk).update(deal=other)
    assert queued() == sorted([invoice.deal_id, other.pk])


def test_a_deleted_invoice_is_queued_under_its_deal(invoice):
    clear()
    Invoice.objects.filter(pk=invoice.pk).delete()
    assert queued() == [invoice.deal_id]


def test_a_new_payment_is_queued_under_its_invoices_deal(invoice):
    clear()
    _payment(invoice, Decimal("400.00"), timezone.now())
    assert queued() == [invoice.deal_id]


def test_a_payment_status_changed_by_queryset_update_is_queued(invoice):
    payment = _payment(invoice, Decimal("400.00"), timezone.now())
    clear()
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)
    assert queued() == [invoice.deal_id]


def test_a_deleted_payment_is_queued(invoice):
    payment = _payment(invoice, Decimal("400.00"), timezone.now())
    clear()
    Payment.objects.filter(pk=payment.pk).delete()
    assert queued() == [invoice.deal_id]


# --- tasks ------------------------------------------------------------------------------


def test_a_task_of_a_deal_is_queued_under_it(deal):
    clear()
    TaskFactory(deal=deal)
    assert queued() == [deal.pk]


def test_a_task_without_a_deal_queues_nothing(manager):
    clear()
    task = TaskFactory(deal=None, assignee=manager)
    type(task).objects.filter(pk=task.pk).update(done=True)
    task.delete()
    assert queued() == []


# --- briefs, estimates, documents (and the audit rows of everything) -------------------


@pytest.fixture
def objects(manager, rub_prices):
    """A deal with a saved estimate, a proposal and a brief, made by the services, and an
    invoice and a task. Two deals before it keep its id apart from its objects' ids."""
    DealFactory.create_batch(2, manager=manager)
    deal = make_estimated_deal(manager, rub_prices)
    proposal = document_services.create_proposal(deal, actor=manager)
    template = BriefTemplate.objects.get(default_key="corporate", language="ru")
    brief = brief_services.send_brief(deal, template, actor=manager)
    return {
        "brief": brief,
        "estimate": Estimate.objects.filter(deal=deal).first(),
        "document": proposal,
        "invoice": _invoice(deal, Decimal("1000.00"), timezone.now(), timezone.localdate()),
        "task": TaskFactory(deal=deal),
        "deal": deal,
    }


@pytest.mark.parametrize("kind", ["brief", "estimate", "document", "task"])
def test_objects_changed_by_queryset_update_are_queued_under_their_deal(objects, kind):
    obj = objects[kind]
    clear()
    type(obj).objects.filter(pk=obj.pk).update(deal_id=obj.deal_id)
    assert queued() == [objects["deal"].pk]


@pytest.mark.parametrize("kind", ["deal", "brief", "estimate", "document", "invoice", "task"])
def test_an_audit_row_is_queued_under_its_objects_deal(objects, manager, kind):
    assert kind == "deal" or objects[kind].pk != objects["deal"].pk
    clear()
    audit.record(f"{kind}.updated", objects[kind], actor=manager)
    assert queued() == [objects["deal"].pk]


def test_an_audit_row_of_an_estimate_is_queued_under_the_estimates_deal(manager, rub_prices):
    DealFactory.create_batch(2, manager=manager)
    deal = make_estimated_deal(manager, rub_prices)
    estimate = Estimate.objects.get(deal=deal)
    assert estimate.pk != deal.pk  # else the test could not tell the two apart
    clear()
    audit.record("estimate.updated", estimate, actor=manager)
    assert queued() == [deal.pk]


def test_an_audit_row_of_another_kind_of_object_queues_nothing(owner, manager):
    clear()
    audit.record("user.updated", manager, actor=owner)
    assert queued() == []


@pytest.mark.parametrize(
    "object_type", ["core.user", "deals.deal", "estimates.estimate", "billing.invoice"]
)
@pytest.mark.parametrize("object_id", ["abc", "", "12x", " 12", "-1", "99999999999999999999"])
def test_an_audit_row_with_an_id_that_is_not_a_number_queues_nothing_and_fails_nothing(
    deal, object_type, object_id
):
    clear()
    audit.append_rows([AuditLog(verb="x.updated", object_type=object_type, object_id=object_id)])
    assert AuditLog.objects.filter(object_type=object_type, object_id=object_id).exists()
    assert queued() == []


def test_an_audit_row_of_a_deal_id_with_no_row_queues_the_id_for_a_deal_only(manager):
    """A deal's audit row names the deal itself; other objects must exist to have a deal."""
    clear()
    audit.append_rows(
        [
            AuditLog(verb="deal.deleted", object_type="deals.deal", object_id="987654"),
            AuditLog(verb="task.deleted", object_type="deals.task", object_id="987654"),
        ]
    )
    assert queued() == [987654]
