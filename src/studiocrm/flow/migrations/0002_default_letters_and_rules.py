"""A new studio starts with the shipped letters (Russian and English) and the default rules,
enabled. Later edits are never overwritten: the installers only add what is missing."""

from django.db import migrations


def install(apps, schema_editor):
    from studiocrm.flow.defaults import install_default_letters, install_default_rules

    install_default_letters(apps.get_model("flow", "MessageTemplate"))
    install_default_rules(apps.get_model("flow", "Rule"))


class Migration(migrations.Migration):
    dependencies = [("flow", "0001_automation_rules_and_letters")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
