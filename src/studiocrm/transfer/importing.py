"""The import itself: one transaction, bulk writes, progress in the cache.

Imported deals are history, not news: they are written in bulk with no ``deals.events``
event, so ``flow`` sends no client letter, starts no automation timer and rings no bell.
Each imported deal carries ``intake_key = "import:<job>:<row>"`` (the unique key every
intake channel uses): it marks the deal as imported and makes a repeated import of the same
row fail instead of doubling it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from studiocrm.clients.models import Client, Contact
from studiocrm.clients.phones import normalize_phone
from studiocrm.core import audit
from studiocrm.core.models import User
from studiocrm.deals.models import (
    LOST,
    OTHER_LOST_REASON,
    Deal,
    LostReason,
    Note,
    Stage,
    StageChange,
)
from studiocrm.transfer.models import ImportJob
from studiocrm.transfer.planning import SKIP, Plan, build_plan
from studiocrm.transfer.reading import Table, UnreadableFile, read_table

log = logging.getLogger(__name__)
BATCH = 1000


def load_table(job: ImportJob) -> Table:
    with job.file.open("rb") as handle:
        return read_table(job.original_name, handle.read())


def progress_key(job_id: int) -> str:
    return f"transfer:progress:{job_id}"


def run_check(job_id: int) -> None:
    """The dry run of a large file, in the worker: the plan's report, nothing else saved."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.CHECKING).first()
    if job is None:
        return
    try:
        plan = build_plan(load_table(job), job.mapping, job.stage_mapping, actor=job.created_by)
    except Exception as error:  # noqa: BLE001 - the owner must see it
        log.exception("transfer: check %s failed", job_id)
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.CHECKING).update(
            status=ImportJob.Status.FAILED, error=str(error)[:2000]
        )
        return
    ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.CHECKING).update(
        status=ImportJob.Status.CHECKED, report=plan.report(), error=""
    )


def run_import(job_id: int, *, on_progress: Callable[[int, int], None] | None = None) -> None:
    """Import a queued job in one transaction: everything or nothing. Claims the job with a
    conditional UPDATE, so two workers never import it twice."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    )
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)
    actor = job.created_by

    def progress(done: int, total: int) -> None:
        # In the cache, not the job row: the row is inside the import's transaction and
        # nobody else could see the numbers until it commits.
        cache.set(progress_key(job_id), [done, total], 3600)
        if on_progress:
            on_progress(done, total)

    try:
        table = load_table(job)
        with transaction.atomic():
            plan = build_plan(table, job.mapping, job.stage_mapping, actor=actor)
            counts = apply_plan(plan, job=job, actor=actor, progress=progress)
            report = plan.report()
            report["counts"].update(counts)
            job.report = report
            job.status = ImportJob.Status.DONE
            job.finished_at = timezone.now()
            job.save(update_fields=["report", "status", "finished_at"])
            audit.record(
                "transfer.imported",
                job,
                actor=actor,
                data={"file": job.original_name, **plan.counts()},
            )
    except (Exception, UnreadableFile) as error:  # noqa: BLE001 - the owner must see it
        log.exception("transfer: import %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
    finally:
        cache.delete(progress_key(job_id))


def _batches(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def apply_plan(
    plan: Plan, *, job: ImportJob, actor: User | None, progress: Callable[[int, int], None]
) -> dict[str, int]:
    """Write the plan in bulk (inside the caller's transaction)."""
    total = (
        len(plan.new_clients)
        + len(plan.new_contacts)
        + sum(1 for row in plan.rows if row.deal is not None and row.action != SKIP)
    )
    done = 0
    clients = [
        Client(name=item["name"][:300], kind=item["kind"], tax_id=item["tax_id"])
        for item in plan.new_clients
    ]
    for batch in _batches(clients):
        Client.objects.bulk_create(batch)
        done += len(batch)
        progress(done, total)
    for pk, changes in plan.client_updates.items():
        Client.objects.filter(pk=pk, tax_id="").update(**changes)
    contacts = [
        Contact(
            client_id=item["client_pk"] if item["client_pk"] else clients[item["client"]].pk,
            name=item["name"][:200],
            email=item["email"],
            phone=item["phone"],
            phone_normalized=item["phone_normalized"],
            position=item["position"][:200],
        )
        for item in plan.new_contacts
    ]
    for batch in _batches(contacts):
        Contact.objects.bulk_create(batch)
        done += len(batch)
        progress(done, total)
    for pk, changes in plan.contact_updates.items():
        contact = Contact.objects.get(pk=pk)
        for name, value in changes.items():
            setattr(contact, name, value)
        fields = list(changes)
        if "phone" in changes:
            contact.phone_normalized = normalize_phone(contact.phone)
            fields.append("phone_normalized")
        contact.save(update_fields=fields)
    stage_kinds = dict(Stage.objects.values_list("code", "kind"))
    other_reason = LostReason.objects.filter(code=OTHER_LOST_REASON).first()
    now = timezone.now()
    deal_rows = [row for row in plan.rows if row.deal is not None and row.action != SKIP]
    for batch in _batches(deal_rows):
        deals = []
        for row in batch:
            item = row.deal
            created = item["deal_created"] or now
            is_open = stage_kinds[item["stage"]] == Stage.Kind.OPEN
            closed = None if is_open else (item["deal_closed"] or created)
            deals.append(
                Deal(
                    title=item["title"][:300],
                    client_id=row.client.pk if row.client.pk else clients[row.client.new].pk,
                    contact_id=(
                        None
                        if row.contact is None
                        else row.contact.pk or contacts[row.contact.new].pk
                    ),
                    manager_id=item["manager"],
                    stage_id=item["stage"],
                    currency=item["currency"],
                    expected_amount=item["amount"],
                    lost_reason=_("Imported") if item["stage"] == LOST else "",
                    lost_reason_choice=other_reason if item["stage"] == LOST else None,
                    intake_key=f"import:{job.pk}:{row.number}",
                    created_at=created,
                    stage_changed_at=closed or created,
                    closed_at=closed,
                )
            )
        Deal.objects.bulk_create(deals)
        StageChange.objects.bulk_create(
            [
                StageChange(
                    deal=deal,
                    from_stage=None,
                    to_stage_id=deal.stage_id,
                    at=deal.created_at,
                    by=actor,
                )
                for deal in deals
            ]
        )
        Note.objects.bulk_create(
            [
                Note(deal=deal, author=actor, text=row.deal["notes"], created_at=deal.created_at)
                for deal, row in zip(deals, batch, strict=True)
                if row.deal["notes"]
            ]
        )
        done += len(batch)
        progress(done, total)
    return {"deals_created": len(deal_rows)}
