"""Working days, as contracts count them: a due date "within 5 working days" skips
weekends and the public holidays of the studio's country, including the days off a
government moves (Russia's production calendar: a Saturday made a working day counts, a
Monday made a day off does not). The calendar is ``settings.BILLING_WORKDAY_CALENDAR``, an
ISO country code that the ``holidays`` package knows; empty (``none`` in the environment)
means weekends only."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _calendar(country: str) -> holidays.HolidayBase | None:
    if not country:
        return None
    if country not in holidays.list_supported_countries():
        raise ImproperlyConfigured(
            f"BILLING_WORKDAY_CALENDAR={country!r} is not a country the holidays package knows"
        )
    return holidays.country_holidays(country)


def is_working_day(day: date, country: str | None = None) -> bool:
    calendar = _calendar(settings.BILLING_WORKDAY_CALENDAR if country is None else country)
    if calendar is None:
        return day.weekday() < 5
    return calendar.is_working_day(day)


def add_working_days(start: date, days: int, country: str | None = None) -> date:
    """The day ``days`` working days after ``start`` (``start`` itself not counted, as "within
    N days of signing" does not count the day of signing). Zero days is ``start``."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, country):
            remaining -= 1
    return day
