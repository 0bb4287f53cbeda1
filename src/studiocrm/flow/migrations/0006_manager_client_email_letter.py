"""The manager's letter about a client's email (intake's mailbox) becomes a studio template
like the other manager letters: its shipped wording is created in both languages."""

from django.db import migrations


def install(apps, schema_editor):
    from studiocrm.flow.defaults import install_default_letters

    install_default_letters(apps.get_model("flow", "MessageTemplate"))


class Migration(migrations.Migration):
    dependencies = [("flow", "0005_default_checklist_and_new_letters")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
