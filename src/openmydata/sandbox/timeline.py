"""The collection window (the 12 months up to `as_of`) and date helpers shared by the sector generators."""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from openmydata.kit.clock import add_months


@cache
def month_day(year: int, month: int, day: int) -> date:
    """Day `day` of a month, clamped to its last day (a 31st payday in a 30-day month falls on the 30th)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def month_text(year: int, month: int) -> str:
    return f"{year:04d}{month:02d}"


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


@cache
def business_day_before(day: date) -> date:
    """Salaries due on a weekend are paid on the Friday before."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@cache
def business_day_after(day: date) -> date:
    """Automatic debits due on a weekend are taken on the Monday after."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


# Texts already made, by day and by second after midnight (dtime is called for nearly every record).
_DAY_TEXTS: dict[date, str] = {}
_CLOCK_TEXTS: dict[int, str] = {}


def dtime(day: date, seconds: int) -> str:
    """DTIME (YYYYMMDDhhmmss) for `seconds` after midnight of `day`."""
    day_text = _DAY_TEXTS.get(day)
    if day_text is None:
        day_text = _DAY_TEXTS[day] = f"{day.year:04d}{day.month:02d}{day.day:02d}"
    clock = _CLOCK_TEXTS.get(seconds)
    if clock is None:
        hours, rest = divmod(seconds, 3600)
        clock = _CLOCK_TEXTS[seconds] = f"{hours:02d}{rest // 60:02d}{rest % 60:02d}"
    return day_text + clock


def seconds_between(rng: random.Random, first_hour: int, last_hour: int) -> int:
    """A random second of the day from first_hour:00:00 to last_hour:59:59."""
    return rng.randint(first_hour * 3600, last_hour * 3600 + 3599)


@dataclass(frozen=True)
class Window:
    """The 12 months of history up to and including `end` (= as_of): (end - 12 months, end]."""

    start: date
    end: date

    @classmethod
    def ending(cls, as_of: date) -> Window:
        return cls(start=add_months(as_of, -12) + timedelta(days=1), end=as_of)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def months(self) -> list[tuple[int, int]]:
        """Every calendar month the window touches, oldest first (13 when the window starts mid-month)."""
        return list(_window_months(self.start, self.end))

    def charge_months(self) -> list[tuple[int, int]]:
        """The 12 calendar months up to and including `end`'s month, oldest first: the months a month-ranged
        request for the last 12 months (from_month … to_month, both inclusive) covers."""
        return self.months()[-12:]

    def random_day(self, rng: random.Random, year: int, month: int) -> date | None:
        """A random day of the month inside the window, or None when the window misses the month."""
        days = _window_days(self.start, self.end, year, month)
        if not days:
            return None
        return days[rng.randint(0, len(days) - 1)]


@cache
def _window_months(start: date, end: date) -> tuple[tuple[int, int], ...]:
    result = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        result.append((year, month))
        year, month = next_month(year, month)
    return tuple(result)


@cache
def _window_days(start: date, end: date, year: int, month: int) -> tuple[date, ...]:
    """The days of a month inside [start, end], in order (empty when the window misses the month)."""
    first = max(date(year, month, 1), start)
    last = min(month_day(year, month, 31), end)
    return tuple(first + timedelta(days=offset) for offset in range((last - first).days + 1))
