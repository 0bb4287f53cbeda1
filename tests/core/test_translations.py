"""The Russian catalogues of the apps: Django merges them into one, and for a msgid two apps
translate differently the app loaded first wins everywhere ("Description" would read
"Наименование" in the estimate editor). A word with two meanings takes a context
(pgettext / {% translate ... context ... %}); the same meaning takes the same words."""

from collections import defaultdict
from pathlib import Path

import polib
import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "studiocrm"
CATALOGUES = sorted(SOURCE.glob("*/locale/*/LC_MESSAGES/django.po"))


def _app(path: Path) -> str:
    return path.relative_to(SOURCE).parts[0]


def _language(path: Path) -> str:
    return path.parent.parent.name


def _translation(entry: polib.POEntry) -> tuple[str, ...]:
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
    return (entry.msgstr,)


def test_there_are_catalogues_to_check():
    assert {_app(path) for path in CATALOGUES} >= {"core", "deals", "documents", "billing"}


def test_no_two_catalogues_translate_the_same_msgid_differently():
    translations: dict[tuple, dict[tuple[str, ...], list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for path in CATALOGUES:
        for entry in polib.pofile(str(path)):
            if entry.obsolete:
                continue
            key = (_language(path), entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")
            translations[key][_translation(entry)].append(_app(path))

    clashes = {
        key: {" / ".join(value): apps for value, apps in values.items()}
        for key, values in translations.items()
        if len(values) > 1
    }
    assert clashes == {}


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: f"{_app(path)}-{_language(path)}")
def test_a_catalogue_has_no_untranslated_or_fuzzy_entry(path):
    catalogue = polib.pofile(str(path))

    missing = [
        (entry.msgctxt, entry.msgid)
        for entry in catalogue
        if not entry.obsolete and (not entry.translated() or "fuzzy" in entry.flags)
    ]
    partial_plurals = [
        entry.msgid
        for entry in catalogue
        if entry.msgid_plural and not all(entry.msgstr_plural.values())
    ]
    assert missing == []
    assert partial_plurals == []
    assert not catalogue.metadata_is_fuzzy


def test_catalogues_of_one_language_share_their_plural_rule():
    rules = defaultdict(set)
    for path in CATALOGUES:
        rules[_language(path)].add(polib.pofile(str(path)).metadata.get("Plural-Forms", ""))

    assert {language: len(found) for language, found in rules.items()} == {
        language: 1 for language in rules
    }


def test_a_word_with_two_meanings_reads_right_in_each_place():
    from django.utils import translation

    from studiocrm.billing.forms import LineForm as InvoiceLineForm
    from studiocrm.billing.models import Invoice
    from studiocrm.clients.models import Client, Contact
    from studiocrm.estimates.forms import PackageFromOptionForm
    from studiocrm.notifications.models import Outbox

    with translation.override("ru"):
        assert str(PackageFromOptionForm.base_fields["description"].label) == "Описание"
        assert str(InvoiceLineForm.base_fields["description"].label) == "Наименование"
        assert str(Invoice.Status.PAID.label) == "Оплачен"
        assert translation.gettext("Paid") == "Оплачено"
        assert str(Outbox.Status.SENT.label) == "Отправлено"
        assert str(Client._meta.get_field("name").verbose_name) == "название / имя"
        assert str(Contact._meta.get_field("name").verbose_name) == "имя"
