"""Re-encrypt every encrypted field with the current (first) key of FIELD_ENCRYPTION_KEY.

Run after putting a new key first; when it reports every value on the current key, the old
key may be removed from the list. ``--check`` only counts values still on an old key.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models.functions import Cast

from studiocrm.core import crypto
from studiocrm.core.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt secrets stored in the database with the first FIELD_ENCRYPTION_KEY."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="change nothing; exit 1 if a value is on an old key",
        )

    def handle(self, *args: object, **options: Any) -> None:
        total = 0
        for model, names in _encrypted_fields():
            if options["check"]:
                continue
            with transaction.atomic():
                # Each value decrypts with whichever key made it; saving it again encrypts it
                # with the first key. Rows are locked so a concurrent edit is not lost.
                for row in model._default_manager.select_for_update().only("pk", *names):
                    values = {name: getattr(row, name) for name in names}
                    model._default_manager.filter(pk=row.pk).update(**values)
                    total += 1
            self.stdout.write(f"{model._meta.label}: {', '.join(names)} re-encrypted")
        stale = sum(_count_on_old_keys(model, names) for model, names in _encrypted_fields())
        if stale:
            raise CommandError(f"{stale} stored values are still encrypted with an old key.")
        self.stdout.write(f"Every stored secret uses the current key ({total} rows re-encrypted).")


def _encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def _count_on_old_keys(model: type[models.Model], names: list[str]) -> int:
    """Values whose ciphertext (read past the field's decryption) is not on the first key."""
    raw = {f"raw_{name}": Cast(name, output_field=models.TextField()) for name in names}
    stale = 0
    for row in model._default_manager.annotate(**raw).values(*raw):
        stale += sum(1 for token in row.values() if token and not crypto.is_current(token))
    return stale
