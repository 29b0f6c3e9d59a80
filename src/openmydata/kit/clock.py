"""Time helpers: UTC in storage, Asia/Seoul on the wire."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone

KST = timezone(timedelta(hours=9), name="KST")


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_kst() -> datetime:
    return datetime.now(KST)


def today_kst() -> date:
    return now_kst().date()


def to_dtime(moment: datetime) -> str:
    """Format as the standard's DTIME (YYYYMMDDhhmmss, Asia/Seoul)."""
    return moment.astimezone(KST).strftime("%Y%m%d%H%M%S")


def parse_dtime(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=KST)


def to_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def parse_date(value: str) -> date:
    return datetime.strptime(value, "%Y%m%d").date()


def as_utc(moment: datetime) -> datetime:
    """Normalise a datetime read back from storage (SQLite drops tzinfo) to aware UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
