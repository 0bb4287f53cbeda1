"""Templates a studio never edited move to the current shipped text: a fixed-price line's
phone card prints no "Qty: —" row, the contract names the option only when it adds to the
project's title. A template the studio changed (its text differs from the shipped version
0003 left it on) is kept."""

from django.db import migrations

# SHA-256 of the previous shipped sources (the text 0003 refreshed to), by (kind, language).
PREVIOUS = {
    ("proposal", "ru"): "491a37a6ecf6db627a4dc1a3ac706e778c4bddd136a14ed685e0b9c4b5845dea",
    ("proposal", "en"): "7ba84523e76180229589fd4b56dd1598b4db4e3b443f1ebaa13dcd4be1ca0b36",
    ("appendix", "ru"): "c4e858642a76b9c7af7dd4f1c67e3489c57d9bdaa6b6eeaa4e777188696063d6",
    ("appendix", "en"): "be9c988f8459704957a25f6f83aaf924c271b10f08dfd74f96ecd5d15aa51dc5",
    ("act", "ru"): "f5d04ac9dc7f13f725589f60ab0e4e5064ecdff2f8e2da2d2cc476b3f482501e",
    ("act", "en"): "56ed640eac9b705671cd4d16de28de6b144890d34fa1ccb25857f5b68bb9f3eb",
    ("contract", "ru"): "72e8d4921ba6c641651ea911e403c2d6d784e333d90f11d43e2fb7c437850ffa",
    ("contract", "en"): "6e754af17ec7ab5adde93a2d8a9219624bcb381c6180ef05e1dc1146b66fc5d6",
}


def refresh(apps, schema_editor):
    from studiocrm.documents.defaults import refresh_unedited

    refresh_unedited(apps.get_model("documents", "DocumentTemplate"), PREVIOUS)


class Migration(migrations.Migration):
    dependencies = [("documents", "0004_proposal_valid_until")]

    operations = [migrations.RunPython(refresh, migrations.RunPython.noop)]
