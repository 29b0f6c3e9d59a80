"""The collector: walks the catalogue for one provider and fetches every consented API.

Planning is pure (`collection_levels`, `plan_calls`, `history_range`): the asset list comes first, then every
API whose `source` names an API already collected, one request per matching source record. Ranged APIs get one
call covering the last 12 months (never split into parallel calls per month, digest §10.4); APIs filtered by a
`period_field` without a source are called once per month, one month after the other. Fetching
(`collect_provider`) only talks HTTP; the caller stores what it returns, so concurrent providers never share a
database session.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from openmydata.kit.clock import add_months, to_date, utcnow
from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.logging import get_logger
from openmydata.standard.catalogue import ApiSpec, Kind, record_natural_key, selector_key
from openmydata.standard.client import ApiCallError, ApiResult, StandardClient

_logger = get_logger("openmydata.operator.collector")

ENVELOPE_FIELDS = frozenset({"rsp_code", "rsp_msg", "search_timestamp", "next_page"})
UNAVAILABLE = "unavailable"
BAD_REQUEST = "40001"

Payload = dict[str, Any]
# api_id -> (key, natural key) -> payload
Known = dict[str, dict[tuple[str, str], Payload]]


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
    marks: Mapping[tuple[str, str], str] | None = None,
) -> list[list[Call]]:
    """The calls for one API, as chains: calls within a chain run one after the other, chains may overlap."""
    marks = marks or {}
    request_fields = spec.request.model_fields
    chains: list[list[Call]] = []
    for values in source_values(spec, source_records):
        base: Payload = {"org_code": org_code, **values}
        if spec.paged and "limit" in request_fields:
            base["limit"] = 500
        if spec.range_fields is not None:
            requests = [{**base, **history_range(spec, today, months=months, since=since)}]
        elif spec.period_field is not None and spec.period_field not in values:
            requests = [
                {**base, spec.period_field: month} for month in period_months(today, months=months, since=since)
            ]
        else:
            requests = [base]
        key_fields = spec.key_fields
        if spec.period_field is not None and spec.period_field not in key_fields:
            # the records of a period-filtered API do not name their period (통신-002): the key keeps it
            key_fields = (*key_fields, spec.period_field)
        chain = []
        for request in requests:
            key = selector_key(request, key_fields)
            mark = marks.get((spec.id, key))
            if mark and spec.search_timestamp and "search_timestamp" in request_fields:
                request = {**request, "search_timestamp": mark}
            chain.append(Call(spec.id, request, key))
        if chain:
            chains.append(chain)
    return chains


def _content_key(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def extract(spec: ApiSpec, key: str, result: ApiResult[Any]) -> list[tuple[str, str, Payload]]:
    """(key, natural key, payload) of every object in one response page."""
    if result.up_to_date:
        return []
    model = result.model
    if spec.kind is Kind.ASSET_INFO:
        payload = {k: v for k, v in model.to_wire().items() if k not in ENVELOPE_FIELDS}
        return [(key, "", payload)]
    assert spec.list_field is not None
    entries = getattr(model, spec.list_field) or []
    natural_fields = spec.record_key or ((spec.asset_id_field,) if spec.asset_id_field else ())
    items = []
    for entry in entries:
        payload = entry.to_wire()
        natural = record_natural_key(payload, natural_fields) if natural_fields else _content_key(payload)
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


@dataclass
class ProviderCollection:
    """What one provider returned in one collection run."""

    org_code: str
    items: dict[str, dict[tuple[str, str], Payload]] = field(default_factory=dict)
    marks: dict[tuple[str, str], str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    calls_ok: int = 0
    timings: list[CallTiming] = field(default_factory=list)

    @property
    def unavailable(self) -> bool:
        return any(code == UNAVAILABLE for _, code in self.errors)

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


async def collect_provider(
    client: StandardClient,
    specs: Sequence[ApiSpec],
    *,
    org_code: str,
    token: str,
    today: date,
    known: Known | None = None,
    marks: Mapping[tuple[str, str], str] | None = None,
    months: int = 12,
    since: date | None = None,
    concurrency: int = 4,
    api_type: str = "user-consent",
) -> ProviderCollection:
    """Fetch every API of `specs` from one provider, level by level, at most `concurrency` calls at a time."""
    available: Known = {api_id: dict(items) for api_id, items in (known or {}).items()}
    outcome = ProviderCollection(org_code=org_code)
    gate = asyncio.Semaphore(concurrency)
    specs_by_id = {spec.id: spec for spec in specs}

    async def run_call(call: Call) -> None:
        spec = specs_by_id[call.api_id]
        try:
            request = spec.request.model_validate(call.request).to_wire()
        except ValidationError:
            outcome.errors.append((spec.id, BAD_REQUEST))
            return
        started = time.perf_counter()

        def timed(status_code: int | None, rsp_code: str | None) -> None:
            elapsed = max(0, round((time.perf_counter() - started) * 1000))
            outcome.timings.append(CallTiming(spec.id, utcnow(), elapsed, status_code, rsp_code))

        try:
            first = True
            # the entry as given (an API served under several industries is bound to the provider's)
            async for page in client.pages(spec, request, token=token, api_type=api_type):
                timed(page.status_code, page.rsp_code)
                stamp = page.raw.get("search_timestamp") if first else None
                first = False
                if isinstance(stamp, str) and stamp and not page.up_to_date:
                    outcome.marks[(spec.id, call.key)] = stamp
                for key, natural, payload in extract(spec, call.key, page):
                    outcome.items.setdefault(spec.id, {})[(key, natural)] = payload
                started = time.perf_counter()
            outcome.calls_ok += 1
        except ApiCallError as exc:
            timed(exc.status_code, exc.code or None)
            _logger.info("collection call refused", org_code=org_code, api_id=spec.id, code=exc.code)
            outcome.errors.append((spec.id, exc.code or str(exc.status_code)))
        except PeerUnavailable:
            timed(None, None)
            _logger.info("provider unavailable", org_code=org_code, api_id=spec.id)
            outcome.errors.append((spec.id, UNAVAILABLE))

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
                )
            )
        await asyncio.gather(*(run_chain(chain) for chain in chains))
        for spec in level:
            fresh = outcome.items.get(spec.id)
            if fresh:
                available.setdefault(spec.id, {}).update(fresh)
        if outcome.unavailable:
            break
    return outcome
