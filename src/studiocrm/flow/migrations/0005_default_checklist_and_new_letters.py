"""The new shipped letters and rules (proposal validity reminder, status updates, the
manager's letters), the kickoff letter's link to the checklist for studios that never
edited it, and the default "what to prepare" list. Edited rows are never touched."""

from django.db import migrations

REFRESHED = ("kickoff",)


def install(apps, schema_editor):
    from studiocrm.flow.defaults import (
        install_default_checklist,
        install_default_letters,
        install_default_rules,
        refresh_unedited_letters,
    )

    template_model = apps.get_model("flow", "MessageTemplate")
    install_default_letters(template_model)
    refresh_unedited_letters(template_model, REFRESHED)
    install_default_rules(apps.get_model("flow", "Rule"))
    install_default_checklist(apps.get_model("flow", "KickoffItem"))


class Migration(migrations.Migration):
    dependencies = [("flow", "0004_kickoff_checklist_and_validity_anchor")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
