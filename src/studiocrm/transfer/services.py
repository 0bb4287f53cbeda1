"""Import: upload → mapping → dry run → confirm → one all-or-nothing transaction
(``importing``).

Imported deals emit no events (see ``importing``).
"""

from __future__ import annotations

import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from studiocrm.core.models import User
from studiocrm.transfer import mapping as columns
from studiocrm.transfer.importing import load_table, run_import
from studiocrm.transfer.models import ImportJob
from studiocrm.transfer.planning import build_plan
from studiocrm.transfer.reading import Table, read_table
from studiocrm.transfer.tasks import run_check_task, run_import_task

# Up to this many rows the import runs in the request; above it, in the worker.
INLINE_ROWS = 2000


class ImportRefused(Exception):
    """The job is not in a state to do this (already imported, not checked, …)."""


def create_job(name: str, raw: bytes, *, actor: User) -> ImportJob:
    """Read the upload (UnreadableFile if it is not a table) and keep it privately."""
    table = read_table(name, raw)
    job = ImportJob(
        original_name=name[:255],
        file_format=table.file_format,
        encoding=table.encoding,
        delimiter=table.delimiter,
        headers=table.headers,
        row_count=len(table.rows),
        mapping=columns.guess_mapping(table.headers),
        created_by=actor,
    )
    job.file.save(f"{uuid.uuid4().hex}.{table.file_format}", ContentFile(raw), save=False)
    job.save()
    return job


def stage_names(job: ImportJob, table: Table) -> list[str]:
    """The distinct stage names in the file's stage column, in order of appearance."""
    column = next((int(i) for i, name in job.mapping.items() if name == "deal_stage"), None)
    if column is None:
        return []
    seen: dict[str, None] = {}
    for row in table.rows:
        value = " ".join(str(row[column] if column < len(row) else "" or "").split())
        if value and value != "None":
            seen.setdefault(value, None)
    return list(seen)


BUSY = (
    ImportJob.Status.CHECKING,
    ImportJob.Status.QUEUED,
    ImportJob.Status.RUNNING,
    ImportJob.Status.DONE,
)


def start_check(
    job: ImportJob, mapping: dict[str, str], stage_mapping: dict[str, str], *, actor: User
) -> bool:
    """The dry run, in this request for small files (True), else in the worker."""
    if job.row_count <= INLINE_ROWS:
        check(job, mapping, stage_mapping, actor=actor)
        return True
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status in BUSY:
            raise ImportRefused(_("This file is already imported or being imported."))
        job.mapping = mapping
        job.stage_mapping = stage_mapping
        job.status = ImportJob.Status.CHECKING
        job.report = {}
        job.save(update_fields=["mapping", "stage_mapping", "status", "report"])
        transaction.on_commit(lambda: run_check_task.enqueue(job.pk))
    return False


def check(
    job: ImportJob, mapping: dict[str, str], stage_mapping: dict[str, str], *, actor: User
) -> ImportJob:
    """The dry run: store the mapping and the plan's report; change nothing else."""
    if job.status in BUSY:
        raise ImportRefused(_("This file is already imported or being imported."))
    table = load_table(job)
    plan = build_plan(table, mapping, stage_mapping, actor=actor)
    job.mapping = mapping
    job.stage_mapping = stage_mapping
    job.report = plan.report()
    job.status = ImportJob.Status.CHECKED
    job.save(update_fields=["mapping", "stage_mapping", "report", "status"])
    return job


def confirm(job: ImportJob, *, actor: User) -> bool:
    """Start the import: in this request for small files (True), else in the worker."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.CHECKED:
            raise ImportRefused(_("Check the file again before importing."))
        job.status = ImportJob.Status.QUEUED
        job.save(update_fields=["status"])
        if job.row_count > INLINE_ROWS:
            transaction.on_commit(lambda: run_import_task.enqueue(job.pk))
            return False
    run_import(job.pk)
    return True
