from django.db import migrations

from studiocrm.estimates import defaults


def load(apps, schema_editor):
    models = [
        apps.get_model("estimates", name)
        for name in ("PriceList", "Role", "Service", "PageType", "Package")
    ]
    defaults.load_price_lists(*models)
    studio = apps.get_model("core", "Studio").objects.filter(pk=1).first()
    defaults.load_rules(
        apps.get_model("estimates", "EstimateRule"), studio.locale if studio else "ru"
    )


class Migration(migrations.Migration):
    dependencies = [("estimates", "0001_initial"), ("core", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
