"""Templates a studio never edited move to the corrected shipped text: line amounts before
discount so the tables add up, scope from the estimate only, the signatory in the genitive.
A template the studio changed (its text differs from every earlier shipped version) is kept."""

from django.db import migrations

# SHA-256 of the previous shipped sources, by (kind, language).
PREVIOUS = {
    ("proposal", "ru"): "1d2750158ba00f893e73097d2fa4b73598e6ee0ea36e5758acc1d129922dbf63",
    ("proposal", "en"): "d633b7930e3444aca1e9f1fe31efbf5847a3c4c975ebe22a7c91b666cd57f532",
    ("appendix", "ru"): "e51967ebbe4102ca43b82878b1c0969640f8e86b512f462f5efa383ab4afb998",
    ("appendix", "en"): "d73fb3cc0c2b797b4f90c3d274147f9059879e299309752a0c12ddbd3a5f8328",
    ("act", "ru"): "016127fd3042a0140116bea02752ebfbed963bb2f87c47c99f04d6e5c04e264d",
    ("act", "en"): "12c78b5ffc5390a24b7d8fd97b201f2ee08779e2b713714e23836e76953e9ab6",
    ("contract", "ru"): "77006670ca1a34a434a3f5d29dbdf5441fb96f9ba8cba097fb7f563fe310bd86",
    ("contract", "en"): "32020ff1795411e9e37add1d1a75c2da5ecd3ba8e47f01e06ab220fa76255bdd",
}


def refresh(apps, schema_editor):
    from studiocrm.documents.defaults import refresh_unedited

    refresh_unedited(apps.get_model("documents", "DocumentTemplate"), PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("documents", "0002_document_review_task")]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
