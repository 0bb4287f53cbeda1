"""Due dates in working days, as the contract counts them."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ImproperlyConfigured

from studiocrm.billing.workdays import add_working_days, is_working_day


def test_weekends_are_not_counted():
    # Friday 4 December 2026 + 5 working days: the next Friday, not Wednesday.
    assert add_working_days(date(2026, 12, 4), 5, "RU") == date(2026, 12, 11)


def test_russian_public_holidays_and_moved_days_off_are_not_counted():
    # 1 May (holiday), 2 May (day off moved from 4 January), 3–4 May (weekend).
    assert add_working_days(date(2025, 4, 30), 3, "RU") == date(2025, 5, 7)


def test_a_saturday_made_a_working_day_counts():
    # 1 November 2025 was a working Saturday; 3 November a day off, 4 November a holiday.
    assert is_working_day(date(2025, 11, 1), "RU")
    assert add_working_days(date(2025, 10, 31), 1, "RU") == date(2025, 11, 1)
    assert add_working_days(date(2025, 10, 31), 2, "RU") == date(2025, 11, 5)


def test_the_new_year_holidays_are_skipped():
    # 31 Dec 2025 is a day off moved from 5 January; 1–8 January are holidays.
    assert add_working_days(date(2025, 12, 30), 1, "RU") == date(2026, 1, 12)


def test_without_a_calendar_only_weekends_are_skipped():
    assert add_working_days(date(2025, 4, 30), 3, "") == date(2025, 5, 5)


def test_zero_days_is_the_same_day():
    assert add_working_days(date(2026, 12, 5), 0, "RU") == date(2026, 12, 5)


def test_the_setting_chooses_the_calendar(settings):
    settings.BILLING_WORKDAY_CALENDAR = "DE"  # 1 May is a holiday, 2 May a working Friday
    assert add_working_days(date(2025, 4, 30), 2, None) == date(2025, 5, 5)


def test_an_unknown_calendar_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="XX"):
        add_working_days(date(2025, 4, 30), 1, "XX")
