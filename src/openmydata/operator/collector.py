"""The collector: walks the catalogue for one provider and fetches every consented API.

Planning is pure (`collection_levels`, `plan_calls`, `history_range`): the asset list comes first, then every
API whose `source` names an API already collected, one request per matching source record. Ranged APIs get one
call per asset covering the range the x-api-type allows (digest §10.4: 12 months just after consent or on a
refresh; for scheduled calls 31 days, or 3 months for month ranges and the long-range APIs, starting no earlier
than the last date already fetched) — never split into parallel calls. APIs filtered by a `period_field` without
a source are called once per month, one month after the other. A scheduled collection asks only for the (API, key)
pairs that are due in the consent's cycle (`due`), so a retried job never asks twice in one cycle period (42901).

Fetching (`collect_provider`) only talks HTTP; the caller stores what it returns, so concurrent providers never
share a database session. Each page call goes through a `CallGuard`: the institution's rate limit and circuit
breaker, retries with jittered back-off for timeouts, 5xx, 429 and 503 (honouring Retry-After), one token refresh
(개별인증-003) on an invalid or expired access token, and no retry on any other 4xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from openmydata.kit.clock import add_months, parse_date, to_date, utcnow
from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.logging import get_logger
from openmydata.kit.resilience import Backoff, CircuitBreaker, CircuitOpen, RateLimiter
from openmydata.standard.catalogue import ApiSpec, Kind, NaturalKeys, selector_key
from openmydata.standard.client import ApiCallError, ApiResult, StandardClient
from openmydata.standard.codes import RspCode

_logger = get_logger("openmydata.operator.collector")

ENVELOPE_FIELDS = frozenset({"rsp_code", "rsp_msg", "search_timestamp", "next_page"})
UNAVAILABLE = "unavailable"
CIRCUIT_OPEN = "circuit-open"
BAD_REQUEST = "40001"
# 40101 (financial) and 40108 (nationwide: "refresh the token") are answered to an expired access token.
TOKEN_CODES = frozenset({RspCode.INVALID_TOKEN.value, "40108"})
# Outside the provider's scheduled-transmission windows: nothing to retry before the next window opens.
OUTSIDE_WINDOW = RspCode.OUTSIDE_WINDOW.value

Payload = dict[str, Any]
# api_id -> (key, natural key) -> payload
Known = dict[str, dict[tuple[str, str], Payload]]


@dataclass(frozen=True)
class Mark:
    """What the operator remembers of one (API, key) at one provider: the search_timestamp it was handed (sent back
    so unchanged data does not move again), when it was last transmitted on a scheduled call (one transmission per
    cycle period), and the end of the last range fetched (history is fetched incrementally from there)."""

    search_timestamp: str | None = None
    scheduled_at: datetime | None = None
    fetched_to: str | None = None


Marks = Mapping[tuple[str, str], Mark]
Due = Callable[[ApiSpec, str], bool]


@dataclass(frozen=True)
class RangePolicy:
    """How far back one call of a ranged API reaches, per x-api-type (digest §10.4; configurable per operator)."""

    months: int = 12  # user-consent and user-refresh: one call of up to 12 months
    scheduled_days: int = 31  # scheduled, APIs taking from_date/to_date
    scheduled_months: int = 3  # scheduled, APIs taking from_month/to_month, and the long-range APIs below
    long_range_apis: frozenset[str] = frozenset()  # scheduled date-range APIs allowed 3 months per call
    scheduled_period_months: int = 2  # scheduled, period-filtered APIs (통신-002): this month and the one before


@dataclass(frozen=True)
class Call:
    """One request of one API (pages are followed by the executor)."""

    api_id: str
    request: Payload
    key: str


def history_range(spec: ApiSpec, today: date, *, months: int = 12, since: date | None = None) -> Payload:
    """from/to covering `months` months back to today (inclusive both ends), or from `since` when later."""
    assert spec.range_fields is not None
    start_field, end_field = spec.range_fields
    if spec.range_unit == "month":
        first = add_months(today.replace(day=1), -(months - 1))
        if since is not None and since.replace(day=1) > first:
            first = since.replace(day=1)
        return {start_field: first.strftime("%Y%m"), end_field: today.strftime("%Y%m")}
    start = add_months(today, -months) + timedelta(days=1)
    if since is not None and start < since <= today:
        start = since
    return {start_field: to_date(start), end_field: to_date(today)}


def scheduled_range(spec: ApiSpec, today: date, policy: RangePolicy, fetched_to: str | None) -> Payload:
    """A scheduled call's range: the longest the standard allows per call, starting no earlier than the last date
    (or month) already fetched — that day is asked again, since it may have gained records after the last fetch."""
    assert spec.range_fields is not None
    since: date | None = None
    if fetched_to:
        try:
            since = parse_date(fetched_to) if len(fetched_to) == 8 else parse_date(fetched_to + "01")
        except ValueError:
            since = None
    if spec.range_unit == "month":
        return history_range(spec, today, months=policy.scheduled_months, since=since)
    if spec.id in policy.long_range_apis:
        return history_range(spec, today, months=policy.scheduled_months, since=since)
    start_field, end_field = spec.range_fields
    start = today - timedelta(days=policy.scheduled_days - 1)
    if since is not None and start < since <= today:
        start = since
    return {start_field: to_date(start), end_field: to_date(today)}


def period_months(today: date, *, months: int = 12, since: date | None = None) -> list[str]:
    """The last `months` months (oldest first) as YYYYMM, starting no earlier than `since`'s month."""
    result = []
    for back in range(months - 1, -1, -1):
        month = add_months(today.replace(day=1), -back)
        if since is not None and month < since.replace(day=1):
            continue
        result.append(month.strftime("%Y%m"))
    return result


def collection_levels(specs: Iterable[ApiSpec]) -> list[list[ApiSpec]]:
    """Dependency order: asset lists, then APIs without a source, then APIs whose source is collected earlier.

    An API whose source is not among `specs` cannot be planned and is left out.
    """
    pending = [spec for spec in specs if spec.kind in {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}]
    levels: list[list[ApiSpec]] = []
    first = [spec for spec in pending if spec.kind is Kind.ASSET_LIST]
    if first:
        levels.append(first)
    done = {spec.id for spec in first}
    pending = [spec for spec in pending if spec.id not in done]
    while pending:
        ready = [spec for spec in pending if spec.source is None or spec.source.api_id in done]
        if not ready:
            break
        levels.append(ready)
        done.update(spec.id for spec in ready)
        pending = [spec for spec in pending if spec.id not in done]
    return levels


def _consented(record: Mapping[str, Any]) -> bool:
    value = record.get("is_consent")
    return value is None or str(value).lower() not in {"false", "n"}


def source_values(spec: ApiSpec, source_records: Iterable[Mapping[str, Any]]) -> list[Payload]:
    """Request field values taken from the source records that match `source.where` (deduplicated, in order)."""
    if spec.source is None:
        return [{}]
    seen: set[tuple[tuple[str, str], ...]] = set()
    result: list[Payload] = []
    for record in source_records:
        if spec.source.where is not None and not spec.source.where(record):
            continue
        if not _consented(record):
            continue
        values = {
            request_field: str(record[record_field])
            for request_field, record_field in spec.source.fields.items()
            if record.get(record_field) not in (None, "")
        }
        identity = tuple(sorted(values.items()))
        if identity in seen:
            continue
        seen.add(identity)
        result.append(values)
    return result


def plan_calls(
    spec: ApiSpec,
    *,
    org_code: str,
    source_records: Iterable[Mapping[str, Any]] = (),
    today: date,
    months: int = 12,
    since: date | None = None,
    marks: Marks | None = None,
    api_type: str = "user-consent",
    policy: RangePolicy | None = None,
    due: Due | None = None,
) -> list[list[Call]]:
    """The calls for one API, as chains: calls within a chain run one after the other, chains may overlap.

    For `api_type="scheduled"` the ranges follow `policy` and a call whose (API, key) is not `due` is left out."""
    marks = marks or {}
    policy = policy or RangePolicy(months=months)
    scheduled = api_type == "scheduled"
    request_fields = spec.request.model_fields
    key_fields = spec.key_fields
    if spec.period_field is not None and spec.period_field not in key_fields:
        # the records of a period-filtered API do not name their period (통신-002): the key keeps it
        key_fields = (*key_fields, spec.period_field)
    chains: list[list[Call]] = []
    for values in source_values(spec, source_records):
        base: Payload = {"org_code": org_code, **values}
        if spec.paged and "limit" in request_fields:
            base["limit"] = 500
        if spec.range_fields is not None:
            mark = marks.get((spec.id, selector_key(base, key_fields)))
            span = (
                scheduled_range(spec, today, policy, mark.fetched_to if mark else None)
                if scheduled
                else history_range(spec, today, months=months, since=since)
            )
            requests = [{**base, **span}]
        elif spec.period_field is not None and spec.period_field not in values:
            window = policy.scheduled_period_months if scheduled else months
            requests = [
                {**base, spec.period_field: month}
                for month in period_months(today, months=window, since=None if scheduled else since)
            ]
        else:
            requests = [base]
        chain = []
        for request in requests:
            key = selector_key(request, key_fields)
            if scheduled and due is not None and not due(spec, key):
                continue
            mark = marks.get((spec.id, key))
            if mark and mark.search_timestamp and spec.search_timestamp and "search_timestamp" in request_fields:
                request = {**request, "search_timestamp": mark.search_timestamp}
            chain.append(Call(spec.id, request, key))
        if chain:
            chains.append(chain)
    return chains


def _content_key(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def natural_keys(spec: ApiSpec) -> NaturalKeys | None:
    """The natural keys of one retrieval of `spec` (all its pages): repeats of a key are numbered, so two identical
    records (two equal purchases on one day) are both kept; None when records have no natural key fields."""
    fields = spec.record_key or ((spec.asset_id_field,) if spec.asset_id_field else ())
    return NaturalKeys(fields) if fields else None


def extract(
    spec: ApiSpec, key: str, result: ApiResult[Any], keyer: NaturalKeys | None = None
) -> list[tuple[str, str, Payload]]:
    """(key, natural key, payload) of every object in one response page; `keyer` numbers repeats across the pages
    of one retrieval (a new one per page when not given)."""
    if result.up_to_date:
        return []
    model = result.model
    if spec.kind is Kind.ASSET_INFO:
        payload = {k: v for k, v in model.to_wire().items() if k not in ENVELOPE_FIELDS}
        return [(key, "", payload)]
    assert spec.list_field is not None
    entries = getattr(model, spec.list_field) or []
    keyer = keyer or natural_keys(spec)
    items = []
    for entry in entries:
        payload = entry.to_wire()
        natural = keyer(payload) if keyer is not None else _content_key(payload)
        items.append((key, natural, payload))
    return items


@dataclass(frozen=True)
class CallTiming:
    """One HTTP call of an info API (one page): when it was answered, how, and how long it took (statistics)."""

    api_id: str
    at: datetime
    rsp_ms: int
    status_code: int | None  # None: no answer (the provider could not be reached)
    rsp_code: str | None


class TokenHolder:
    """The access token one provider's collection uses, renewed at most once (개별인증-003) when the provider says
    it is invalid or expired; concurrent calls that were refused with the old token then use the new one."""

    def __init__(self, token: str, renew: Callable[[], Awaitable[str]] | None = None):
        self.token = token
        self._renew = renew
        self._lock = asyncio.Lock()
        self.renewed = False

    async def renew(self, refused: str) -> bool:
        """Renew unless someone already did since `refused` was sent; False when it cannot be renewed."""
        async with self._lock:
            if self.token != refused:
                return True
            if self._renew is None or self.renewed:
                return False
            self.renewed = True
            self.token = await self._renew()
            return True


Sleep = Callable[[float], Awaitable[None]]


@dataclass
class CallGuard:
    """The resilience of one provider's calls: its rate limit (`limiter`, keyed by org_code), its circuit breaker,
    and the retry policy of one page call (`backoff`: retries for timeouts, unreachable, 5xx, 429 and 503)."""

    limiter: RateLimiter | None = None
    breaker: CircuitBreaker | None = None
    backoff: Backoff = field(default_factory=Backoff)
    sleep: Sleep = asyncio.sleep


def _retryable(exc: ApiCallError) -> bool:
    """Timeouts and server errors (5xx), throttling (429) and unavailability (503) are retried; 50009 (outside the
    scheduled-transmission window) is not, since nothing changes before the next window opens."""
    return (exc.status_code == 429 or exc.status_code >= 500) and exc.code != OUTSIDE_WINDOW


@dataclass
class ProviderCollection:
    """What one provider returned in one collection run."""

    org_code: str
    items: dict[str, dict[tuple[str, str], Payload]] = field(default_factory=dict)
    marks: dict[tuple[str, str], str] = field(default_factory=dict)  # new search_timestamps
    fetched: dict[tuple[str, str], str] = field(default_factory=dict)  # (api, key) -> end of the range fetched
    transmitted: set[tuple[str, str]] = field(default_factory=set)  # (api, key) answered successfully
    errors: list[tuple[str, str]] = field(default_factory=list)
    calls_ok: int = 0
    timings: list[CallTiming] = field(default_factory=list)
    # Seconds the provider (Retry-After) or the circuit breaker asked to wait before the next attempt.
    retry_after_s: float | None = None
    token: str | None = None  # the access token after a renewal (개별인증-003), None when unchanged

    @property
    def unavailable(self) -> bool:
        return any(code in (UNAVAILABLE, CIRCUIT_OPEN) for _, code in self.errors)

    @property
    def transient(self) -> bool:
        """Whether every error is one a later attempt may not meet (unreachable, 5xx, 429, outside the window)."""
        return bool(self.errors) and all(_transient_code(code) for _, code in self.errors)

    @property
    def state(self) -> str:
        if not self.errors:
            return "ok"
        return "partial" if self.calls_ok else "failed"

    @property
    def error_code(self) -> str | None:
        return self.errors[0][1] if self.errors else None

    @property
    def record_count(self) -> int:
        return sum(len(items) for items in self.items.values())

    def suggest_wait(self, seconds: float | None) -> None:
        if seconds is not None and (self.retry_after_s is None or seconds > self.retry_after_s):
            self.retry_after_s = seconds


def _transient_code(code: str) -> bool:
    return code in (UNAVAILABLE, CIRCUIT_OPEN, "429") or code.startswith("5") or code == RspCode.LIMIT_EXCEEDED.value


async def collect_provider(
    client: StandardClient,
    specs: Sequence[ApiSpec],
    *,
    org_code: str,
    token: str | TokenHolder,
    today: date,
    known: Known | None = None,
    marks: Marks | None = None,
    months: int = 12,
    since: date | None = None,
    concurrency: int = 4,
    api_type: str = "user-consent",
    policy: RangePolicy | None = None,
    due: Due | None = None,
    guard: CallGuard | None = None,
) -> ProviderCollection:
    """Fetch every API of `specs` from one provider, level by level, at most `concurrency` calls at a time."""
    available: Known = {api_id: dict(items) for api_id, items in (known or {}).items()}
    outcome = ProviderCollection(org_code=org_code)
    gate = asyncio.Semaphore(concurrency)
    specs_by_id = {spec.id: spec for spec in specs}
    holder = token if isinstance(token, TokenHolder) else TokenHolder(token)
    guard = guard or CallGuard(backoff=Backoff(max_attempts=1))
    initial_token = holder.token

    async def fetch_page(spec: ApiSpec, request: Payload) -> ApiResult[Any] | None:
        """One page, with the guard's retries; None when it failed (the error is recorded in the outcome)."""
        attempt = 0
        failure: str | None = None
        while True:
            if guard.breaker is not None:
                try:
                    guard.breaker.check()
                except CircuitOpen as exc:
                    # The institution keeps failing: no more calls now. A call that already failed keeps its own
                    # code (the cause); one that never went out says the circuit is open.
                    outcome.suggest_wait(exc.retry_after_s)
                    outcome.errors.append((spec.id, failure or CIRCUIT_OPEN))
                    return None
            if guard.limiter is not None:
                await guard.limiter.acquire(org_code)
            sent = holder.token
            started = time.perf_counter()
            retry_after: float | None = None
            try:
                page = await client.call(spec, request, token=sent, api_type=api_type)
            except ApiCallError as exc:
                _timed(outcome, spec.id, started, exc.status_code, exc.code or None)
                if exc.status_code == 401 and exc.code in TOKEN_CODES:
                    if guard.breaker is not None:
                        guard.breaker.record_success()  # the institution answered
                    try:
                        renewed = await holder.renew(sent)
                    except (ApiCallError, PeerUnavailable) as refresh_error:
                        code = refresh_error.code if isinstance(refresh_error, ApiCallError) else UNAVAILABLE
                        outcome.errors.append(("개별인증-003", code or UNAVAILABLE))
                        return None
                    if renewed:
                        continue
                if not _retryable(exc):
                    if guard.breaker is not None:
                        guard.breaker.record_success()
                    _logger.info("collection call refused", org_code=org_code, api_id=spec.id, code=exc.code)
                    outcome.errors.append((spec.id, exc.code or str(exc.status_code)))
                    return None
                retry_after = exc.retry_after_s
                if exc.status_code != 429 and guard.breaker is not None:
                    guard.breaker.record_failure()  # throttling says nothing about the institution's health
                failure = exc.code or str(exc.status_code)
            except PeerUnavailable:
                _timed(outcome, spec.id, started, None, None)
                if guard.breaker is not None:
                    guard.breaker.record_failure()
                failure = UNAVAILABLE
            else:
                _timed(outcome, spec.id, started, page.status_code, page.rsp_code)
                if guard.breaker is not None:
                    guard.breaker.record_success()
                return page
            attempt += 1
            if not guard.backoff.should_retry(attempt) or (
                retry_after is not None and retry_after > guard.backoff.max_s
            ):
                # A Retry-After beyond the back-off (a scheduled cycle used up until next week, 42901) concerns this
                # consent, API and asset only: the call is given up and the institution's other calls go on.
                _logger.info("provider unavailable", org_code=org_code, api_id=spec.id, code=failure)
                outcome.suggest_wait(retry_after)
                outcome.errors.append((spec.id, failure))
                return None
            if retry_after is not None and guard.limiter is not None:
                # A short Retry-After is the institution throttling this client: every call to it waits that long.
                await guard.limiter.pause(org_code, retry_after)
            await guard.sleep(guard.backoff.delay(attempt, retry_after_s=retry_after))

    async def run_call(call: Call) -> None:
        spec = specs_by_id[call.api_id]
        try:
            request = spec.request.model_validate(call.request).to_wire()
        except ValidationError:
            outcome.errors.append((spec.id, BAD_REQUEST))
            return
        first = True
        current = dict(request)
        keyer = natural_keys(spec)
        while True:
            page = await fetch_page(spec, current)
            if page is None:
                return
            stamp = page.raw.get("search_timestamp") if first else None
            first = False
            if isinstance(stamp, str) and stamp and not page.up_to_date:
                outcome.marks[(spec.id, call.key)] = stamp
            for key, natural, payload in extract(spec, call.key, page, keyer):
                outcome.items.setdefault(spec.id, {})[(key, natural)] = payload
            next_page = page.raw.get("next_page") if not page.up_to_date else None
            if not next_page:
                break
            # search_timestamp goes on the first page only (digest §2.4)
            current = {k: v for k, v in current.items() if k != "search_timestamp"}
            current["next_page"] = next_page
        outcome.calls_ok += 1
        outcome.transmitted.add((spec.id, call.key))
        if spec.range_fields is not None:
            outcome.fetched[(spec.id, call.key)] = str(request.get(spec.range_fields[1]) or "")

    async def run_chain(chain: list[Call]) -> None:
        for call in chain:
            if outcome.unavailable:
                return
            async with gate:
                await run_call(call)

    for level in collection_levels(specs):
        chains: list[list[Call]] = []
        for spec in level:
            sources = available.get(spec.source.api_id, {}).values() if spec.source else ()
            chains.extend(
                plan_calls(
                    spec,
                    org_code=org_code,
                    source_records=list(sources),
                    today=today,
                    months=months,
                    since=since,
                    marks=marks,
                    api_type=api_type,
                    policy=policy,
                    due=due,
                )
            )
        await asyncio.gather(*(run_chain(chain) for chain in chains))
        for spec in level:
            fresh = outcome.items.get(spec.id)
            if fresh:
                available.setdefault(spec.id, {}).update(fresh)
        if outcome.unavailable:
            break
    if holder.token != initial_token:
        outcome.token = holder.token
    return outcome


def _timed(outcome: ProviderCollection, api_id: str, started: float, status: int | None, code: str | None) -> None:
    elapsed = max(0, round((time.perf_counter() - started) * 1000))
    outcome.timings.append(CallTiming(api_id, utcnow(), elapsed, status, code))
