from django.db import migrations

STAGES = [
    ("new", "open"),
    ("brief_sent", "open"),
    ("brief_received", "open"),
    ("estimated", "open"),
    ("proposal_sent", "open"),
    ("proposal_accepted", "open"),
    ("contract_sent", "open"),
    ("contract_signed", "open"),
    ("invoiced", "open"),
    ("paid", "won"),
    ("lost", "lost"),
]


def create_stages(apps, schema_editor):
    Stage = apps.get_model("deals", "Stage")
    for position, (code, kind) in enumerate(STAGES):
        Stage.objects.update_or_create(code=code, defaults={"position": position, "kind": kind})


class Migration(migrations.Migration):
    dependencies = [("deals", "0001_initial")]
    operations = [migrations.RunPython(create_stages, migrations.RunPython.noop)]
