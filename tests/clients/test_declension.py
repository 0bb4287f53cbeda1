"""Names, positions and bases of authority in the genitive case, by the morphology
dictionary (no hand-made endings)."""

import pytest

from studiocrm.clients.declension import person_genitive, phrase_genitive


@pytest.mark.parametrize(
    "nominative, genitive",
    [
        ("Иванов Иван Иванович", "Иванова Ивана Ивановича"),
        ("Петрова Ирина Сергеевна", "Петровой Ирины Сергеевны"),
        ("Иванов И. И.", "Иванова И. И."),
        ("Смирнова-Ланская Анна Петровна", "Смирновой-Ланской Анны Петровны"),
        ("Черных Мария Ивановна", "Черных Марии Ивановны"),
        ("John Smith", "John Smith"),
    ],
)
def test_a_person_is_declined_by_gender(nominative, genitive):
    assert person_genitive(nominative) == genitive


@pytest.mark.parametrize(
    "nominative, genitive",
    [
        ("Генеральный директор", "Генерального директора"),
        ("генеральный директор", "генерального директора"),
        ("Директор по развитию", "Директора по развитию"),
        ("Индивидуальный предприниматель", "Индивидуального предпринимателя"),
        ("Устав", "Устава"),
        ("Доверенность № 12 от 01.02.2026", "Доверенности № 12 от 01.02.2026"),
        ("CEO", "CEO"),
    ],
)
def test_a_position_or_basis_is_declined_up_to_its_noun(nominative, genitive):
    assert phrase_genitive(nominative) == genitive
