"""The shipped English briefs say "catalogue", as the price lists and documents do. Only
the texts a studio left as shipped change: a question label or option label it edited is
kept. Briefs already sent keep the questions they were sent with."""

from django.db import migrations

LABELS = {"How many products in the catalog?": "How many products in the catalogue?"}
OPTION_LABELS = {
    "Catalog": "Catalogue",
    "Product or service catalog": "Product or service catalogue",
}


def british(apps, schema_editor):
    BriefQuestion = apps.get_model("briefs", "BriefQuestion")
    questions = BriefQuestion.objects.filter(template__language="en").exclude(
        template__default_key=""
    )
    for question in questions:
        label = LABELS.get(question.label, question.label)
        options = [
            {**option, "label": OPTION_LABELS[option["label"]]}
            if option.get("value") == "catalog" and option.get("label") in OPTION_LABELS
            else option
            for option in question.options or []
        ]
        if label != question.label or options != question.options:
            question.label = label
            question.options = options
            question.save(update_fields=["label", "options"])


class Migration(migrations.Migration):
    dependencies = [("briefs", "0003_link_token_salt")]

    operations = [migrations.RunPython(british, migrations.RunPython.noop)]
