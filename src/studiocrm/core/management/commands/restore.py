"""Restore a backup made by ``manage.py backup`` into an empty database, then verify it.

    manage.py restore PATH [--force]

Refuses a database that has tables (make a new one: ``createdb``, or point DATABASE_URL at a
new SQLite file) unless ``--force``, which drops everything in it first. After restoring it
compares every table's row count, the migrations, every file's checksum and the audit chain
with the backup's manifest, and exits 1 naming what differs.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from studiocrm.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database and check it against its manifest."

    def add_arguments(self, parser: object) -> None:
        parser.add_argument("archive")  # type: ignore[attr-defined]
        parser.add_argument(  # type: ignore[attr-defined]
            "--force",
            action="store_true",
            help="replace a database that is not empty (everything in it is dropped)",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            report = restore_backup(Path(str(options["archive"])), force=bool(options["force"]))
        except BackupError as error:
            raise CommandError(f"Restore failed: {error}") from None
        if report.problems:
            listed = "\n  ".join(report.problems)
            raise CommandError(f"Restored, but it does not match the backup:\n  {listed}")
        self.stdout.write(
            f"Restored and verified: {report.tables} tables, {report.rows} rows, "
            f"{report.files} files, audit chain intact ({report.audit_rows} rows)."
        )
