"""After the deposit the deal is won and in work: a won stage between Invoiced and Paid."""

from django.db import migrations

ORDER = [
    "new",
    "brief_sent",
    "brief_received",
    "estimated",
    "proposal_sent",
    "proposal_accepted",
    "contract_sent",
    "contract_signed",
    "invoiced",
    "in_work",
    "paid",
    "lost",
]


def add_in_work(apps, schema_editor):
    Stage = apps.get_model("deals", "Stage")
    Stage.objects.update_or_create(code="in_work", defaults={"kind": "won", "position": 0})
    for position, code in enumerate(ORDER):
        Stage.objects.filter(code=code).update(position=position)


def remove_in_work(apps, schema_editor):
    Stage = apps.get_model("deals", "Stage")
    Deal = apps.get_model("deals", "Deal")
    Deal.objects.filter(stage_id="in_work").update(stage_id="invoiced")
    StageChange = apps.get_model("deals", "StageChange")
    StageChange.objects.filter(to_stage_id="in_work").delete()
    StageChange.objects.filter(from_stage_id="in_work").update(from_stage_id="invoiced")
    Stage.objects.filter(code="in_work").delete()
    for position, code in enumerate(c for c in ORDER if c != "in_work"):
        Stage.objects.filter(code=code).update(position=position)


class Migration(migrations.Migration):
    dependencies = [("deals", "0003_event")]
    operations = [migrations.RunPython(add_in_work, remove_in_work)]
