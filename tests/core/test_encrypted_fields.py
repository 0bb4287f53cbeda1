"""Provider secrets are encrypted at rest, rotate with a new key, and never reach the audit
log; production refuses to start without a key."""

from __future__ import annotations

import importlib
import json
import types
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from studiocrm.billing import services
from studiocrm.billing.models import ProviderAccount
from studiocrm.core import crypto
from studiocrm.core.models import AuditLog
from tests.core.test_env import _manage

SECRET = "sk_live_51Hsupersecretvalue_0042"
WEBHOOK = "whsec_verysecretsigningkey_77"
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


STORED_SQL = {
    "secret_key": "SELECT secret_key FROM billing_provideraccount WHERE id = %s",
    "webhook_secret": "SELECT webhook_secret FROM billing_provideraccount WHERE id = %s",
}


def _stored(pk: int, column: str = "secret_key") -> str:
    """What the database really holds, read past the model field."""
    with connection.cursor() as cursor:
        cursor.execute(STORED_SQL[column], [pk])
        return cursor.fetchone()[0]


def _save_stripe(owner) -> ProviderAccount:
    account, _created = ProviderAccount.objects.get_or_create(provider="stripe")
    return services.save_provider_account(
        account, {"secret_key": SECRET, "webhook_secret": WEBHOOK, "enabled": True}, actor=owner
    )


@pytest.mark.django_db
def test_secrets_are_stored_encrypted_and_read_back_plain(owner):
    account = _save_stripe(owner)

    stored = _stored(account.pk)
    assert SECRET not in stored and stored.startswith("gAAAA")
    assert crypto.decrypt(stored) == SECRET
    assert ProviderAccount.objects.get(pk=account.pk).secret_key == SECRET
    assert ProviderAccount.objects.get(pk=account.pk).webhook_secret == WEBHOOK


@pytest.mark.django_db
def test_the_audit_log_says_a_secret_changed_never_its_value(owner):
    _save_stripe(owner)

    (row,) = AuditLog.objects.filter(verb="billing.provider_settings_changed")
    assert set(row.data["fields"]) == {"secret_key", "webhook_secret", "enabled"}
    everything = json.dumps(list(AuditLog.objects.values()), default=str)
    assert SECRET not in everything and WEBHOOK not in everything
    assert SECRET[-8:] not in everything


@pytest.mark.django_db
def test_filtering_on_an_encrypted_value_is_refused_not_silently_empty(owner):
    _save_stripe(owner)
    with pytest.raises(FieldError):
        ProviderAccount.objects.filter(secret_key=SECRET).exists()


@pytest.mark.django_db
def test_rotation_new_key_first_then_reencrypt_then_drop_the_old_key(owner):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        account = _save_stripe(owner)
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        # Both keys decrypt; what is stored is still on the old key.
        assert ProviderAccount.objects.get(pk=account.pk).secret_key == SECRET
        with pytest.raises(CommandError, match="2 stored values are still encrypted"):
            call_command("reencrypt_fields", "--check", stdout=StringIO())
        out = StringIO()
        call_command("reencrypt_fields", stdout=out)
        assert "Every stored secret uses the current key" in out.getvalue()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert Fernet(NEW_KEY).decrypt(_stored(account.pk).encode()).decode() == SECRET
        reloaded = ProviderAccount.objects.get(pk=account.pk)
        assert (reloaded.secret_key, reloaded.webhook_secret) == (SECRET, WEBHOOK)


@pytest.mark.django_db
def test_a_value_no_key_decrypts_fails_loudly_naming_the_field(owner):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]):
        account = _save_stripe(owner)
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]),
        pytest.raises(crypto.DecryptionFailed, match="billing.ProviderAccount.secret_key"),
    ):
        ProviderAccount.objects.get(pk=account.pk)


@pytest.mark.django_db
def test_the_migration_encrypts_existing_plain_values_once(owner):
    migration = importlib.import_module(
        "studiocrm.billing.migrations.0004_provider_secrets_encrypted"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_provideraccount (provider, enabled, account_id, secret_key, "
            "webhook_secret, options, updated_at) VALUES ('yookassa', %s, '100500', %s, '', "
            "'{}', %s)",
            [True, "live_plain_secret", "2026-01-01T00:00:00Z"],
        )
    pk = ProviderAccount.objects.only("pk").get(provider="yookassa").pk
    editor = types.SimpleNamespace(connection=connection)

    migration.encrypt_existing(None, editor)
    once = _stored(pk)
    migration.encrypt_existing(None, editor)  # a second run leaves encrypted values alone

    assert once != "live_plain_secret" and _stored(pk) == once
    assert _stored(pk, "webhook_secret") == ""
    assert ProviderAccount.objects.get(pk=pk).secret_key == "live_plain_secret"
    migration.decrypt_existing(None, editor)
    assert _stored(pk) == "live_plain_secret"


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "-production-like-secret-key-for-the-test-0123456789",
    "ALLOWED_HOSTS": "crm.example.com",
    "BASE_URL": "https://crm.example.com",
}


def test_production_without_an_encryption_key_refuses_to_start(tmp_path):
    result = _manage("check", DATA_DIR=str(tmp_path), **PRODUCTION)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY (or FIELD_ENCRYPTION_KEY_FILE) must be set" in result.stderr


def test_a_malformed_encryption_key_refuses_to_start(tmp_path):
    result = _manage(
        "check", DATA_DIR=str(tmp_path), FIELD_ENCRYPTION_KEY=f"{NEW_KEY},not-a-key", **PRODUCTION
    )
    assert result.returncode != 0
    assert "key 2 is not a Fernet key" in result.stderr


def test_keys_may_come_from_a_file_first_one_encrypting(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(f"{NEW_KEY}\n{OLD_KEY}\n")
    result = _manage(
        "shell",
        "-c",
        "from studiocrm.core import crypto; from django.conf import settings; "
        "print(len(settings.FIELD_ENCRYPTION_KEYS), crypto.is_current(crypto.encrypt('x')))",
        DATA_DIR=str(tmp_path),
        FIELD_ENCRYPTION_KEY_FILE=str(key_file),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "2 True"
    assert Fernet(NEW_KEY)  # the first key is the one in use


def test_development_derives_a_key_from_its_own_secret(tmp_path):
    script = "from django.conf import settings; print(settings.FIELD_ENCRYPTION_KEYS[0])"
    first = _manage("shell", "-c", script, DATA_DIR=str(tmp_path), SECRET_KEY="dev-one-" * 8)
    second = _manage("shell", "-c", script, DATA_DIR=str(tmp_path), SECRET_KEY="dev-two-" * 8)
    assert first.returncode == 0, first.stderr
    first_key, second_key = (r.stdout.strip().splitlines()[-1] for r in (first, second))
    assert first_key != second_key and "dev-one" not in first_key
    Fernet(first_key)  # a valid key
