"""Back up the database and every stored file into one archive (see core.backup).

    manage.py backup [--output PATH]

Safe while the web server and workers run. Prints the archive's path and what it holds.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from studiocrm.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Back up the database and uploaded/private files into one .tar.gz with a manifest."

    def add_arguments(self, parser: object) -> None:
        parser.add_argument(  # type: ignore[attr-defined]
            "--output",
            help="archive to write (default: DATA_DIR/backups/studiocrm-<time>.tar.gz)",
        )

    def handle(self, *args: object, **options: object) -> None:
        output = options["output"] or (
            Path(settings.DATA_DIR) / "backups" / f"studiocrm-{timezone.now():%Y%m%d-%H%M%S}.tar.gz"
        )
        try:
            manifest = create_backup(Path(str(output)))
        except BackupError as error:
            raise CommandError(f"Backup failed: {error}") from None
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Backup written: {output} ({manifest['database']['engine']}, "
            f"{len(manifest['tables'])} tables, {rows} rows, {len(manifest['files'])} files)."
        )
