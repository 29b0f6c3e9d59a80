"""The conformance run: every catalogued information API of the provider's sectors, over the wire only.

Everything is derived from the catalogue; no API has code of its own. For each sector the asset list is read to
the end, then every other API once the API its `source` names has run, with one request per matching source
record (`source.fields`, filtered by `source.where` and the asset list's is_consent), a recent window for
`range_fields` (12 months, what a user-consent call may ask, digest §10.4), one request per recent month for a
`period_field`, and every `next_page` followed to the end. 정보제공-공통-002 is checked under every sector and
정보제공-공통-001 once.

Every call is judged by the positive checks of `checks`. Per API the run then re-pages the largest retrieval with
a small limit, re-sends a returned search_timestamp, and makes one call per negative case, each breaking one rule
of an otherwise valid request. At most `concurrency` calls are in flight; each concurrent part records into its
own `Recorder`, merged in a fixed order, so a report does not depend on timing. A 429 42901 (a provider's rate
limit) is waited out (Retry-After) and retried.
"""

from __future__ import annotations

import asyncio
import functools
import math
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from openmydata.conformance import checks
from openmydata.conformance.results import ApiResult, ConformanceReport
from openmydata.kit.clock import add_months, now_kst, to_date, today_kst
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import INFO_SECTORS, ApiSpec, Catalogue, Kind, Sector
from openmydata.standard.client import API_TYPE, TRAN_ID
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.models import Envelope
from openmydata.standard.profiles import FINANCIAL_RESPONSE_CODES, Profile, ResponseCodes, response_codes

Progress = Callable[[str, int, int], None]
Values = dict[str, str]

API_TYPE_USED = "user-consent"  # the checker collects like an operator right after the consent
PAGE_LIMIT = 500
HISTORY_MONTHS = 12
MAX_PAGES = 200
MAX_REQUESTS_PER_API = 24
SMALL_PAGE_MAX = 250
THROTTLE_RETRIES = 3
MAX_THROTTLE_WAIT_S = 65.0
FALSE_VALUES = frozenset({"false", "n"})
DEFAULT_CONCURRENCY = 4


@dataclass
class Exchange:
    """One HTTP call the checker made and what came back."""

    label: str
    tran_id: str | None
    status: int | None = None
    content_type: str | None = None
    response_tran_id: str | None = None
    body: Any = None
    problem: str | None = None  # a transport error or a body that is not JSON
    codes: ResponseCodes = FINANCIAL_RESPONSE_CODES  # the standard the provider answers in

    @property
    def rsp_code(self) -> str | None:
        if isinstance(self.body, dict) and self.body.get("rsp_code") is not None:
            return str(self.body["rsp_code"])
        return None

    @property
    def rsp_msg(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("rsp_msg") or "")
        return ""

    @property
    def succeeded(self) -> bool:
        return self.status == 200 and self.rsp_code == self.codes.success and isinstance(self.body, dict)

    @property
    def echoed(self) -> bool:
        return self.tran_id is not None and self.response_tran_id == self.tran_id

    def outcome(self) -> str:
        if self.status is None:
            return self.problem or "no response"
        text = f"HTTP {self.status} {self.rsp_code or '(no rsp_code)'}"
        if self.rsp_msg:
            text += f" {self.rsp_msg[:80]}"
        if self.problem:
            text += f" ({self.problem})"
        return text


@dataclass
class Retrieval:
    """One request followed through its pages, with the outcomes of its checks."""

    request: Values
    rec: checks.Recorder = field(default_factory=checks.Recorder)
    pages: list[Exchange] = field(default_factory=list)
    entries: list[Any] = field(default_factory=list)
    first_entries: list[Any] = field(default_factory=list)
    terminated: bool = True

    @property
    def succeeded(self) -> bool:
        return bool(self.pages) and self.pages[0].succeeded


@dataclass(frozen=True)
class Case:
    """One negative call: the check it serves, the request values and how `_build` departs from a valid call."""

    name: str
    values: Values
    build: Mapping[str, Any] = field(default_factory=dict)


Part = tuple[checks.Recorder, int]  # a concurrent part's outcomes and the well-formed calls it made


def _consented(record: Mapping[str, Any]) -> bool:
    value = record.get("is_consent")
    return value is None or str(value).lower() not in FALSE_VALUES


def _month(day: date) -> str:
    return day.strftime("%Y%m")


def _has_stamp(body: Any) -> bool:
    return isinstance(body, dict) and body.get("search_timestamp") not in (None, "")


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_THROTTLE_WAIT_S)


def _levels(specs: Sequence[ApiSpec]) -> list[ApiSpec]:
    """Execution order: the asset list, then every API once the API its source names has run; APIs whose source
    is not among `specs` come last (nothing selects their requests)."""
    ordered = [spec for spec in specs if spec.kind is Kind.ASSET_LIST]
    done = {spec.id for spec in ordered}
    pending = [spec for spec in specs if spec.id not in done]
    while pending:
        ready = [spec for spec in pending if spec.source is None or spec.source.api_id in done]
        if not ready:
            break
        ordered.extend(ready)
        done.update(spec.id for spec in ready)
        pending = [spec for spec in pending if spec.id not in done]
    return ordered + pending


class _Runner:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        org_code: str,
        token: str,
        sectors: Sequence[str],
        operator_org_code: str,
        catalogue: Catalogue,
        progress: Progress | None,
        concurrency: int,
        codes: ResponseCodes = FINANCIAL_RESPONSE_CODES,
    ):
        if concurrency < 1:
            raise ValueError("concurrency is at least 1")
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.org_code = org_code
        self.token = token
        self.operator_org_code = operator_org_code.upper()
        new_tran_id(self.operator_org_code, Party.OPERATOR)  # refuses an org_code that cannot make one
        self.codes = codes
        self.catalogue = catalogue.for_profile(codes.profile)
        self.sectors = self._sectors(sectors)
        self.progress = progress
        self.gate = asyncio.Semaphore(concurrency)
        self.today = today_kst()
        self.records: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (sector, api_id) -> objects returned
        self.assets: dict[str, set[str]] = {}  # sector -> identifiers in any of its asset lists
        self.unconsented: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (sector, list api) -> is_consent false
        self.report = ConformanceReport(
            base_url=self.base_url,
            org_code=org_code,
            operator_org_code=self.operator_org_code,
            sectors=list(self.sectors),
        )
        self._done = 0
        self._total = 0

    def _sectors(self, sectors: Sequence[str]) -> list[str]:
        result: list[str] = []
        for name in sectors:
            try:
                sector = Sector(name)
            except ValueError as exc:
                raise ValueError(f"unknown sector {name!r}") from exc
            if sector not in INFO_SECTORS or not self.catalogue.info_apis([sector]):
                raise ValueError(f"the catalogue has no information APIs for {name!r}")
            self.catalogue.asset_list_api(sector)
            if sector.value not in result:
                result.append(sector.value)
        if not result:
            raise ValueError("name at least one sector")
        return result

    # the run -------------------------------------------------------------------------------------------------

    async def run(self) -> ConformanceReport:
        self.report.started_at = now_kst().isoformat(timespec="seconds")
        api_lists = [spec for spec in self.catalogue if spec.kind is Kind.API_LIST]
        consents = [spec for spec in self.catalogue if spec.kind is Kind.CONSENT]
        self._total = len(api_lists) + sum(
            len(self.catalogue.info_apis([sector])) + len(consents) for sector in self.sectors
        )
        for spec in api_lists:
            self._finish(await self._api_list(spec))
        for sector in self.sectors:
            specs = self.catalogue.info_apis([sector])
            done: dict[str, ApiResult] = {}
            for spec in _levels(specs):
                done[spec.id] = await self._information_api(spec, sector)
                self._finish(done[spec.id], add=False)
            self.report.results.extend(done[spec.id] for spec in specs)  # the catalogue's order
            for spec in consents:
                self._finish(await self._consent_api(spec, sector))
        self.report.finished_at = now_kst().isoformat(timespec="seconds")
        return self.report

    def _finish(self, result: ApiResult, *, add: bool = True) -> None:
        if add:
            self.report.results.append(result)
        self._done += 1
        if self.progress is not None:
            self.progress(f"{result.sector} {result.api_id}", self._done, self._total)

    def _result(self, spec: ApiSpec, sector: str) -> ApiResult:
        return ApiResult(spec.id, sector, spec.title, spec.method, self._path(spec, sector))

    @staticmethod
    def _merge(result: ApiResult, rec: checks.Recorder, parts: Sequence[Part]) -> None:
        for part, calls in parts:
            rec.extend(part)
            result.calls += calls

    # HTTP ----------------------------------------------------------------------------------------------------

    def _path(self, spec: ApiSpec, sector: str) -> str:
        return spec.path.replace("{industry}", sector)

    def _build(
        self,
        spec: ApiSpec,
        sector: str,
        values: Mapping[str, str],
        *,
        no_token: bool = False,
        token: str | None = None,
        api_type: str | None = API_TYPE_USED,
        tran_id: bool = True,
        method: str | None = None,
        path: str | None = None,
    ) -> httpx.Request:
        """The call as an operator makes it (values as JSON strings), or departing from that as asked."""
        payload = dict(values)
        route = path or self._path(spec, sector)
        for name in spec.path_params:
            placeholder = "{" + name + "}"
            if placeholder in route:
                route = route.replace(placeholder, quote(str(payload.pop(name, "")), safe=""))
        headers: dict[str, str] = {}
        if tran_id:
            headers[TRAN_ID] = new_tran_id(self.operator_org_code, Party.OPERATOR)
        if not no_token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        if api_type is not None and spec.is_info_api:
            headers[API_TYPE] = api_type
        verb = method or spec.method
        url = f"{self.base_url}{route}"
        if verb == "GET":
            return self.http.build_request("GET", url, params=payload, headers=headers)
        return self.http.build_request(verb, url, json=payload, headers=headers)

    async def _exchange(self, label: str, build: Callable[[], httpx.Request]) -> Exchange:
        for attempt in range(THROTTLE_RETRIES + 1):
            request = build()
            exchange = Exchange(label=label, tran_id=request.headers.get(TRAN_ID), codes=self.codes)
            async with self.gate:
                try:
                    response = await self.http.send(request)
                except httpx.HTTPError as exc:
                    exchange.problem = f"transport error: {type(exc).__name__}: {exc}"
                    return exchange
            if response.status_code == 429 and attempt < THROTTLE_RETRIES:
                self.report.throttled += 1
                await asyncio.sleep(_retry_after(response))
                continue
            exchange.status = response.status_code
            exchange.content_type = response.headers.get("content-type")
            exchange.response_tran_id = response.headers.get(TRAN_ID)
            try:
                exchange.body = response.json()
            except ValueError:
                exchange.problem = "the body is not JSON"
            return exchange
        raise AssertionError("unreachable")  # pragma: no cover

    def _label(self, spec: ApiSpec, sector: str, values: Mapping[str, str], page: int = 1) -> str:
        shown = [*spec.path_params, *spec.key_fields, *([spec.period_field] if spec.period_field else [])]
        parts = [f"{name}={values[name]}" for name in dict.fromkeys(shown) if values.get(name)]
        label = f"{spec.method} {self._path(spec, sector)}"
        if parts:
            label += " " + ",".join(parts)
        if page > 1:
            label += f" page {page}"
        return label

    # judging one positive call -------------------------------------------------------------------------------

    def _judge(
        self,
        spec: ApiSpec,
        exchange: Exchange,
        rec: checks.Recorder,
        *,
        stamp_sent: bool = False,
        limit: int | None = None,
    ) -> None:
        where = exchange.label
        rec.positive(checks.HTTP_200, exchange.status == 200, where, exchange.outcome())
        if exchange.status is None:
            return
        rec.positive(
            checks.CONTENT_TYPE_JSON,
            checks.is_json_content_type(exchange.content_type) and exchange.problem is None,
            where,
            f"content-type {exchange.content_type or '(none)'}" + (f", {exchange.problem}" if exchange.problem else ""),
        )
        rec.positive(
            checks.TRAN_ID_ECHOED,
            exchange.echoed,
            where,
            f"sent {exchange.tran_id}, got {exchange.response_tran_id or '(none)'}",
        )
        code = exchange.rsp_code
        success, up_to_date = self.codes.success, self.codes.up_to_date
        allowed = {success, up_to_date} if stamp_sent else {success}
        rec.positive(
            checks.RSP_CODE_SUCCESS,
            code in allowed,
            where,
            exchange.outcome() + (" (no search_timestamp was re-sent)" if code == up_to_date else ""),
        )
        body = exchange.body
        if exchange.status != 200 or not isinstance(body, dict) or code not in allowed:
            return
        model = spec.response if code == success else Envelope
        problems = checks.schema_problems(model, body)
        rec.positive(checks.RESPONSE_SCHEMA, not problems, where, "; ".join(problems[:5]))
        problems = checks.empty_optional_values(model, body)
        rec.positive(checks.OPTIONAL_FIELDS_OMITTED, not problems, where, "; ".join(problems[:5]))
        problems = checks.non_string_values(body)
        rec.positive(checks.VALUES_AS_STRINGS, not problems, where, "; ".join(problems[:5]))
        if code != success:
            return
        compared, problems = checks.count_problems(spec, body)
        if compared:
            rec.positive(checks.COUNT_MATCHES_LIST, not problems, where, "; ".join(problems[:5]))
        if limit is not None and spec.list_field:
            items = body.get(spec.list_field)
            size = len(items) if isinstance(items, list) else 0
            rec.positive(checks.LIMIT_RESPECTED, size <= limit, where, f"{size} objects on a page of limit {limit}")

    # retrieval -----------------------------------------------------------------------------------------------

    def _entries(self, spec: ApiSpec, body: Mapping[str, Any]) -> list[Any]:
        if spec.list_field:
            items = body.get(spec.list_field)
            return list(items) if isinstance(items, list) else []
        return [checks.data_fields(body)]

    @staticmethod
    def _limit(spec: ApiSpec, values: Mapping[str, str]) -> int | None:
        limit = values.get("limit", "")
        return int(limit) if spec.paged and limit.isdigit() else None

    async def _retrieve(self, spec: ApiSpec, sector: str, request: Values) -> Retrieval:
        """Call `request` and follow next_page to the end, judging every page."""
        retrieval = Retrieval(request=dict(request))
        rec = retrieval.rec
        current = dict(request)
        seen: set[str] = set()
        blank_cursor = False
        empty_followed: list[int] = []
        for page in range(1, MAX_PAGES + 1):
            values = dict(current)
            build = functools.partial(self._build, spec, sector, values)
            exchange = await self._exchange(self._label(spec, sector, values, page), build)
            self._judge(spec, exchange, rec, limit=self._limit(spec, values))
            retrieval.pages.append(exchange)
            if not exchange.succeeded:
                break
            body: dict[str, Any] = exchange.body
            entries = self._entries(spec, body)
            if page == 1:
                retrieval.first_entries = entries
            elif not entries:
                empty_followed.append(page)
            retrieval.entries.extend(entries)
            cursor = body.get("next_page")
            if cursor is None or not spec.paged:
                break
            if cursor == "":
                blank_cursor = True
                break
            cursor = str(cursor)
            if cursor in seen:
                retrieval.terminated = False
                break
            seen.add(cursor)
            current = {key: value for key, value in current.items() if key != "search_timestamp"}
            current["next_page"] = cursor
        else:
            retrieval.terminated = False
        if spec.paged and retrieval.succeeded:
            label = self._label(spec, sector, request)
            pages = len(retrieval.pages)
            if retrieval.terminated:
                rec.positive(checks.PAGING_TERMINATES, True, label)
            else:
                why = "a cursor came back a second time" if pages < MAX_PAGES else f"still paging after {MAX_PAGES}"
                rec.positive(checks.PAGING_TERMINATES, False, label, f"{why} (page {pages})")
            problems = []
            if blank_cursor:
                problems.append('the last page sent next_page ""')
            if empty_followed:
                problems.append(f"next_page led to an empty page (page {empty_followed[0]})")
            rec.positive(checks.NEXT_PAGE_OMITTED_ON_LAST_PAGE, not problems, label, "; ".join(problems))
            if spec.search_timestamp and pages > 1:
                later = [n for n, p in enumerate(retrieval.pages[1:], start=2) if _has_stamp(p.body)]
                problem = f"page {later[0]} carries search_timestamp" if later else ""
                rec.positive(checks.SEARCH_TIMESTAMP_FIRST_PAGE_ONLY, not later, label, problem)
        return retrieval

    # planning ------------------------------------------------------------------------------------------------

    def _window(self, spec: ApiSpec, *, months: int = HISTORY_MONTHS, end: date | None = None) -> Values:
        """A range of `months` months up to `end` (today): what a user-consent call may ask for."""
        assert spec.range_fields is not None
        start_field, end_field = spec.range_fields
        last = end or self.today
        if spec.range_unit == "month":
            return {start_field: _month(add_months(last.replace(day=1), -(months - 1))), end_field: _month(last)}
        return {start_field: to_date(add_months(last, -months) + timedelta(days=1)), end_field: to_date(last)}

    def _recent_months(self) -> list[str]:
        first = self.today.replace(day=1)
        return [_month(add_months(first, -back)) for back in range(HISTORY_MONTHS - 1, -1, -1)]

    def _source_values(self, spec: ApiSpec, sector: str) -> tuple[list[Values], list[str]]:
        if spec.source is None:
            return [{}], []
        source = spec.source
        records = self.records.get((sector, source.api_id))
        if records is None:
            return [], [f"not exercised: {source.api_id} was not checked, so nothing selects a request"]
        result: list[Values] = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        for record in records:
            if source.where is not None and not source.where(record):
                continue
            if not _consented(record):
                continue
            values = {
                request_field: str(record[record_field])
                for request_field, record_field in source.fields.items()
                if record.get(record_field) not in (None, "")
            }
            identity = tuple(sorted(values.items()))
            if identity not in seen:
                seen.add(identity)
                result.append(values)
        if not result:
            condition = f" with {source.where.field} {'/'.join(source.where.prefixes)}…" if source.where else ""
            return [], [f"not exercised: no consented {source.api_id} record{condition} to build a request from"]
        return result, []

    def _complete(self, spec: ApiSpec, values: Values) -> list[Values]:
        """The requests for one set of source values: paging, first-call search_timestamp, range or months."""
        request: Values = {"org_code": self.org_code, **values}
        fields = spec.request.model_fields
        if spec.paged and "limit" in fields:
            request["limit"] = str(PAGE_LIMIT)
        if spec.search_timestamp and "search_timestamp" in fields:
            request["search_timestamp"] = "0"  # digest §2.5: 0 on the first call
        if spec.range_fields is not None:
            return [{**request, **self._window(spec)}]
        if spec.period_field is not None and spec.period_field not in values:
            return [{**request, spec.period_field: month} for month in self._recent_months()]
        return [request]

    def _plan(self, spec: ApiSpec, sector: str) -> tuple[list[Values], list[str]]:
        sources, notes = self._source_values(spec, sector)
        requests = [request for values in sources for request in self._complete(spec, values)]
        if len(requests) > MAX_REQUESTS_PER_API:
            notes.append(f"{len(requests)} requests planned, the first {MAX_REQUESTS_PER_API} made")
            requests = requests[:MAX_REQUESTS_PER_API]
        return requests, notes

    def _fits(self, spec: ApiSpec, values: Mapping[str, str]) -> bool:
        try:
            spec.request.model_validate(dict(values))
        except ValidationError:
            return False
        return True

    def _field_fits(self, spec: ApiSpec, request: Values, name: str, value: str) -> bool:
        """Whether `value` is acceptable for `name` (other fields of `request` may still be missing)."""
        try:
            spec.request.model_validate({**request, name: value})
        except ValidationError as exc:
            return all(error["loc"][:1] != (name,) for error in exc.errors())
        return True

    def _foreign_asset(self, spec: ApiSpec, sector: str, values: Values) -> str | None:
        """An identifier of the asset field's type that is not among the customer's assets."""
        name = spec.asset_field
        if name is None:
            return None
        known = self.assets.get(sector, set())
        real = values.get(name) or next(iter(sorted(known)), "")
        candidates = [real[:-4] + f"{9999 - n:04d}" for n in range(5)] if len(real) >= 4 else []
        candidates += ["NOTMINE0001", "0000000001", "X1"]
        for candidate in candidates:
            if candidate not in known and candidate != real and self._field_fits(spec, values, name, candidate):
                return candidate
        return None

    def _placeholder(self, spec: ApiSpec, sector: str) -> Values | None:
        """A request of the right shape for an API no source record selects: its asset is not the customer's,
        other required key fields get the first guess their type accepts."""
        if spec.source is None:
            return None
        request = self._complete(spec, {})[0]
        guesses = ("1", "01", _month(self.today), to_date(self.today))
        for request_field in spec.source.fields:
            info = spec.request.model_fields.get(request_field)
            if request_field == spec.asset_field or info is None or not info.is_required():
                continue
            guess = next((g for g in guesses if self._field_fits(spec, request, request_field, g)), None)
            if guess is None:
                return None
            request[request_field] = guess
        if spec.asset_field:
            foreign = self._foreign_asset(spec, sector, request)
            if foreign is None:
                return None
            request[spec.asset_field] = foreign
        return request if self._fits(spec, request) else None

    # one information API -------------------------------------------------------------------------------------

    async def _information_api(self, spec: ApiSpec, sector: str) -> ApiResult:
        result = self._result(spec, sector)
        rec = checks.Recorder()
        requests, notes = self._plan(spec, sector)
        result.notes.extend(notes)
        retrievals = list(await asyncio.gather(*(self._retrieve(spec, sector, request) for request in requests)))
        self._merge(result, rec, [(r.rec, len(r.pages)) for r in retrievals])
        objects = self.records.setdefault((sector, spec.id), [])
        for retrieval in retrievals:
            if retrieval.succeeded:
                objects.extend(entry for entry in retrieval.entries if isinstance(entry, dict))
        if spec.kind is Kind.ASSET_LIST:  # a sector may have several (보험-001 contracts, 보험-008 loans)
            id_field = spec.asset_id_field or ""
            self.assets.setdefault(sector, set()).update(str(e[id_field]) for e in objects if e.get(id_field))
            self.unconsented[(sector, spec.id)] = [entry for entry in objects if not _consented(entry)]

        parts: list[Awaitable[Part]] = []
        if spec.paged:
            parts.append(self._paging_consistency(spec, sector, retrievals))
        if spec.search_timestamp:
            parts.append(self._search_timestamp(spec, sector, retrievals))
        base = requests[0] if requests else self._placeholder(spec, sector)
        if base is None:
            result.notes.append("no request of the right shape could be built; negative checks skipped")
            cases: list[Case] = []
        else:
            cases = self._negative_cases(spec, sector, base, real=bool(requests))
        if spec.id == self.catalogue.asset_list_api(sector).id and requests:
            cases += self._sector_cases(spec, sector, requests[0])
        parts.append(self._negatives(spec, sector, cases))
        self._merge(result, rec, await asyncio.gather(*parts))
        result.checks = rec.checks()
        return result

    async def _paging_consistency(self, spec: ApiSpec, sector: str, retrievals: Sequence[Retrieval]) -> Part:
        rec = checks.Recorder()
        candidates = [r for r in retrievals if r.succeeded]
        if not candidates:
            return rec, 0
        largest = max(candidates, key=lambda r: len(r.entries))
        total = len(largest.entries)
        if not largest.terminated or total < 2:
            return rec, 0
        small = max(1, min(math.ceil(total / 3), SMALL_PAGE_MAX))
        request = {**largest.request, "limit": str(small)}
        again = await self._retrieve(spec, sector, request)
        rec.extend(again.rec)
        label = self._label(spec, sector, request)
        if not again.succeeded:
            rec.positive(checks.PAGING_CONSISTENT, False, label, f"limit {small}: {again.pages[-1].outcome()}")
        elif not again.terminated:
            rec.positive(checks.PAGING_CONSISTENT, False, label, f"limit {small}: paging did not terminate")
        else:
            missing, extra = checks.multiset_difference(largest.entries, again.entries)
            rec.positive(
                checks.PAGING_CONSISTENT,
                missing == 0 and extra == 0,
                label,
                f"limit {small} over {len(again.pages)} pages: {missing} of {total} objects missing, {extra} extra",
                detail=f"{total} objects at limit {PAGE_LIMIT} = {len(again.pages)} pages at limit {small}",
            )
        return rec, len(again.pages)

    async def _search_timestamp(self, spec: ApiSpec, sector: str, retrievals: Sequence[Retrieval]) -> Part:
        """Re-send the first returned search_timestamp: 00001 without data, or 00000 with the same data (§2.5)."""
        rec = checks.Recorder()
        stamped = [r for r in retrievals if r.succeeded and _has_stamp(r.pages[0].body)]
        if not stamped:
            if any(r.succeeded for r in retrievals):
                detail = "no search_timestamp returned (optional for providers, digest §2.5)"
                rec.positive(checks.SEARCH_TIMESTAMP_RESEND, True, "", detail=detail)
            return rec, 0
        first = stamped[0]
        request = {**first.request, "search_timestamp": str(first.pages[0].body["search_timestamp"])}
        label = self._label(spec, sector, request) + " (search_timestamp re-sent)"
        exchange = await self._exchange(label, functools.partial(self._build, spec, sector, request))
        self._judge(spec, exchange, rec, stamp_sent=True, limit=self._limit(spec, request))
        body = exchange.body if isinstance(exchange.body, dict) else {}
        if exchange.status == 200 and exchange.rsp_code == self.codes.up_to_date:
            data = sorted(checks.data_fields(body))
            problem = f"00001 (up to date) still carries data: {', '.join(data)}"
            rec.positive(checks.SEARCH_TIMESTAMP_RESEND, not data, label, problem, detail="00001 without data")
        elif exchange.succeeded:
            missing, extra = checks.multiset_difference(first.first_entries, self._entries(spec, body))
            rec.positive(
                checks.SEARCH_TIMESTAMP_RESEND,
                missing == 0 and extra == 0,
                label,
                f"00000 with other data than before: {missing} objects missing, {extra} new",
                detail="00000 with the same data",
            )
        else:
            rec.positive(
                checks.SEARCH_TIMESTAMP_RESEND, False, label, f"expected 00001 or 00000, got {exchange.outcome()}"
            )
        return rec, 1

    # negative checks -----------------------------------------------------------------------------------------

    def _other_method(self, spec: ApiSpec) -> str:
        other = "POST" if spec.method == "GET" else "GET"
        return "PUT" if self.catalogue.by_route(other, spec.path) else other

    def _other_org_code(self) -> str:
        return next(
            code for code in ("ZZZZZZZZZZ", "YYYYYYYYYY") if code not in (self.org_code, self.operator_org_code)
        )

    def _basic_cases(self, spec: ApiSpec, base: Values) -> list[Case]:
        """Authentication, headers, org_code and method: refused before any data is looked at."""
        garbage = f"{secrets.token_urlsafe(18)}.{secrets.token_urlsafe(48)}.{secrets.token_urlsafe(32)}"
        return [
            Case(checks.NO_TOKEN, base, {"no_token": True}),
            Case(checks.GARBAGE_TOKEN, base, {"token": garbage}),
            Case(checks.MISSING_TRAN_ID, base, {"tran_id": False}),
            Case(checks.UNKNOWN_API_TYPE, base, {"api_type": "user-unknown"}),
            Case(checks.WRONG_ORG_CODE, {**base, "org_code": self._other_org_code()}),
            Case(checks.WRONG_METHOD, base, {"method": self._other_method(spec)}),
        ]

    def _negative_cases(self, spec: ApiSpec, sector: str, base: Values, *, real: bool) -> list[Case]:
        """One call per rule. Without a real request (the customer lacks the asset) the range checks are left
        out: they need an asset the provider knows."""
        cases = self._basic_cases(spec, base)
        if spec.paged and "limit" in spec.request.model_fields:
            cases += [
                Case(checks.LIMIT_ZERO, {**base, "limit": "0"}),
                Case(checks.LIMIT_OVER_500, {**base, "limit": "501"}),
            ]
        if spec.asset_field:
            foreign = self._foreign_asset(spec, sector, base) if real else base[spec.asset_field]
            if foreign is not None:
                cases.append(Case(checks.FOREIGN_ASSET, {**base, spec.asset_field: foreign}))
            unconsented = self._unconsented_request(spec, sector, base)
            if unconsented is not None:
                cases.append(Case(checks.UNCONSENTED_ASSET, unconsented))
        if spec.range_fields is not None and (real or spec.asset_field is None):
            start, end = spec.range_fields
            if spec.range_unit == "month":
                reversed_range = {start: _month(self.today), end: _month(add_months(self.today.replace(day=1), -1))}
                old_end = add_months(self.today.replace(day=1), -61)
            else:
                reversed_range = {start: to_date(self.today), end: to_date(self.today - timedelta(days=1))}
                old_end = add_months(self.today, -61)
            cases += [
                Case(checks.RANGE_REVERSED, {**base, **reversed_range}),
                Case(checks.RANGE_TOO_LONG, {**base, **self._window(spec, months=24)}),
                Case(
                    checks.RANGE_TOO_LONG_SCHEDULED, {**base, **self._window(spec, months=4)}, {"api_type": "scheduled"}
                ),
                Case(
                    checks.RANGE_OLDER_THAN_5_YEARS,
                    {**base, **self._window(spec, months=1, end=old_end)},
                    {"api_type": "user-search"},
                ),
            ]
        return cases

    def _unconsented_request(self, spec: ApiSpec, sector: str, base: Values) -> Values | None:
        """The base request naming an asset of the customer that the consent leaves out, if there is one."""
        source = spec.source
        if source is None:
            return None
        for entry in self.unconsented.get((sector, source.api_id), []):
            if source.where is not None and not source.where(entry):
                continue
            values = {
                request_field: str(entry[record_field])
                for request_field, record_field in source.fields.items()
                if entry.get(record_field) not in (None, "")
            }
            if spec.asset_field in values:
                return {**{k: v for k, v in base.items() if k not in source.fields}, **values}
        return None

    def _sector_cases(self, spec: ApiSpec, sector: str, base: Values) -> list[Case]:
        """Sector-wide rules, recorded with the sector's first asset list: an unsupported version and an unknown
        resource."""
        if not spec.version:
            return []
        versioned = self._path(spec, sector).replace(f"/{spec.version}/", "/v99/", 1)
        unknown = f"/{spec.version}/{sector}/conformance-unknown-resource"
        return [
            Case(checks.UNSUPPORTED_VERSION, base, {"path": versioned}),
            Case(checks.UNKNOWN_RESOURCE, {"org_code": self.org_code}, {"path": unknown}),
        ]

    async def _negatives(self, spec: ApiSpec, sector: str, cases: Sequence[Case]) -> Part:
        rec = checks.Recorder()
        labels = [
            f"{case.build.get('method') or spec.method} {case.build.get('path') or self._path(spec, sector)}"
            for case in cases
        ]
        exchanges = await asyncio.gather(
            *(
                self._exchange(label, functools.partial(self._build, spec, sector, case.values, **case.build))
                for case, label in zip(cases, labels, strict=True)
            )
        )
        for case, label, exchange in zip(cases, labels, exchanges, strict=True):
            expected = checks.NEGATIVE_CASES[case.name]
            passed = expected.accepts(exchange.status, exchange.rsp_code, self.codes)
            problem = f"expected {expected.expected_in(self.codes)}, got {exchange.outcome()}"
            rec.negative(case.name, passed, label, problem, detail=exchange.outcome())
        for case, label, exchange in zip(cases, labels, exchanges, strict=True):
            if exchange.tran_id is not None and exchange.status is not None:
                problem = f"sent {exchange.tran_id}, got {exchange.response_tran_id or '(none)'}"
                rec.negative(checks.ERROR_TRAN_ID_ECHOED, exchange.echoed, f"{case.name}: {label}", problem)
        return rec, 0

    # 정보제공-공통-001 and -002 ---------------------------------------------------------------------------------

    async def _api_list(self, spec: ApiSpec) -> ApiResult:
        sector = Sector.COMMON.value
        result = self._result(spec, sector)
        rec = checks.Recorder()
        base: Values = {"org_code": self.org_code}
        exchange = await self._exchange(
            self._label(spec, sector, base), functools.partial(self._build, spec, sector, base)
        )
        result.calls += 1
        self._judge(spec, exchange, rec)
        if exchange.succeeded:
            listed = exchange.body.get("api_list")
            entries = [entry for entry in listed if isinstance(entry, dict)] if isinstance(listed, list) else []
            missing = self._unlisted(entries)
            rec.positive(
                checks.API_LIST_COMPLETE,
                not missing,
                exchange.label,
                "not listed: " + ", ".join(missing[:12]) + (" …" if len(missing) > 12 else ""),
                detail=f"{len(entries)} APIs listed",
            )
        cases = [
            case
            for case in self._basic_cases(spec, base)
            if case.name in {checks.MISSING_TRAN_ID, checks.WRONG_ORG_CODE, checks.WRONG_METHOD}
        ]
        self._merge(result, rec, [await self._negatives(spec, sector, cases)])
        result.checks = rec.checks()
        return result

    def _unlisted(self, entries: list[dict[str, Any]]) -> list[str]:
        """The checked sectors' APIs 정보제공-공통-001 does not list (api_uri as the resource or the full path)."""
        listed = {(str(entry.get("api_code")), str(entry.get("api_uri"))) for entry in entries}
        consents = [spec for spec in self.catalogue if spec.kind is Kind.CONSENT]
        missing = []
        for sector in self.sectors:
            for spec in [*self.catalogue.info_apis([sector]), *consents]:
                if not {(spec.api_code, spec.resource), (spec.api_code, self._path(spec, sector))} & listed:
                    missing.append(f"{spec.api_code} {self._path(spec, sector)}")
        return missing

    async def _consent_api(self, spec: ApiSpec, sector: str) -> ApiResult:
        result = self._result(spec, sector)
        rec = checks.Recorder()
        base: Values = {"org_code": self.org_code}
        retrieval, negatives = await asyncio.gather(
            self._retrieve(spec, sector, base), self._negatives(spec, sector, self._basic_cases(spec, base))
        )
        self._merge(result, rec, [(retrieval.rec, len(retrieval.pages)), negatives])
        result.checks = rec.checks()
        return result


async def run_conformance(
    http: httpx.AsyncClient,
    *,
    base_url: str,
    org_code: str,
    token: str,
    sectors: Sequence[str],
    operator_org_code: str,
    catalogue: Catalogue = CATALOGUE,
    progress: Progress | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    profile: Profile | str = Profile.FINANCIAL,
) -> ConformanceReport:
    """Check a provider's information APIs of `sectors` over the wire, the way the regulator's 기능적합성 check does.

    `http` carries whatever the connection needs (a client certificate for mutual TLS); `token` is an access token
    of a consent covering every scope of `sectors` for one customer whose data reaches the APIs;
    `operator_org_code` makes the x-api-tran-ids. `progress(label, done, total)` is called after every API; at
    most `concurrency` calls are in flight at a time. `profile` is the standard the provider speaks: its
    information APIs and its response codes (the 2025 nationwide standard: `standard.profiles`).
    """
    runner = _Runner(
        http,
        base_url=base_url,
        org_code=org_code,
        token=token,
        sectors=sectors,
        operator_org_code=operator_org_code,
        catalogue=catalogue,
        progress=progress,
        concurrency=concurrency,
        codes=response_codes(profile),
    )
    return await runner.run()
