"""The checks: their names, what each expects (from the digest of the standard), and the pure functions that
judge one response. Nothing here talks HTTP; `runner` makes the calls and feeds the responses in.

Positive checks (every well-formed call):
- `http-200`, `rsp-code-success` (00000; 00001 only when a search_timestamp was re-sent, §2.5),
  `tran-id-echoed` (§2.3), `content-type-json` (§2.1);
- `response-schema`: the body validates against the catalogue's response model (required fields, types,
  lengths), reported with the exact field;
- `optional-fields-omitted`: no null anywhere, no "" for an optional field (§2.1: omit it);
- `values-as-strings`: every scalar travels as a JSON string (§10.3);
- `count-matches-list`: every `<x>_cnt` equals the length of its `<x>_list` (§2.6), nested pairs included;
- paging (§2.4): `limit-respected`, `paging-terminates` (no repeated cursor, a bounded number of pages),
  `next-page-omitted-on-last-page` (a cursor always names an object; never ""), `paging-consistent` (small
  pages join to the same records as one large page), `search-timestamp-first-page-only`;
- `search-timestamp-resend`: re-sending the search_timestamp a provider returned yields 00001 without data, or
  00000 with the same data (§2.5);
- `api-list-complete` (정보제공-공통-001): every API of the checked sectors is listed.

Negative checks (one call each; the expected rsp_code with its HTTP status from §2.7) are `NEGATIVE_CASES`;
`error-tran-id-echoed` aggregates the x-api-tran-id echo over every refused call.
"""

from __future__ import annotations

import json
import typing
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import UnionType
from typing import Any

from pydantic import BaseModel, ValidationError

from openmydata.conformance.results import NEGATIVE, POSITIVE, Check, CheckKind
from openmydata.standard.catalogue import ApiSpec
from openmydata.standard.codes import RspCode
from openmydata.standard.profiles import FINANCIAL_RESPONSE_CODES, ResponseCodes

# positive
HTTP_200 = "http-200"
RSP_CODE_SUCCESS = "rsp-code-success"
TRAN_ID_ECHOED = "tran-id-echoed"
CONTENT_TYPE_JSON = "content-type-json"
RESPONSE_SCHEMA = "response-schema"
OPTIONAL_FIELDS_OMITTED = "optional-fields-omitted"
VALUES_AS_STRINGS = "values-as-strings"
COUNT_MATCHES_LIST = "count-matches-list"
LIMIT_RESPECTED = "limit-respected"
PAGING_TERMINATES = "paging-terminates"
NEXT_PAGE_OMITTED_ON_LAST_PAGE = "next-page-omitted-on-last-page"
PAGING_CONSISTENT = "paging-consistent"
SEARCH_TIMESTAMP_FIRST_PAGE_ONLY = "search-timestamp-first-page-only"
SEARCH_TIMESTAMP_RESEND = "search-timestamp-resend"
API_LIST_COMPLETE = "api-list-complete"

# negative
NO_TOKEN = "no-token"
GARBAGE_TOKEN = "garbage-token"
MISSING_TRAN_ID = "missing-tran-id"
UNKNOWN_API_TYPE = "unknown-api-type"
WRONG_ORG_CODE = "wrong-org-code"
WRONG_METHOD = "wrong-method"
LIMIT_ZERO = "limit-zero"
LIMIT_OVER_500 = "limit-over-500"
FOREIGN_ASSET = "foreign-asset"
UNCONSENTED_ASSET = "unconsented-asset"
RANGE_REVERSED = "range-reversed"
RANGE_TOO_LONG = "range-too-long"
RANGE_TOO_LONG_SCHEDULED = "range-too-long-scheduled"
RANGE_OLDER_THAN_5_YEARS = "range-older-than-5-years"
UNSUPPORTED_VERSION = "unsupported-version"
UNKNOWN_RESOURCE = "unknown-resource"
ERROR_TRAN_ID_ECHOED = "error-tran-id-echoed"

ENVELOPE_FIELDS = frozenset({"rsp_code", "rsp_msg", "search_timestamp", "next_page"})
MAX_EXAMPLES = 3


@dataclass(frozen=True)
class NegativeCase:
    """A request breaking one rule, and the codes the standard answers it with (the first is the usual one)."""

    name: str
    codes: tuple[RspCode, ...]
    description: str

    def accepts(
        self, status: int | None, rsp_code: str | None, codes: ResponseCodes = FINANCIAL_RESPONSE_CODES
    ) -> bool:
        """Whether the answer is one of the expected situations, in the provider's code set."""
        return any(
            status == codes.table[codes.code(code)].http_status and rsp_code == codes.code(code) for code in self.codes
        )

    def expected_in(self, codes: ResponseCodes) -> str:
        return " or ".join(
            f"HTTP {codes.table[codes.code(code)].http_status} {codes.code(code)}" for code in self.codes
        )

    @property
    def expected(self) -> str:
        return self.expected_in(FINANCIAL_RESPONSE_CODES)


NEGATIVE_CASES: dict[str, NegativeCase] = {
    case.name: case
    for case in (
        NegativeCase(NO_TOKEN, (RspCode.INVALID_TOKEN,), "no Authorization header (§2.3, §2.7)"),
        NegativeCase(GARBAGE_TOKEN, (RspCode.INVALID_TOKEN,), "a Bearer token the provider never issued"),
        NegativeCase(MISSING_TRAN_ID, (RspCode.BAD_HEADER,), "no x-api-tran-id header (§2.3)"),
        NegativeCase(UNKNOWN_API_TYPE, (RspCode.BAD_HEADER,), "an x-api-type outside the four the standard names"),
        NegativeCase(
            WRONG_ORG_CODE,
            (RspCode.BAD_PARAMETER, RspCode.ORG_NOT_RECOGNISED),
            "org_code of another institution (§6: every request carries the provider's org_code)",
        ),
        NegativeCase(WRONG_METHOD, (RspCode.METHOD_NOT_ALLOWED,), "the API's path with the other HTTP method (§2.1)"),
        NegativeCase(LIMIT_ZERO, (RspCode.BAD_PARAMETER,), "limit=0 (§2.4: 1 to 500)"),
        NegativeCase(LIMIT_OVER_500, (RspCode.BAD_PARAMETER,), "limit=501 (§2.4: at most 500)"),
        NegativeCase(
            FOREIGN_ASSET,
            (RspCode.ASSET_INVALID, RspCode.ASSET_NOT_CONSENTED),
            "an asset identifier that is not the customer's (40402; 40105 when checked against the consent first)",
        ),
        NegativeCase(
            UNCONSENTED_ASSET,
            (RspCode.ASSET_NOT_CONSENTED,),
            "the customer's asset that the consent does not name (asset list is_consent=false)",
        ),
        NegativeCase(RANGE_REVERSED, (RspCode.BAD_PARAMETER,), "a range that ends before it starts"),
        NegativeCase(
            RANGE_TOO_LONG,
            (RspCode.RANGE_EXCEEDED,),
            "x-api-type user-consent with a 24-month range (§10.4: at most 12 months)",
        ),
        NegativeCase(
            RANGE_TOO_LONG_SCHEDULED,
            (RspCode.RANGE_EXCEEDED,),
            "x-api-type scheduled with a 4-month range (§10.4: 31 days, or 3 months for month ranges and the "
            "long-range APIs)",
        ),
        NegativeCase(
            RANGE_OLDER_THAN_5_YEARS,
            (RspCode.TOO_OLD,),
            "x-api-type user-search with a one-month range ending five years and a month ago (§2.7, §10.4)",
        ),
        NegativeCase(
            UNSUPPORTED_VERSION,
            (RspCode.VERSION_NOT_ALLOWED,),
            "the sector's asset list under version v99 (§2.7: API version not allowed)",
        ),
        NegativeCase(UNKNOWN_RESOURCE, (RspCode.NOT_FOUND,), "a resource the sector does not have (§2.7: 40401)"),
    )
}

DESCRIPTIONS: dict[str, str] = {
    HTTP_200: "a well-formed call answers HTTP 200",
    RSP_CODE_SUCCESS: "rsp_code 00000 (00001 only when a search_timestamp was re-sent)",
    TRAN_ID_ECHOED: "the response carries the request's x-api-tran-id",
    CONTENT_TYPE_JSON: "the response is application/json (UTF-8)",
    RESPONSE_SCHEMA: "the body fits the catalogue's response model: required fields, types, lengths",
    OPTIONAL_FIELDS_OMITTED: 'an optional field without a value is omitted, never null or "" (§2.1)',
    VALUES_AS_STRINGS: "every scalar value travels as a JSON string (§10.3)",
    COUNT_MATCHES_LIST: "every <x>_cnt equals the length of its <x>_list (§2.6)",
    LIMIT_RESPECTED: "a page holds at most `limit` objects (§2.4)",
    PAGING_TERMINATES: "following next_page ends: no cursor repeats, a bounded number of pages",
    NEXT_PAGE_OMITTED_ON_LAST_PAGE: 'next_page is omitted on the last page; a cursor always names an object (never "")',
    PAGING_CONSISTENT: "small pages join to exactly the records of one large page (no gap, no duplicate)",
    SEARCH_TIMESTAMP_FIRST_PAGE_ONLY: "search_timestamp is returned on the first page only (§2.4)",
    SEARCH_TIMESTAMP_RESEND: "re-sending the returned search_timestamp yields 00001 without data, or the same data",
    API_LIST_COMPLETE: "정보제공-공통-001 lists every API of the checked sectors",
    ERROR_TRAN_ID_ECHOED: "refusals carry the request's x-api-tran-id too",
    **{name: f"{case.description} → {case.expected}" for name, case in NEGATIVE_CASES.items()},
}


# judging one response ----------------------------------------------------------------------------------------


def is_json_content_type(value: str | None) -> bool:
    """application/json, with no charset or charset UTF-8."""
    if not value:
        return False
    media_type, _, rest = value.partition(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in rest.split(";"):
        name, _, val = parameter.partition("=")
        if name.strip().lower() == "charset" and val.strip().strip('"').lower() not in {"utf-8", "utf8"}:
            return False
    return True


def field_path(loc: Sequence[int | str]) -> str:
    """('account_list', 0, 'prod_name') → account_list[0].prod_name"""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(body)"


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def schema_problems(model: type[BaseModel], body: Any) -> list[str]:
    """Why `body` does not validate against `model`: one line per field, '<path>: <message>'."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = field_path(error["loc"])
            if error["type"] == "missing":
                problems.append(f"{where}: required field missing")
            else:
                problems.append(f"{where}: {error['msg']} (got {_shown(error.get('input'))})")
        return problems
    return []


def _walk(value: Any, path: tuple[int | str, ...] = ()) -> Iterator[tuple[tuple[int | str, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))
    else:
        yield path, value


def non_string_values(body: Any) -> list[str]:
    """Scalars that are not JSON strings (numbers, Booleans, null)."""
    return [
        f"{field_path(path)} is {_json_type(value)} {_shown(value)}"
        for path, value in _walk(body)
        if not isinstance(value, str) and value is not None
    ]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a Boolean"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def _unwrap(annotation: Any) -> tuple[bool, type[BaseModel] | None]:
    """(is a list, the nested model) of a field annotation; (False, None) for a scalar."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is UnionType:
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                is_list, model = _unwrap(arg)
                if model is not None:
                    return is_list, model
        return False, None
    if origin is list:
        args = typing.get_args(annotation)
        _, model = _unwrap(args[0]) if args else (False, None)
        return True, model
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return False, annotation
    return False, None


def empty_optional_values(model: type[BaseModel] | None, body: Any, path: tuple[int | str, ...] = ()) -> list[str]:
    """null anywhere, and "" where the model's field is optional (digest §2.1: omit it instead)."""
    problems: list[str] = []
    if not isinstance(body, dict):
        return problems
    fields = model.model_fields if model is not None else {}
    for key, value in body.items():
        where = (*path, key)
        info = fields.get(key)
        if value is None:
            problems.append(f"{field_path(where)} is null")
            continue
        if value == "" and (info is None or not info.is_required()):
            problems.append(f'{field_path(where)} is "" (an optional field without a value is omitted)')
            continue
        is_list, nested = _unwrap(info.annotation) if info is not None else (False, None)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if item is None:
                    problems.append(f"{field_path((*where, index))} is null")
                elif isinstance(item, dict):
                    problems.extend(empty_optional_values(nested if is_list else None, item, (*where, index)))
        elif isinstance(value, dict):
            problems.extend(empty_optional_values(nested if not is_list else None, value, where))
    return problems


def count_problems(spec: ApiSpec | None, body: Any) -> tuple[int, list[str]]:
    """(pairs compared, mismatches) for every `<x>_cnt` / `<x>_list` pair, at any depth, and the spec's pair."""
    compared = 0
    problems: list[str] = []

    def visit(node: Any, path: tuple[int | str, ...]) -> None:
        nonlocal compared
        if isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, (*path, index))
            return
        if not isinstance(node, dict):
            return
        pairs = {(key, key[:-4] + "_list") for key in node if key.endswith("_cnt") and key[:-4] + "_list" in node}
        if not path and spec is not None and spec.count_field and spec.list_field:
            pairs.add((spec.count_field, spec.list_field))
        for count_field, list_field in sorted(pairs):
            compared += 1
            count, items = node.get(count_field), node.get(list_field)
            where = field_path((*path, count_field))
            if count is None or items is None:
                missing = count_field if count is None else list_field
                problems.append(f"{field_path((*path, missing))} missing")
                continue
            if not isinstance(items, list):
                problems.append(f"{field_path((*path, list_field))} is not a list")
                continue
            try:
                value = int(str(count))
            except ValueError:
                problems.append(f"{where} is not a number ({_shown(count)})")
                continue
            if value != len(items):
                problems.append(f"{where} is {value} but {list_field} holds {len(items)}")
        for key, item in node.items():
            visit(item, (*path, key))

    visit(body, ())
    return compared, problems


def data_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in ENVELOPE_FIELDS}


def canonical(entry: Any) -> str:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def multiset_difference(expected: Iterable[Any], actual: Iterable[Any]) -> tuple[int, int]:
    """(objects missing from `actual`, objects `actual` has beyond `expected`), comparing canonical JSON."""
    want, got = Counter(map(canonical, expected)), Counter(map(canonical, actual))
    return sum((want - got).values()), sum((got - want).values())


# aggregation ---------------------------------------------------------------------------------------------------


@dataclass
class _Tally:
    kind: CheckKind
    calls: int = 0
    failures: list[str] = field(default_factory=list)
    detail: str = ""


class Recorder:
    """Collects the outcomes of one API's checks, in the order they were first recorded."""

    def __init__(self) -> None:
        self._tallies: dict[str, _Tally] = {}

    def record(self, name: str, kind: CheckKind, ok: bool, where: str, problem: str = "", detail: str = "") -> None:
        tally = self._tallies.setdefault(name, _Tally(kind))
        tally.calls += 1
        if not ok:
            tally.failures.append(f"{where}: {problem}" if where else problem)
        elif detail and not tally.detail:
            tally.detail = detail

    def positive(self, name: str, ok: bool, where: str, problem: str = "", detail: str = "") -> None:
        self.record(name, POSITIVE, ok, where, problem, detail)

    def negative(self, name: str, ok: bool, where: str, problem: str = "", detail: str = "") -> None:
        self.record(name, NEGATIVE, ok, where, problem, detail)

    def names(self) -> set[str]:
        return set(self._tallies)

    def extend(self, other: Recorder) -> None:
        """Add `other`'s outcomes after this recorder's (concurrent parts are merged in a fixed order)."""
        for name, theirs in other._tallies.items():
            tally = self._tallies.setdefault(name, _Tally(theirs.kind))
            tally.calls += theirs.calls
            tally.failures.extend(theirs.failures)
            if not tally.detail:
                tally.detail = theirs.detail

    def checks(self) -> list[Check]:
        result = []
        for name, tally in self._tallies.items():
            if tally.failures:
                shown = "; ".join(tally.failures[:MAX_EXAMPLES])
                more = len(tally.failures) - MAX_EXAMPLES
                head = f"{len(tally.failures)} of {tally.calls} failed — " if tally.calls > 1 else ""
                detail = head + shown + (f"; … {more} more" if more > 0 else "")
            else:
                calls = f"{tally.calls} call{'s' if tally.calls != 1 else ''}"
                detail = f"{tally.detail} ({calls})" if tally.detail else calls
            result.append(Check(name, tally.kind, not tally.failures, detail, tally.calls))
        return result
