"""Check digits of Russian company details: INN, OGRN/OGRNIP, KPP, BIC and bank accounts.

INN and OGRN are checked by python-stdnum (``stdnum.ru``), a maintained library with the
official algorithms. It has nothing for bank accounts, so the account key is computed here by
the Bank of Russia's rule (Положение ЦБ РФ № 579-П, приложение «Порядок расчёта контрольного
ключа в номере лицевого счёта»): the three "conditional" digits taken from the BIC are put in
front of the 20-digit account, each of the 23 digits is multiplied by the weights 7, 1, 3
repeated, and the sum of the last digits of the products must end in 0.

- A settlement account (расчётный счёт) at a bank takes the last three digits of the BIC.
- A correspondent account at the Bank of Russia takes "0" and the 5th and 6th digits of the
  BIC (the code of the Bank of Russia's branch); it also ends with the BIC's last three digits.

A BIC itself has no check digit: it is nine digits starting with "04" (the country code).
"""

from __future__ import annotations

from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn

ACCOUNT_WEIGHTS = ((7, 1, 3) * 8)[:23]  # one per digit of prefix + account


def digits_only(value: str) -> str:
    """The value without spaces and hyphens people type inside numbers."""
    return "".join(value.split()).replace("-", "")


def inn_is_valid(value: str) -> bool:
    """A 10-digit (organisation) or 12-digit (person) INN with correct check digits."""
    value = digits_only(value)
    return value.isdigit() and len(value) in (10, 12) and stdnum_inn.is_valid(value)


def ogrn_is_valid(value: str) -> bool:
    """A 13-digit OGRN (organisation) or 15-digit OGRNIP (sole trader) with its check digit."""
    value = digits_only(value)
    return value.isdigit() and len(value) in (13, 15) and stdnum_ogrn.is_valid(value)


def kpp_is_valid(value: str) -> bool:
    """KPP: four digits (tax office), two digits or capital Latin letters (reason), three
    digits (number). It has no check digit."""
    value = digits_only(value).upper()
    return (
        len(value) == 9
        and value[:4].isdigit()
        and all(char.isdigit() or "A" <= char <= "Z" for char in value[4:6])
        and value[6:].isdigit()
    )


def bic_is_valid(value: str) -> bool:
    """A Russian BIC: nine digits starting with 04."""
    value = digits_only(value)
    return len(value) == 9 and value.isdigit() and value.startswith("04")


def _account_key_ok(prefix: str, account: str) -> bool:
    digits = prefix + account
    total = sum(
        (int(digit) * weight) % 10 for digit, weight in zip(digits, ACCOUNT_WEIGHTS, strict=True)
    )
    return total % 10 == 0


def account_is_valid(account: str, bic: str) -> bool:
    """A 20-digit settlement account whose key matches the bank's BIC."""
    account, bic = digits_only(account), digits_only(bic)
    if not (len(account) == 20 and account.isdigit() and bic_is_valid(bic)):
        return False
    return _account_key_ok(bic[-3:], account)


def correspondent_account_is_valid(account: str, bic: str) -> bool:
    """A 20-digit correspondent account (301…) whose key matches the bank's BIC."""
    account, bic = digits_only(account), digits_only(bic)
    if not (len(account) == 20 and account.isdigit() and bic_is_valid(bic)):
        return False
    return (
        account.startswith("301")
        and account[-3:] == bic[-3:]
        and _account_key_ok("0" + bic[4:6], account)
    )
