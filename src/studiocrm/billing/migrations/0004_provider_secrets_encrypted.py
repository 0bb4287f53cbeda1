from django.db import migrations

import studiocrm.core.fields
from studiocrm.core import crypto

SECRET_COLUMNS = ("secret_key", "webhook_secret")


def _rewrite(schema_editor, change):
    """Rewrite each stored secret with ``change`` in plain SQL: the model field would
    decrypt on read, and these values are not encrypted yet (or any more)."""
    table = schema_editor.connection.ops.quote_name("billing_provideraccount")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(SECRET_COLUMNS)} FROM {table}")
        for pk, *values in cursor.fetchall():
            new_values = [change(value) if value else value for value in values]
            assignments = ", ".join(f"{column} = %s" for column in SECRET_COLUMNS)
            cursor.execute(f"UPDATE {table} SET {assignments} WHERE id = %s", [*new_values, pk])


def _encrypt_once(value):
    try:
        crypto.decrypt(value)
    except crypto.DecryptionFailed:
        return crypto.encrypt(value)
    return value  # already encrypted (the migration ran before and was faked back)


def encrypt_existing(apps, schema_editor):
    _rewrite(schema_editor, _encrypt_once)


def decrypt_existing(apps, schema_editor):
    _rewrite(schema_editor, crypto.decrypt)


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0003_provider_account_options"),
    ]

    operations = [
        migrations.AlterField(
            model_name="provideraccount",
            name="secret_key",
            field=studiocrm.core.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="provideraccount",
            name="webhook_secret",
            field=studiocrm.core.fields.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
