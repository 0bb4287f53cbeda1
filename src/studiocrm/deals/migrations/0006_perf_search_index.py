"""Indexes for pages that must cost what they show at a million deals.

- the board's cards: (stage, updated_at desc, id desc), for the first cards of every column
  and the next ones after a keyset cursor; its column counts and sums: (stage, currency,
  amounts), read without the rows;
- search: trigram GIN indexes (pg_trgm) on the texts the deal list searches with
  ``icontains`` (``UPPER(column) LIKE UPPER('%text%')``), so a search at a million deals
  reads the matching rows instead of every row. PostgreSQL only: on SQLite the step does
  nothing.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = [
    ("deals_deal_title_trgm", "deals_deal", "title"),
    ("clients_client_name_trgm", "clients_client", "name"),
    ("clients_client_legal_name_trgm", "clients_client", "legal_name"),
    ("clients_contact_name_trgm", "clients_contact", "name"),
    ("clients_contact_email_trgm", "clients_contact", "email"),
    ("clients_contact_phone_trgm", "clients_contact", "phone"),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_client_kpp_and_genitive_forms"),
        ("deals", "0005_lost_reasons_stage_probability_utm"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["stage", "-updated_at", "-id"], name="deal_stage_updated_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["stage", "currency", "estimated_amount", "expected_amount"],
                name="deal_stage_amounts_idx",
            ),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
