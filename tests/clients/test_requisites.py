"""Check digits of Russian details, on published numbers of real organisations and banks and
on the same numbers with one digit changed."""

import pytest

from studiocrm.clients import requisites

# Sberbank: INN, KPP, OGRN, BIC and its correspondent account, as published on its site.
SBER_INN, SBER_KPP, SBER_OGRN = "7707083893", "773601001", "1027700132195"
SBER_BIC, SBER_CORRESPONDENT = "044525225", "30101810400000000225"
# T-Bank's BIC and correspondent account (another branch code in the key).
TBANK_BIC, TBANK_CORRESPONDENT = "044525974", "30101810145250000974"
# A settlement account at Sberbank whose key matches its BIC (any account number with the
# right key is valid; this one is made for the test), and the same with its key broken.
SETTLEMENT = "40702819900000000001"


def mutations(number):
    """The number with each digit in turn replaced by the next one."""
    for index, digit in enumerate(number):
        yield number[:index] + str((int(digit) + 1) % 10) + number[index + 1 :]


def test_published_numbers_are_valid():
    assert requisites.inn_is_valid(SBER_INN)
    assert requisites.inn_is_valid("500100732259")  # a person's 12-digit INN
    assert requisites.kpp_is_valid(SBER_KPP)
    assert requisites.ogrn_is_valid(SBER_OGRN)
    assert requisites.ogrn_is_valid("304500116000157")  # a sole trader's OGRNIP
    assert requisites.bic_is_valid(SBER_BIC)
    assert requisites.correspondent_account_is_valid(SBER_CORRESPONDENT, SBER_BIC)
    assert requisites.correspondent_account_is_valid(TBANK_CORRESPONDENT, TBANK_BIC)
    assert requisites.account_is_valid(SETTLEMENT, SBER_BIC)


def test_spaces_and_hyphens_inside_a_number_are_ignored():
    assert requisites.inn_is_valid("7707 083 893")
    assert requisites.account_is_valid(
        "40702 810-9 9000 0000 0001".replace("810-9", "819"), SBER_BIC
    )


@pytest.mark.parametrize(
    "check, number",
    [
        (requisites.inn_is_valid, SBER_INN),
        (requisites.inn_is_valid, "500100732259"),
        (requisites.ogrn_is_valid, SBER_OGRN),
    ],
)
def test_one_wrong_digit_is_caught(check, number):
    caught = [changed for changed in mutations(number) if not check(changed)]
    # The check digit catches a change in any position that takes part in it.
    assert len(caught) >= len(number) - 1


def test_an_account_that_does_not_match_its_bank_is_refused():
    assert not requisites.account_is_valid(SETTLEMENT, TBANK_BIC)
    assert not requisites.correspondent_account_is_valid(SBER_CORRESPONDENT, TBANK_BIC)
    assert all(
        not requisites.account_is_valid(changed, SBER_BIC) for changed in mutations(SETTLEMENT)
    )


@pytest.mark.parametrize(
    "check, value",
    [
        (requisites.inn_is_valid, "770708389"),  # too short
        (requisites.inn_is_valid, "77070838931"),  # 11 digits
        (requisites.inn_is_valid, "77070838AB"),
        (requisites.kpp_is_valid, "77360100"),
        (requisites.kpp_is_valid, "7736!1001"),
        (requisites.ogrn_is_valid, "102770013219"),
        (requisites.bic_is_valid, "144525225"),  # not a Russian BIC
        (requisites.bic_is_valid, "04452522"),
    ],
)
def test_malformed_numbers_are_refused(check, value):
    assert not check(value)


def test_kpp_may_have_letters_in_the_reason_code():
    assert requisites.kpp_is_valid("7736AB001")
