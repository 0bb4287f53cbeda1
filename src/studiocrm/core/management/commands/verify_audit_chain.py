"""Check that no audit row was changed, deleted or inserted since it was written.

Exits 0 and prints the row count and the head hash (worth recording somewhere else, e.g. in
a daily log, so that even a rewrite of the whole chain is noticed); exits 1 naming the first
broken row otherwise.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from studiocrm.core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; name the first broken row and exit 1 if any."

    def handle(self, *args: object, **options: object) -> None:
        report = verify_chain()
        if report.problem is not None:
            raise CommandError(f"Audit chain broken: {report.problem.message}.")
        self.stdout.write(
            f"Audit chain intact: {report.rows} rows, head {report.head_hash or '(empty)'}."
        )
