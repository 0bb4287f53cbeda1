"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models

from studiocrm.core import crypto


class EncryptedTextField(models.TextField):
    """Text encrypted at rest with the keys in ``FIELD_ENCRYPTION_KEY`` (core.crypto).

    Python code sees plain text; the column holds a Fernet token. An empty value is stored
    empty (the pages show whether a secret is set anyway). The column cannot be searched or
    compared in SQL: every encryption of the same value differs. Put one on any model that
    keeps a secret (provider keys, a mailbox password) and ``manage.py reencrypt_fields``
    rotates it with the others."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        try:
            return crypto.decrypt(value)
        except crypto.DecryptionFailed as error:
            raise crypto.DecryptionFailed(
                f"{self.model._meta.label}.{self.name}: {error}"
            ) from None

    def get_lookup(self, lookup_name: str) -> Any:
        # A filter on the value could never match (each encryption differs): refuse it
        # rather than answer "nothing" silently. Only "is it set at all" works.
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(value)
