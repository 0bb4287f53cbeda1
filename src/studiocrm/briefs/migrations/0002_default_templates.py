from django.db import migrations


def install(apps, schema_editor):
    from studiocrm.briefs.defaults import install_default_templates

    install_default_templates(
        apps.get_model("briefs", "BriefTemplate"),
        apps.get_model("briefs", "BriefSection"),
        apps.get_model("briefs", "BriefQuestion"),
    )


class Migration(migrations.Migration):
    dependencies = [("briefs", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
