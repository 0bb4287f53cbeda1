"""Database triggers that queue, in `analytics_dirtydeal`, every deal whose report values a
write may have changed in place: the deal itself, its invoices and their payments, the
objects whose audit rows count as a manager's actions (briefs, estimates, documents, tasks)
and the audit rows themselves.

Triggers, not signals: `QuerySet.update()`, bulk writes and raw SQL skip `save()`, so no
signal sees them; the database sees every writer. Each trigger is one INSERT … SELECT of
the deal ids (NULL ids skipped; the queue's reader removes duplicates). The stage history
(`deals_stagechange`) has no trigger: the facts follow it by a watermark.

SQLite: Django's schema editor alters most things by copying the table to a new one and
dropping the old, which drops the old table's triggers. A later migration that alters one of
these tables that way must install the triggers again (`forward` below; the tests check all
are there), and one that alters `analytics_dirtydeal` must drop them first (`backward`): with
triggers naming it, SQLite refuses to rename the copy into place ("error in trigger …").
"""

from django.db import migrations
from django.db.utils import NotSupportedError

QUEUE = "analytics_dirtydeal"

# Table → the SQL expression of the deal id a row belongs to, with ROW standing for NEW or
# OLD. On every INSERT, UPDATE and DELETE, the deal of the new and of the old row is queued.
ROW_TABLES = {
    "deals_deal": "ROW.id",
    "billing_invoice": "ROW.deal_id",
    "billing_payment": "(SELECT i.deal_id FROM billing_invoice i WHERE i.id = ROW.invoice_id)",
    "briefs_brief": "ROW.deal_id",
    "estimates_estimate": "ROW.deal_id",
    "documents_document": "ROW.deal_id",
    "deals_task": "ROW.deal_id",
}

# The audit rows the reports count as a manager's actions (analytics.reports.actions_sql):
# object type → the table whose row's deal_id is the deal (None: object_id is the deal id).
AUDITED = {
    "deals.deal": None,
    "briefs.brief": "briefs_brief",
    "estimates.estimate": "estimates_estimate",
    "documents.document": "documents_document",
    "billing.invoice": "billing_invoice",
    "deals.task": "deals_task",
}
AUDIT_TABLE = "core_auditlog"


def _name(table: str) -> str:
    return f"analytics_dirty_{table}"


def _audit_select(object_id: str) -> str:
    """SELECT of the deal ids an audit row NEW belongs to, given the SQL of its object id as
    an integer (used only for the object types above, once the id is known to be digits)."""
    arms = []
    for object_type, table in AUDITED.items():
        if table is None:
            arms.append(f"SELECT {object_id} AS deal_id WHERE NEW.object_type = '{object_type}'")
        else:
            arms.append(
                f"SELECT deal_id FROM {table} "
                f"WHERE NEW.object_type = '{object_type}' AND id = {object_id}"
            )
    union = "\n      UNION ALL ".join(arms)
    return (
        f"INSERT INTO {QUEUE} (deal_id)\n"
        f"    SELECT deal_id FROM (\n      {union}\n    ) AS found WHERE deal_id IS NOT NULL"
    )


def _types() -> str:
    return ", ".join(f"'{object_type}'" for object_type in AUDITED)


# --- PostgreSQL: one plpgsql function per table ------------------------------------------
# NEW is NULL in a DELETE trigger and OLD in an INSERT one (PostgreSQL 11+), so one
# statement serves all three events.


def postgresql_install() -> list[str]:
    statements = []
    for table, deal in ROW_TABLES.items():
        name = _name(table)
        statements += [
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {QUEUE} (deal_id)
    SELECT DISTINCT deal_id
    FROM (VALUES ({deal.replace("ROW", "NEW")}), ({deal.replace("ROW", "OLD")})) AS v(deal_id)
    WHERE deal_id IS NOT NULL;
  RETURN NULL;
END
$$""",
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    # The audit log is append-only: inserts only. Other object types may carry ids that are
    # not numbers; the id is cast only when it is all digits (18 at most, within bigint).
    name = _name(AUDIT_TABLE)
    statements += [
        f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.object_type IN ({_types()}) AND NEW.object_id ~ '^[0-9]{{1,18}}$' THEN
    {_audit_select("CAST(NEW.object_id AS bigint)")};
  END IF;
  RETURN NULL;
END
$$""",
        f"DROP TRIGGER IF EXISTS {name} ON {AUDIT_TABLE}",
        f"CREATE TRIGGER {name} AFTER INSERT ON {AUDIT_TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}()",
    ]
    return statements


def postgresql_uninstall() -> list[str]:
    statements = []
    for table in [*ROW_TABLES, AUDIT_TABLE]:
        name = _name(table)
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"DROP FUNCTION IF EXISTS {name}()",
        ]
    return statements


# --- SQLite: one trigger per table and event ---------------------------------------------


def _sqlite_triggers() -> dict[str, str]:
    """Trigger name → its CREATE TRIGGER statement."""
    triggers = {}
    for table, deal in ROW_TABLES.items():
        new, old = deal.replace("ROW", "NEW"), deal.replace("ROW", "OLD")
        bodies = {
            "insert": f"SELECT {new} AS deal_id",
            "update": f"SELECT {new} AS deal_id UNION SELECT {old}",
            "delete": f"SELECT {old} AS deal_id",
        }
        for event, ids in bodies.items():
            name = f"{_name(table)}_{event}"
            triggers[name] = (
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} FOR EACH ROW\n"
                f"BEGIN\n"
                f"  INSERT INTO {QUEUE} (deal_id)\n"
                f"    SELECT deal_id FROM ({ids}) AS ids WHERE deal_id IS NOT NULL;\n"
                f"END"
            )
    # CAST(… AS INTEGER) never fails on SQLite, but reads 'abc' as 0 and caps a number too
    # long for 64 bits: the id must be 1 to 18 digits, as on PostgreSQL.
    name = f"{_name(AUDIT_TABLE)}_insert"
    triggers[name] = (
        f"CREATE TRIGGER {name} AFTER INSERT ON {AUDIT_TABLE} FOR EACH ROW\n"
        f"WHEN NEW.object_type IN ({_types()})\n"
        f"  AND length(NEW.object_id) BETWEEN 1 AND 18 AND NEW.object_id NOT GLOB '*[^0-9]*'\n"
        f"BEGIN\n"
        f"  {_audit_select('CAST(NEW.object_id AS INTEGER)')};\n"
        f"END"
    )
    return triggers


def sqlite_install() -> list[str]:
    return [
        statement
        for name, create in _sqlite_triggers().items()
        for statement in (f"DROP TRIGGER IF EXISTS {name}", create)
    ]


def sqlite_uninstall() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in _sqlite_triggers()]


# Trigger names per vendor, as the database lists them (for the tests).
def trigger_names(vendor: str) -> set[str]:
    if vendor == "postgresql":
        return {_name(table) for table in [*ROW_TABLES, AUDIT_TABLE]}
    return set(_sqlite_triggers())


STATEMENTS = {
    "postgresql": (postgresql_install, postgresql_uninstall),
    "sqlite": (sqlite_install, sqlite_uninstall),
}


def _run(schema_editor, direction: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in STATEMENTS:
        # The analytics cells stay exact only with these triggers: refuse to migrate a
        # database the project does not run on (SQLite and PostgreSQL only).
        raise NotSupportedError(f"analytics: no dirty-deal triggers for {vendor}")
    for statement in STATEMENTS[vendor][direction]():
        schema_editor.execute(statement, params=None)


def forward(apps, schema_editor) -> None:
    _run(schema_editor, 0)


def backward(apps, schema_editor) -> None:
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    # After the latest migration of every app whose tables carry a trigger: on SQLite, a
    # migration altering one of them after this one would drop its triggers.
    dependencies = [
        ("analytics", "0003_values_and_cells"),
        ("billing", "0005_provider_event_processing"),
        ("briefs", "0004_british_catalogue"),
        ("core", "0004_studio_proposal_valid_days"),
        ("deals", "0007_analytics_indexes"),
        ("documents", "0005_refresh_unedited_templates_no_quantity_row"),
        ("estimates", "0002_default_price_lists"),
    ]

    operations = [migrations.RunPython(forward, backward)]
