"""Scheduled transmission (정기적 전송) rules: the consent's cycle and the provider's time windows (digest §4.2,
§10.4). Providers enforce them on every `x-api-type: scheduled` call; operators plan their scheduled collection by
them, so both read the rules from here.

- The cycle (`Cycle`, the consent's `fnd_cycle` / `add_cycle`, "<count>/<d|w|m>") allows `count` transmissions
  per calendar period of the unit, per customer, asset and API (§10.4); periods are calendar days, weeks running
  Sunday to Saturday (§10.4), and calendar months, all in Asia/Seoul.
- The windows (`Windows`, 지원-002 `np_time_list`) are daily `hhmm:hhmm` spans in Asia/Seoul during which scheduled
  calls are allowed (outside them: 50009). A provider registers 1 to 3 of them, on 30-minute boundaries, at least
  6 hours a day in total (§10.4).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from openmydata.kit.clock import KST
from openmydata.standard.catalogue import ApiSpec, CycleClass
from openmydata.standard.consent import CYCLE_RE, TransmissionCycle

CycleUnit = Literal["d", "w", "m"]

MINUTES_PER_DAY = 24 * 60
# APIs whose scheduled calls may span 3 months instead of 31 days (§10.4 "History range, scheduled"): 은행-010,
# 보험-006/007/011, 할부금융-004/006, 보증보험-003, P2P-004, 채권-003. Providers enforce it, operators plan by it.
SCHEDULED_LONG_RANGE_APIS: tuple[str, ...] = (
    "은행-010",
    "보험-006",
    "보험-007",
    "보험-011",
    "할부금융-004",
    "할부금융-006",
    "보증보험-003",
    "P2P-004",
    "채권-003",
)
# What a provider may register (§10.4 "Scheduled-transmission windows").
MAX_WINDOWS = 3
WINDOW_GRANULARITY_MIN = 30
MIN_DAILY_WINDOW_MIN = 6 * 60

_WINDOW_RE = re.compile(r"([0-9]{2})([0-9]{2}):([0-9]{2})([0-9]{2})")
_MICROS_PER_MINUTE = 60_000_000


def _kst(moment: datetime) -> datetime:
    """`moment` in Asia/Seoul; a naive datetime names no instant, so it is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is needed")
    return moment.astimezone(KST)


def _midnight(local: datetime) -> datetime:
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def seconds_until(moment: datetime, later: datetime) -> int:
    """Whole seconds from `moment` to `later`, rounded up and at least 1: a Retry-After value (RFC 9110 §10.2.3)
    that never invites a retry before `later`."""
    return max(1, math.ceil((later - moment).total_seconds()))


@dataclass(frozen=True)
class Cycle:
    """A consent cycle "<count>/<d|w|m>" (digest §4.1): at most `count` scheduled transmissions per calendar day,
    week (Sunday to Saturday, §10.4) or month, in Asia/Seoul."""

    count: int
    unit: CycleUnit

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 999 or self.unit not in ("d", "w", "m"):
            raise ValueError(f"not a transmission cycle: {self.count}/{self.unit}")

    @classmethod
    def parse(cls, text: str) -> Cycle:
        """ "1/w" → Cycle(1, "w"); ValueError on anything else (the consent's own format, `consent.CYCLE_RE`)."""
        if not isinstance(text, str) or not CYCLE_RE.fullmatch(text):
            raise ValueError(f"a transmission cycle is <count>/<d|w|m>, e.g. 1/w, not {text!r}")
        count, unit = text.split("/")
        return cls(int(count), cast(CycleUnit, unit))

    def to_wire(self) -> str:
        return f"{self.count}/{self.unit}"

    def period_start(self, moment: datetime) -> datetime:
        """The start (aware, KST) of the calendar period containing `moment`: the day at 00:00, the week on its
        Sunday at 00:00 (§10.4: the week runs Sunday to Saturday), the month on the 1st at 00:00."""
        local = _kst(moment)
        day = _midnight(local)
        if self.unit == "d":
            return day
        if self.unit == "w":
            return day - timedelta(days=(local.weekday() + 1) % 7)  # weekday(): Monday 0 … Sunday 6
        return day.replace(day=1)

    def next_period_start(self, moment: datetime) -> datetime:
        """The start (aware, KST) of the period after the one containing `moment`."""
        start = self.period_start(moment)
        if self.unit == "d":
            return start + timedelta(days=1)
        if self.unit == "w":
            return start + timedelta(weeks=1)
        return (start + timedelta(days=32)).replace(day=1)

    def seconds_until_next_period(self, moment: datetime) -> int:
        """Retry-After for a call refused because the period's transmissions are used up (42901)."""
        return seconds_until(moment, self.next_period_start(moment))


def cycle_for(spec: ApiSpec, cycle: TransmissionCycle) -> Cycle:
    """The cycle that governs `spec` under a consent: add_cycle for 추가 APIs, fnd_cycle for 기본 ones and for APIs
    without a class (digest §4.1: the 정기적 전송주기 class decides)."""
    return Cycle.parse(cycle.add_cycle if spec.cycle is CycleClass.ADDITIONAL else cycle.fnd_cycle)


@dataclass(frozen=True)
class TimeWindow:
    """A daily window `hhmm:hhmm` in Asia/Seoul (지원-002 `np_time`): from `start_min` (included) to `end_min`
    (excluded), in minutes after midnight. The end may be 2400 (midnight at the end of the day); an end before the
    start wraps past midnight ("2300:0100")."""

    start_min: int
    end_min: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_min < MINUTES_PER_DAY or not 0 <= self.end_min <= MINUTES_PER_DAY:
            raise ValueError(f"a window runs between 0000 and 2400: {self.start_min}, {self.end_min}")
        if self.start_min == self.end_min:
            raise ValueError("a window needs an end other than its start")

    @classmethod
    def parse(cls, text: str) -> TimeWindow:
        match = _WINDOW_RE.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"a window is hhmm:hhmm, e.g. 0030:0530, not {text!r}")
        start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
        if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m > 0):
            raise ValueError(f"not a time of day in {text!r} (0000 to 2359, or 2400 as the end)")
        if start_h * 60 + start_m == end_h * 60 + end_m:
            raise ValueError(f"a window needs an end other than its start: {text!r}")
        return cls(start_h * 60 + start_m, end_h * 60 + end_m)

    def to_wire(self) -> str:
        return f"{self.start_min // 60:02d}{self.start_min % 60:02d}:{self.end_min // 60:02d}{self.end_min % 60:02d}"

    @property
    def wraps(self) -> bool:
        """Whether the window runs past midnight."""
        return self.end_min < self.start_min

    def minutes(self) -> int:
        """The window's length in minutes."""
        if self.wraps:
            return MINUTES_PER_DAY - self.start_min + self.end_min
        return self.end_min - self.start_min

    def spans(self) -> tuple[tuple[int, int], ...]:
        """The window as half-open minute ranges within one day (two for a window past midnight)."""
        if not self.wraps:
            return ((self.start_min, self.end_min),)
        return tuple(span for span in ((self.start_min, MINUTES_PER_DAY), (0, self.end_min)) if span[0] < span[1])

    def contains(self, moment: datetime) -> bool:
        """Whether `moment`'s time of day in Asia/Seoul falls inside the window."""
        local = _kst(moment)
        micros = (local - _midnight(local)) // timedelta(microseconds=1)
        return any(start * _MICROS_PER_MINUTE <= micros < end * _MICROS_PER_MINUTE for start, end in self.spans())

    def next_start(self, moment: datetime) -> datetime:
        """The first start of this window after `moment` (aware, KST)."""
        local = _kst(moment)
        start = _midnight(local) + timedelta(minutes=self.start_min)
        return start if start > local else start + timedelta(days=1)

    def overlaps(self, other: TimeWindow) -> bool:
        return any(a < d and c < b for a, b in self.spans() for c, d in other.spans())


@dataclass(frozen=True)
class Windows:
    """A provider's published scheduled-transmission windows (지원-002 `np_time_list`). No window means none is
    published: there is nothing to enforce, so every moment is allowed (`contains`)."""

    windows: tuple[TimeWindow, ...] = ()

    @classmethod
    def parse(cls, texts: Iterable[str]) -> Windows:
        """Windows from `hhmm:hhmm` texts (ValueError on any other); an empty iterable is "none published"."""
        if isinstance(texts, str):
            raise ValueError("windows are a list of hhmm:hhmm texts, not one text")
        return cls(tuple(TimeWindow.parse(text) for text in texts))

    def to_wire(self) -> list[str]:
        return [window.to_wire() for window in self.windows]

    @property
    def published(self) -> bool:
        return bool(self.windows)

    def contains(self, moment: datetime) -> bool:
        """True when no window is published (nothing to enforce), else whether `moment` is inside one of them."""
        return not self.windows or any(window.contains(moment) for window in self.windows)

    def next_open(self, moment: datetime) -> datetime:
        """`moment` itself when scheduled calls are allowed then, else the start of the next window (aware, KST)."""
        if self.contains(moment):
            return moment
        return min(window.next_start(moment) for window in self.windows)

    def seconds_until_open(self, moment: datetime) -> int:
        """Retry-After for a scheduled call refused outside the windows (50009): whole seconds, at least 1."""
        return seconds_until(moment, self.next_open(moment))

    def daily_minutes(self) -> int:
        """Minutes a day covered by at least one window."""
        covered: set[int] = set()
        for window in self.windows:
            for start, end in window.spans():
                covered.update(range(start, end))
        return len(covered)

    def check_registration(self) -> None:
        """What the standard asks of the windows a provider registers (§10.4): 1 to 3 windows, each starting and
        ending on a 30-minute boundary, none overlapping another, at least 6 hours a day in total. ValueError
        with a plain message otherwise."""
        if not 1 <= len(self.windows) <= MAX_WINDOWS:
            raise ValueError(f"a provider registers 1 to {MAX_WINDOWS} windows, not {len(self.windows)}")
        for window in self.windows:
            if window.start_min % WINDOW_GRANULARITY_MIN or window.end_min % WINDOW_GRANULARITY_MIN:
                raise ValueError(
                    f"window {window.to_wire()} does not start and end on a {WINDOW_GRANULARITY_MIN}-minute boundary"
                )
        for index, window in enumerate(self.windows):
            for other in self.windows[index + 1 :]:
                if window.overlaps(other):
                    raise ValueError(f"windows {window.to_wire()} and {other.to_wire()} overlap")
        total = self.daily_minutes()
        if total < MIN_DAILY_WINDOW_MIN:
            raise ValueError(
                f"the windows cover {total // 60} h {total % 60:02d} min a day; at least "
                f"{MIN_DAILY_WINDOW_MIN // 60} hours are required"
            )


__all__ = [
    "MAX_WINDOWS",
    "MIN_DAILY_WINDOW_MIN",
    "SCHEDULED_LONG_RANGE_APIS",
    "WINDOW_GRANULARITY_MIN",
    "Cycle",
    "CycleUnit",
    "TimeWindow",
    "Windows",
    "cycle_for",
    "seconds_until",
]
