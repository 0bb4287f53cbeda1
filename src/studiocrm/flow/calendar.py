"""Business time in the studio's time zone: working hours on weekdays.

Pure functions of aware datetimes, so the rules' timing is tested without a database.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

WORK_START = time(9, 0)
WORK_END = time(19, 0)
WORK_HOURS = 10


def is_business_day(moment: datetime) -> bool:
    return moment.weekday() < 5


def next_working_moment(moment: datetime, zone: str) -> datetime:
    """``moment`` if it falls in working hours on a business day, else the next start of
    working hours (quiet hours: no client letter at night or on a weekend)."""
    local = moment.astimezone(ZoneInfo(zone))
    if is_business_day(local) and WORK_START <= local.time() < WORK_END:
        return moment
    day = local.date() if local.time() < WORK_START else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, WORK_START, tzinfo=ZoneInfo(zone))


def add_business_days(moment: datetime, days: int, zone: str) -> datetime:
    """``days`` weekdays later (earlier when negative) at the same local time."""
    local = moment.astimezone(ZoneInfo(zone))
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    while remaining:
        local += timedelta(days=step)
        if is_business_day(local):
            remaining -= 1
    return local


def add_business_hours(moment: datetime, hours: int, zone: str) -> datetime:
    """``hours`` of working time later: counting starts at the next working moment and
    pauses outside working hours and on weekends."""
    local = next_working_moment(moment, zone).astimezone(ZoneInfo(zone))
    remaining = timedelta(hours=hours)
    while True:
        end_of_day = datetime.combine(local.date(), WORK_END, tzinfo=ZoneInfo(zone))
        if local + remaining <= end_of_day:
            return local + remaining
        remaining -= end_of_day - local
        local = next_working_moment(end_of_day, zone).astimezone(ZoneInfo(zone))


def shift(moment: datetime, amount: int, unit: str, zone: str) -> datetime:
    if unit == "business_hours":
        return add_business_hours(moment, amount, zone)
    if unit == "business_days":
        return add_business_days(moment, amount, zone)
    return moment + timedelta(days=amount)
