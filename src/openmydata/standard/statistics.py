"""The weekly statistics of 지원-004 (operator) and 지원-005 (provider), computed the same way on both sides
(digest §10.4, "Statistics reporting"): a report sent on a Sunday (`inquiry_date`) holds one row per day of the
previous Sunday–Saturday (Asia/Seoul days), split by `type` (1 scheduled, 2 user-involved).

Each participant turns its own records into `CallSample`s (one per information API call: when, which API, how
long, whether it succeeded) and `ConsentSpan`s (one per consent: from when to when it was held, and whether it
ended by a revocation); `weekly_report` builds the daily rows from them.

Readings of this project where the digest says no more (also in docs/decisions.md):
- **Time bands (첨부11, `tm_slot_cnt` 2).** The codes were not seen. Band `01` is the peak window, 09:00–18:00
  Asia/Seoul by default, and band `02` the rest of the day (the off-peak hours, when scheduled transmission
  should run, cf. the providers' `np_time` windows of 지원-002). The window is a setting (`TimeBands.parse`,
  "HHMM-HHMM"); every API row carries both bands, zero where there was no call.
- **Response times** cover every call that was answered, successful or not: `rsp_total` their sum, `rsp_avg` the
  mean and `rsp_stdev` the population standard deviation, in whole milliseconds (rounded half up; `rsp_avg` and
  `rsp_stdev` are capped at the field's six digits).
- **success / fail**: a call is successful when it was answered with rsp_code 00000 or 00001; every other answer
  (4xx, 5xx) and a call that got no answer are failures.
- **Consents** are user-involved events: `consent_new` (consents given that day), `consent_revoke` (consents
  revoked that day) and `consent_own` (consents held at the end of the day) appear in type 2 reports; type 1
  reports carry 0 for the first two and leave `consent_own` out (as §10.4 says).
- Every counterpart named for the week gets a row on each of the seven days (zeros on a quiet day); an API
  appears on a day only if it was called that day with that type.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import Depends, Query
from pydantic import ValidationError

from openmydata.kit.clock import KST, parse_date
from openmydata.standard import profiles
from openmydata.standard.apis.support import (
    STAT_DAYS,
    TIME_SLOTS,
    ApiTypeStat,
    CounterpartStat,
    StatDate,
    StatisticsResendRequest,
    StatType,
    TimeSlotStat,
    week_dates,
)
from openmydata.standard.codes import RspCode, StandardError

PEAK_BAND = "01"
OFF_PEAK_BAND = "02"
BANDS = (PEAK_BAND, OFF_PEAK_BAND)
DEFAULT_PEAK_HOURS = "0900-1800"
# A success in any profile's code set: 00000/00001, and the nationwide standard's 20001/20002 (calls the operator
# made to a nationwide-profile provider).
SUCCESS_CODES = profiles.SUCCESS_CODES | profiles.UP_TO_DATE_CODES
MAX_MILLIS = 999_999  # N(6)
USER_API_TYPES = frozenset({"user-consent", "user-refresh", "user-search"})

_WINDOW_RE = re.compile(r"^([01]\d|2[0-4])([0-5]\d)-([01]\d|2[0-4])([0-5]\d)$")


@dataclass(frozen=True)
class TimeBands:
    """The two time bands of 첨부11 as read here: `01` the peak window [start, end) in Asia/Seoul, `02` the rest."""

    peak_start: time
    peak_end: time

    @classmethod
    def parse(cls, window: str) -> TimeBands:
        """From "HHMM-HHMM" (end after start; "2400" is midnight at the end of the day)."""
        match = _WINDOW_RE.fullmatch(window.strip())
        if match is None:
            raise ValueError(f"time band window {window!r} is not HHMM-HHMM")
        start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
        start, end = start_h * 60 + start_m, end_h * 60 + end_m
        if not 0 <= start < end <= 24 * 60:
            raise ValueError(f"time band window {window!r} must end after it starts, within one day")
        return cls(_clock_time(start), _clock_time(end))

    def band(self, moment: datetime) -> str:
        local = moment.astimezone(KST).time()
        after_end = self.peak_end == time(0) or local < self.peak_end
        return PEAK_BAND if self.peak_start <= local and after_end else OFF_PEAK_BAND


def _clock_time(minutes: int) -> time:
    return time(0) if minutes == 24 * 60 else time(minutes // 60, minutes % 60)


def stat_type_of(api_type: str | None) -> str | None:
    """x-api-type → report type: `scheduled` is 1, the user-* types are 2; anything else is not counted."""
    if api_type == "scheduled":
        return StatType.SCHEDULED.value
    if api_type in USER_API_TYPES:
        return StatType.USER.value
    return None


def is_success(rsp_code: str | None) -> bool:
    return rsp_code in SUCCESS_CODES


@dataclass(frozen=True)
class CallSample:
    """One information API call as seen by the reporting participant."""

    at: datetime
    counterpart: str  # the operator's org_code at a provider, the provider's at an operator
    stat_type: str  # "1" or "2"
    api_code: str  # the catalogue's api_code (첨부12 reading)
    ok: bool
    rsp_ms: int


@dataclass(frozen=True)
class ConsentSpan:
    """One consent: held from `start` until `end` (None: still held); `revoked` when a revocation ended it."""

    counterpart: str
    start: datetime
    end: datetime | None = None
    revoked: bool = False

    def held_at(self, moment: datetime) -> bool:
        """Held at the instant just before `moment` (the end of a day)."""
        return self.start < moment and (self.end is None or self.end >= moment)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of an Asia/Seoul day, as aware datetimes."""
    start = datetime.combine(day, time(0), tzinfo=KST)
    return start, start + timedelta(days=1)


def week_bounds(inquiry_date: str) -> tuple[datetime, datetime]:
    """[start, end) of the week a report sent on `inquiry_date` covers (the previous Sunday–Saturday)."""
    days = week_dates(inquiry_date)
    return day_bounds(parse_date(days[0]))[0], day_bounds(parse_date(days[-1]))[1]


def latest_sunday(today: date) -> date:
    """The last Sunday on or before `today`: the inquiry_date of the latest report that is due."""
    return today - timedelta(days=(today.weekday() + 1) % 7)


def next_sunday(today: date) -> date:
    """The first Sunday after `today`: the inquiry_date of the report covering the current week."""
    return today + timedelta(days=7 - (today.weekday() + 1) % 7)


def _half_up(value: float) -> int:
    return math.floor(value + 0.5)


def slot_stat(band: str, samples: Sequence[CallSample]) -> TimeSlotStat:
    """The figures of one time band: response-time total, mean and population standard deviation (ms)."""
    times = [max(0, sample.rsp_ms) for sample in samples]
    total = sum(times)
    count = len(times)
    mean = total / count if count else 0.0
    stdev = math.sqrt(sum((value - mean) ** 2 for value in times) / count) if count else 0.0
    return TimeSlotStat(
        tm_slot=band,
        rsp_avg=min(MAX_MILLIS, _half_up(mean)),
        rsp_total=total,
        rsp_stdev=min(MAX_MILLIS, _half_up(stdev)),
        success_api_cnt=sum(1 for sample in samples if sample.ok),
        fail_api_cnt=sum(1 for sample in samples if not sample.ok),
    )


def api_stats(samples: Iterable[CallSample], bands: TimeBands) -> list[ApiTypeStat]:
    """One row per API code (sorted), each with both time bands."""
    by_api: dict[str, dict[str, list[CallSample]]] = {}
    for sample in samples:
        by_api.setdefault(sample.api_code, {band: [] for band in BANDS})[bands.band(sample.at)].append(sample)
    return [
        ApiTypeStat(
            api_type=api_code,
            tm_slot_cnt=TIME_SLOTS,
            tm_slot_list=[slot_stat(band, per_band[band]) for band in BANDS],
        )
        for api_code, per_band in sorted(by_api.items())
    ]


def weekly_report(
    inquiry_date: str,
    stat_type: str,
    *,
    counterparts: Iterable[str],
    samples: Iterable[CallSample],
    consents: Iterable[ConsentSpan],
    bands: TimeBands,
) -> list[StatDate]:
    """The seven daily rows of one report (`stat_type` "1" or "2") for the week before `inquiry_date`."""
    orgs = sorted(set(counterparts))
    typed = [sample for sample in samples if sample.stat_type == stat_type]
    spans = list(consents)
    user = stat_type == StatType.USER.value
    rows: list[StatDate] = []
    for day_text in week_dates(inquiry_date):
        start, end = day_bounds(parse_date(day_text))
        day_samples = [sample for sample in typed if start <= sample.at < end]
        entries = []
        for org in orgs:
            mine = [span for span in spans if span.counterpart == org]
            apis = api_stats([sample for sample in day_samples if sample.counterpart == org], bands)
            entries.append(
                CounterpartStat(
                    org_code=org,
                    consent_new=sum(1 for span in mine if start <= span.start < end) if user else 0,
                    consent_revoke=(
                        sum(1 for span in mine if span.revoked and span.end is not None and start <= span.end < end)
                        if user
                        else 0
                    ),
                    consent_own=sum(1 for span in mine if span.held_at(end)) if user else None,
                    api_type_cnt=len(apis),
                    api_type_list=apis,
                )
            )
        rows.append(StatDate(stat_date=day_text, org_cnt=len(entries), org_list=entries))
    assert len(rows) == STAT_DAYS
    return rows


def resend_query(
    org_code: Annotated[str, Query(description="the addressed organisation")],
    org_type: Annotated[str, Query(description="01 operator, 02 other receiver, 03 provider")],
    stat_type: Annotated[str, Query(alias="type", description="0 both, 1 scheduled, 2 user-involved")],
    inquiry_date: Annotated[str, Query(description="the Sunday the week's report was (or is) sent on, YYYYMMDD")],
) -> dict[str, str]:
    """지원-104's query parameters as a route declares them (FastAPI dependency); `resend_request` checks them."""
    return {"org_code": org_code, "org_type": org_type, "type": stat_type, "inquiry_date": inquiry_date}


ResendQuery = Annotated[dict[str, str], Depends(resend_query)]


def resend_request(params: Mapping[str, str], *, org_code: str, org_type: str, today: date) -> StatisticsResendRequest:
    """지원-104 as the addressed organisation reads it (`org_code` and `org_type` its own, 01 operator or 03
    provider). 40001 (naming what is wrong) for a malformed request, another organisation or org_type, an
    inquiry_date that is not a Sunday, or a week that has not begun: any Sunday up to the one closing the current
    week can be asked for (that one gives the week so far)."""
    try:
        request = StatisticsResendRequest.model_validate(dict(params))
    except ValidationError as exc:
        fields = ", ".join(sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]}))
        raise StandardError(RspCode.BAD_PARAMETER, fields or "request") from exc
    if request.org_code != org_code:
        raise StandardError(RspCode.BAD_PARAMETER, "org_code names another organisation")
    if request.org_type != org_type:
        raise StandardError(RspCode.BAD_PARAMETER, f"org_type: this organisation's is {org_type}")
    if parse_date(request.inquiry_date) > next_sunday(today):
        raise StandardError(RspCode.BAD_PARAMETER, "inquiry_date: that week has not begun")
    return request


def report_types(requested: str) -> list[str]:
    """지원-104 `type`: 0 both, 1 scheduled, 2 user-involved."""
    if requested == StatType.BOTH.value:
        return [StatType.SCHEDULED.value, StatType.USER.value]
    return [requested]


__all__ = [
    "BANDS",
    "DEFAULT_PEAK_HOURS",
    "CallSample",
    "ConsentSpan",
    "ResendQuery",
    "TimeBands",
    "day_bounds",
    "latest_sunday",
    "next_sunday",
    "report_types",
    "resend_request",
    "stat_type_of",
    "week_bounds",
    "weekly_report",
]
