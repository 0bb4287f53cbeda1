"""The audit log is a hash chain: any change, deletion or insertion is found and named."""

from __future__ import annotations

import importlib
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from studiocrm.core import audit
from studiocrm.core.models import AuditChainHead, AuditLog, AuditLogImmutable, Studio

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks under concurrency need PostgreSQL"
)


def _three_rows(owner) -> list[AuditLog]:
    studio = Studio.load()
    return [
        audit.record("studio.updated", studio, actor=owner, data={"fields": ["name"]}),
        audit.record("studio.updated", studio, actor=None, data={"from": "Пробный", "to": 1.5}),
        audit.record("user.activated", owner, actor=owner),
    ]


def _verify() -> str:
    """Run the command; return its output, or raise CommandError."""
    from io import StringIO

    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


def _raw(sql: str, params: list) -> None:
    """Tamper as someone with database access would: straight SQL, past the ORM's guard."""
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("%t", AuditLog._meta.db_table), params)


@pytest.mark.django_db
def test_each_row_carries_the_previous_rows_hash_and_the_chain_verifies(owner):
    first, second, third = _three_rows(owner)

    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert len(third.hash) == 64
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_id, head.last_hash) == (third.pk, third.hash)
    assert f"head {third.hash}" in _verify()


@pytest.mark.django_db
def test_a_changed_row_is_named(owner):
    first, second, third = _three_rows(owner)
    _raw("UPDATE %t SET data = %s WHERE id = %s", ['{"fields": ["bank_account"]}', second.pk])

    with pytest.raises(CommandError, match=f"row #{second.pk} was changed"):
        _verify()


@pytest.mark.django_db
def test_a_changed_actor_is_named(owner):
    first, second, third = _three_rows(owner)
    _raw("UPDATE %t SET actor_label = %s WHERE id = %s", ["someone else", first.pk])

    with pytest.raises(CommandError, match=f"row #{first.pk} was changed"):
        _verify()


@pytest.mark.django_db
def test_a_deleted_row_breaks_the_chain_at_the_row_after_it(owner):
    first, second, third = _three_rows(owner)
    _raw("DELETE FROM %t WHERE id = %s", [second.pk])

    with pytest.raises(CommandError, match=f"row #{third.pk} does not follow row #{first.pk}"):
        _verify()


@pytest.mark.django_db
def test_a_forged_row_put_in_place_of_a_deleted_one_is_found(owner):
    first, second, third = _three_rows(owner)
    _raw("DELETE FROM %t WHERE id = %s", [second.pk])
    forged = AuditLog(
        pk=second.pk,
        at=second.at,
        actor_label="system",
        verb="studio.updated",
        object_type="core.studio",
        object_id="1",
        data={},
        prev_hash=first.hash,
    )
    forged.hash = audit.row_hash(forged, first.hash)  # a well-made link to the row before
    AuditLog.objects.bulk_create([forged])

    with pytest.raises(CommandError, match=f"row #{third.pk} does not follow row #{second.pk}"):
        _verify()


@pytest.mark.django_db
def test_rows_cut_off_the_end_are_noticed(owner):
    first, second, third = _three_rows(owner)
    _raw("DELETE FROM %t WHERE id = %s", [third.pk])

    with pytest.raises(CommandError, match="rows were cut off the end"):
        _verify()


@pytest.mark.django_db
def test_a_row_appended_outside_the_chain_is_noticed(owner):
    first, second, third = _three_rows(owner)
    extra = AuditLog(
        actor_label="system", verb="x", object_type="core.studio", object_id="1", data={}
    )
    extra.prev_hash = third.hash
    extra.hash = audit.row_hash(extra, third.hash)
    AuditLog.objects.bulk_create([extra])

    with pytest.raises(CommandError, match="added outside the chain"):
        _verify()


@pytest.mark.django_db
def test_the_orm_refuses_to_change_or_delete_rows(owner):
    row = audit.record("studio.updated", Studio.load(), actor=owner)
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.filter(pk=row.pk).update(verb="other")
    with pytest.raises(AuditLogImmutable):
        row.delete()
    _verify()


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_the_chain_whole(owner):
    audit.record("studio.updated", Studio.load(), actor=owner)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("studio.updated", Studio.load(), actor=owner)
        raise RuntimeError("the service failed after auditing")
    audit.record("user.activated", owner, actor=owner)

    assert "3 rows" not in _verify()
    assert "2 rows" in _verify()


@pytest.mark.django_db
def test_the_migration_chains_rows_written_before_the_chain_existed(owner):
    migration = importlib.import_module("studiocrm.core.migrations.0002_audit_hash_chain")
    AuditLog.objects.bulk_create(
        [
            AuditLog(
                actor=owner,
                actor_label=str(owner),
                verb=f"old.{n}",
                object_type="core.user",
                object_id=str(owner.pk),
                data={"n": n},
            )
            for n in range(5)
        ]
    )
    AuditChainHead.objects.all().delete()
    with pytest.raises(CommandError):
        _verify()

    from django.db.migrations.loader import MigrationLoader

    state = MigrationLoader(connection).project_state(("core", "0002_audit_hash_chain"))
    migration.chain_existing_rows(state.apps, None)

    assert "5 rows" in _verify()
    rows = list(AuditLog.objects.order_by("pk"))
    assert rows[0].prev_hash == "" and rows[4].prev_hash == rows[3].hash


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_postgresql_form_one_chain(owner):
    writers, rows_each = 8, 5
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []
    studio = Studio.load()

    def write(number: int) -> None:
        try:
            barrier.wait()
            for step in range(rows_each):
                with transaction.atomic():
                    audit.record("studio.updated", studio, actor=None, data={"w": number})
                    # Hold the transaction open so the writers overlap.
                    time.sleep(0.002)
                    audit.record("studio.updated", studio, actor=None, data={"s": step})
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert f"{writers * rows_each * 2} rows" in _verify()
    hashes = list(AuditLog.objects.values_list("prev_hash", flat=True))
    assert len(set(hashes)) == len(hashes)  # no two rows claim the same predecessor


@pytest.mark.django_db
def test_a_row_saved_past_the_chain_is_refused():
    with pytest.raises(AuditLogImmutable):
        AuditLog.objects.create(
            actor_label="system", verb="x", object_type="core.studio", object_id="1"
        )
    assert not AuditLog.objects.exists()
