"""The genitive case of a signatory's name, position and basis of authority, for contracts
("в лице Генерального директора Иванова Ивана Ивановича, действующего на основании Устава").

The words are declined by pymorphy3 with its OpenCorpora dictionary (pymorphy3-dicts-ru), never
by hand-made endings. A word the dictionary cannot place with confidence (a foreign name, an
abbreviation, a word already in another case) is left as it is, and the result is stored on the
client where the manager may correct it: the suggestion is a convenience, the stored form is
what the contract prints. Text in Latin letters is returned unchanged.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

CYRILLIC_WORD = re.compile(r"^[А-Яа-яЁё]+$")
NAME_TAGS = frozenset({"Surn", "Name", "Patr"})


@cache
def _analyzer() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


def _same_case(original: str, word: str) -> str:
    if original.isupper() and len(original) > 1:
        return word.upper()
    if original[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _gender_of(words: list[str]) -> str | None:
    """The gender a first name or patronymic shows ("Ирина", "Сергеевна" → femn)."""
    for word in words:
        if not CYRILLIC_WORD.match(word):
            continue
        for parse in _analyzer().parse(word):
            tag = parse.tag
            if "nomn" in tag and ({"Name", "Patr"} & tag.grammemes) and tag.gender:
                return str(tag.gender)
    return None


def _decline_name_word(word: str, gender: str | None) -> str:
    if not CYRILLIC_WORD.match(word):
        return word
    candidates = [
        parse
        for parse in _analyzer().parse(word)
        if "nomn" in parse.tag
        and "sing" in parse.tag
        and (NAME_TAGS & parse.tag.grammemes)
        and (gender is None or parse.tag.gender == gender)
    ]
    if not candidates:
        return word
    inflected = candidates[0].inflect({"gent"})
    return _same_case(word, inflected.word) if inflected else word


def person_genitive(full_name: str) -> str:
    """ "Петрова Ирина Сергеевна" → "Петровой Ирины Сергеевны"; "Иванов И. И." → "Иванова
    И. И."; hyphenated surnames decline in each part."""
    words = full_name.split()
    gender = _gender_of(words)
    declined = []
    for word in words:
        parts = word.split("-")
        declined.append("-".join(_decline_name_word(part, gender) for part in parts))
    return " ".join(declined)


def phrase_genitive(phrase: str) -> str:
    """A noun phrase in the genitive up to its head noun, the rest as it is:
    "Генеральный директор" → "Генерального директора", "Устав" → "Устава",
    "Доверенность № 12 от 01.02.2026" → "Доверенности № 12 от 01.02.2026",
    "Директор по развитию" → "Директора по развитию"."""
    words = phrase.split(" ")
    for index, word in enumerate(words):
        if not CYRILLIC_WORD.match(word):
            break
        parses = [
            parse
            for parse in _analyzer().parse(word)
            if "nomn" in parse.tag and parse.tag.POS in ("NOUN", "ADJF", "PRTF")
        ]
        if not parses:
            break
        noun = next((parse for parse in parses if parse.tag.POS == "NOUN"), None)
        parse = noun or parses[0]
        grammemes = {"gent"} if parse.tag.number is None else {"gent", str(parse.tag.number)}
        inflected = parse.inflect(grammemes)
        if inflected is None:
            break
        words[index] = _same_case(word, inflected.word)
        if noun is not None:
            break
    return " ".join(words)
