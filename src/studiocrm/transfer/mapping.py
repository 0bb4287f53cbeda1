"""What a column can mean, guessed from its header (English, Russian, Bitrix24 and amoCRM
export names), and what a peer's stage name means among the studio's stages."""

from __future__ import annotations

import re

from django.utils.translation import pgettext_lazy

from studiocrm.deals.models import DEFAULT_STAGE_NAMES, LOST, NEW, PAID, Stage

# Target field key -> its label (also the export's header, so an export imports back). A
# context of their own: other apps translate "Created" or "Notes" differently.
FIELDS = {
    "client_name": pgettext_lazy("import column", "Company"),
    "client_tax_id": pgettext_lazy("import column", "INN / tax ID"),
    "contact_name": pgettext_lazy("import column", "Contact"),
    "contact_last_name": pgettext_lazy("import column", "Last name"),
    "contact_middle_name": pgettext_lazy("import column", "Middle name"),
    "contact_position": pgettext_lazy("import column", "Position"),
    "contact_email": pgettext_lazy("import column", "Email"),
    "contact_phone": pgettext_lazy("import column", "Phone"),
    "deal_title": pgettext_lazy("import column", "Deal name"),
    "deal_stage": pgettext_lazy("import column", "Deal stage"),
    "deal_amount": pgettext_lazy("import column", "Amount"),
    "deal_currency": pgettext_lazy("import column", "Currency"),
    "deal_manager": pgettext_lazy("import column", "Responsible"),
    "deal_created": pgettext_lazy("import column", "Created"),
    "deal_closed": pgettext_lazy("import column", "Closed"),
    "deal_notes": pgettext_lazy("import column", "Notes"),
}

# Header (lower case, spaces collapsed) -> field. Bitrix24 deal export: "Название сделки",
# "Стадия сделки", "Сумма", "Валюта", "Ответственный", "Дата создания", "Компания",
# "Контакт"; amoCRM: "Название сделки", "Этап сделки", "Бюджет", "Ответственный",
# "Дата создания", "Компания", "Контакт", "Телефон", "Email" (and "Рабочий телефон" …).
ALIASES = {
    "client_name": [
        "company",
        "company name",
        "client",
        "organization",
        "organisation",
        "компания",
        "название компании",
        "клиент",
        "организация",
        "контрагент",
        "компания: название",
    ],
    "client_tax_id": ["inn", "tax id", "vat id", "инн", "инн компании", "tax_id"],
    "contact_name": [
        "contact",
        "contact name",
        "name",
        "full name",
        "person",
        "контакт",
        "имя",
        "фио",
        "основной контакт",
        "контакт: имя",
        "контактное лицо",
        "полное имя",
    ],
    # Bitrix24 contact exports split the name: "Имя", "Отчество", "Фамилия".
    "contact_last_name": ["last name", "surname", "family name", "фамилия"],
    "contact_middle_name": ["middle name", "patronymic", "отчество"],
    "contact_position": ["position", "job title", "title (job)", "должность"],
    "contact_email": [
        "email",
        "e-mail",
        "mail",
        "work email",
        "рабочий email",
        "рабочий e-mail",
        "email рабочий",
        "почта",
        "электронная почта",
        "личный email",
        "e-mail рабочий",
    ],
    "contact_phone": [
        "phone",
        "telephone",
        "mobile",
        "phone number",
        "телефон",
        "рабочий телефон",
        "мобильный телефон",
        "мобильный",
        "телефон рабочий",
        "телефон мобильный",
    ],
    "deal_title": [
        "deal",
        "deal name",
        "deal title",
        "title",
        "название сделки",
        "сделка",
        "название",
    ],
    "deal_stage": [
        "stage",
        "deal stage",
        "status",
        "стадия",
        "стадия сделки",
        "этап",
        "этап сделки",
        "статус",
    ],
    "deal_amount": [
        "amount",
        "budget",
        "sum",
        "value",
        "expected amount",
        "сумма",
        "бюджет",
        "сумма сделки",
    ],
    "deal_currency": ["currency", "валюта"],
    "deal_manager": [
        "responsible",
        "manager",
        "owner",
        "assigned to",
        "ответственный",
        "менеджер",
        "ответственный менеджер",
    ],
    "deal_created": [
        "created",
        "created at",
        "date created",
        "creation date",
        "дата создания",
        "создана",
        "создано",
    ],
    "deal_closed": [
        "closed",
        "closed at",
        "close date",
        "дата закрытия",
        "закрыта",
        "предполагаемая дата закрытия",
    ],
    "deal_notes": [
        "notes",
        "note",
        "comment",
        "comments",
        "description",
        "примечание",
        "примечания",
        "комментарий",
        "комментарии",
        "описание",
    ],
}


def _key(text: str) -> str:
    return " ".join(str(text).replace("\ufeff", "").lower().replace("ё", "е").split())


_ALIAS_INDEX = {_key(alias): field for field, aliases in ALIASES.items() for alias in aliases}


def guess_field(header: str) -> str:
    """The field a column header names, '' if none. The field labels in both languages
    count too (an export in either language imports back), and a remark in brackets or a
    currency sign is ignored (amoCRM: "Рабочий телефон (контакт)", "Бюджет ₽")."""
    key = _key(header)
    if key in _ALIAS_INDEX:
        return _ALIAS_INDEX[key]
    bare = _key(re.sub(r"\([^)]*\)|[₽$€£,:]", " ", key))
    if bare in _ALIAS_INDEX:
        return _ALIAS_INDEX[bare]
    from django.utils import translation

    for language in ("en", "ru"):
        with translation.override(language):
            for field, label in FIELDS.items():
                if _key(str(label)) == key:
                    return field
    return ""


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """column index (str) -> field; each field taken by the first column that names it."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, header in enumerate(headers):
        field = guess_field(header)
        if field and field not in taken:
            mapping[str(index)] = field
            taken.add(field)
    return mapping


# Peer CRMs' stage names (lower case) that say more than their words match.
PEER_STAGES = {
    "новая": NEW,
    "новая сделка": NEW,
    "первичный контакт": NEW,
    "неразобранное": NEW,
    "new": NEW,
    "lead": NEW,
    "успешно реализовано": PAID,
    "сделка успешна": PAID,
    "успешно": PAID,
    "успех": PAID,
    "выиграна": PAID,
    "won": PAID,
    "closed won": PAID,
    "закрыто и не реализовано": LOST,
    "сделка провалена": LOST,
    "провалена": LOST,
    "проиграна": LOST,
    "lost": LOST,
    "closed lost": LOST,
    "переговоры": "proposal_sent",
    "коммерческое предложение": "proposal_sent",
    "кп отправлено": "proposal_sent",
    "принимают решение": "proposal_sent",
    "согласование договора": "contract_sent",
    "подготовка документов": "contract_sent",
    "счет на предоплату": "invoiced",
    "выставлен счет": "invoiced",
    "в работе": "in_work",
}


def guess_stage(name: str, stages: list[Stage]) -> str:
    """The studio stage a peer's stage name most likely means (New when unsure)."""
    key = _key(name)
    if not key:
        return NEW
    from django.utils import translation

    for stage in stages:
        names = {_key(stage.code), _key(stage.name)}
        for language in ("en", "ru"):
            with translation.override(language):
                names.add(_key(str(DEFAULT_STAGE_NAMES.get(stage.code, ""))))
        if key in names - {""}:
            return stage.code
    code = PEER_STAGES.get(key) or PEER_STAGES.get(re.sub(r"[^\w ]", "", key))
    if code and any(stage.code == code for stage in stages):
        return code
    return NEW
