"""The catalogue: one record per API of the standard, defined once.

The provider mounts a route per entry, the operator's collector and the conformance checker call entries by ID
through the generic client, and `docs/standard-coverage.md` is generated from it. Paths, methods and version
prefixes are data here because they changed between versions of the standard.

How a sector entry describes its data, so that storage, serving and collection can be generic:
- `kind` says what the API returns: the person's asset list, one object per asset, or a list of records;
- `asset_field` names the request field (or path parameter) that carries the consented asset (40105 check);
- `key_fields` are the request fields that select stored records (joined by `selector_key`);
- `range_fields` / `period_field` filter records by their `record_period_field` value (dates and months
  compare as text);
- `source` tells a collector where the values of `key_fields` come from (an earlier API's records);
- `record_key` is the natural key of one record, used for idempotent upserts at the receiver;
- `sensitive` maps response fields to the consent flag without which the provider must leave them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from openmydata.standard.types import StandardModel


class Sector(StrEnum):
    AUTH = "auth"
    COMMON = "common"
    SUPPORT = "support"
    BANK = "bank"
    CARD = "card"
    TELECOM = "telecom"
    INVEST = "invest"
    INSU = "insu"
    EFIN = "efin"
    CAPITAL = "capital"
    GINSU = "ginsu"
    P2P = "p2p"
    BOND = "bond"
    USURY = "usury"


INFO_SECTORS = frozenset(
    {
        Sector.BANK,
        Sector.CARD,
        Sector.TELECOM,
        Sector.INVEST,
        Sector.INSU,
        Sector.EFIN,
        Sector.CAPITAL,
        Sector.GINSU,
        Sector.P2P,
        Sector.BOND,
        Sector.USURY,
    }
)


class CycleClass(StrEnum):
    """정기적 전송주기 class: which consent cycle (fnd_cycle / add_cycle) applies."""

    BASIC = "기본"
    ADDITIONAL = "추가"


class Kind(StrEnum):
    OAUTH = "oauth"
    SUPPORT = "support"
    API_LIST = "api_list"  # 정보제공-공통-001
    CONSENT = "consent"  # 정보제공-공통-002
    ASSET_LIST = "asset_list"  # the person's assets in a sector (은행-001, 카드-001, 통신-001)
    ASSET_INFO = "asset_info"  # one object per selected key (은행-002)
    RECORDS = "records"  # a list of records per selected key, maybe ranged, maybe paged (은행-004)


class Served(StrEnum):
    PROVIDER = "provider"
    PORTAL = "portal"
    OPERATOR = "operator"
    PROVIDER_AND_OPERATOR = "provider+operator"
    CERTAUTH = "certauth"


@dataclass(frozen=True)
class Match:
    """Select source records whose `field` starts with one of `prefixes` (e.g. bank account_type 1xxx)."""

    field: str
    prefixes: tuple[str, ...]

    def __call__(self, record: Mapping[str, Any]) -> bool:
        value = str(record.get(self.field, ""))
        return any(value.startswith(prefix) for prefix in self.prefixes)


@dataclass(frozen=True)
class Source:
    """Where a collector finds values for an API's key fields: the records of an earlier API."""

    api_id: str
    fields: Mapping[str, str]  # request field -> source record field
    where: Match | None = None


@dataclass(frozen=True)
class ApiSpec:
    id: str
    api_code: str
    title: str
    sector: Sector
    method: Literal["GET", "POST"]
    resource: str
    request: type[StandardModel]
    response: type[StandardModel]
    kind: Kind
    version: str | None = "v1"
    scope: str | None = None
    cycle: CycleClass | None = None
    served_by: Served = Served.PROVIDER
    list_field: str | None = None
    count_field: str | None = None
    record_model: type[StandardModel] | None = None
    paged: bool = False
    search_timestamp: bool = False
    asset_field: str | None = None
    asset_id_field: str | None = None  # for ASSET_LIST: the entry field that identifies an asset
    key_fields: tuple[str, ...] = ()
    range_fields: tuple[str, str] | None = None
    period_field: str | None = None
    record_period_field: str | None = None
    record_key: tuple[str, ...] = ()
    source: Source | None = None
    sensitive: Mapping[str, str] = field(default_factory=dict)
    note: str = ""  # the project's reading where the digest is silent or unconfirmed

    @property
    def industry_path(self) -> str:
        """The path segment after the version: `bank`, `card` … (none for auth, support and 공통-001)."""
        if self.sector in INFO_SECTORS:
            return self.sector.value
        if self.sector is Sector.COMMON and self.version:
            return "{industry}"  # 정보제공-공통-002 is served under every industry the provider serves
        return ""

    @property
    def path(self) -> str:
        parts = [self.version or "", self.industry_path]
        prefix = "/".join(part for part in parts if part)
        return f"/{prefix}{self.resource}" if prefix else self.resource

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(part[1:-1] for part in self.path.split("/") if part.startswith("{") and part.endswith("}"))

    @property
    def is_info_api(self) -> bool:
        return self.kind in {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS, Kind.CONSENT}

    @property
    def is_ranged(self) -> bool:
        return self.range_fields is not None

    @property
    def range_unit(self) -> Literal["date", "month"] | None:
        if self.range_fields is None:
            return None
        return "month" if self.range_fields[0].endswith("month") else "date"


def selector_key(values: Mapping[str, Any], key_fields: Iterable[str]) -> str:
    """The stored key of the records an API call selects: key field values joined by `|` ('' when absent)."""
    return "|".join(str(values.get(name) or "") for name in key_fields)


def record_natural_key(record: Mapping[str, Any], fields: Iterable[str]) -> str:
    return "|".join(str(record.get(name) or "") for name in fields)


class NaturalKeys:
    """Natural keys of the records of one retrieval, in the order the provider sends them.

    The standard gives many records no identifier (bill lines, telecom payments, micro-payments), so their
    `record_key` combines fields, and two identical purchases on one day would share a key. A repeat of a key
    within one retrieval is numbered (`…#2`, `…#3`), so both are kept and collecting again maps each to the same
    key (providers page in a stable order).
    """

    def __init__(self, fields: Iterable[str]):
        self.fields = tuple(fields)
        self._seen: dict[str, int] = {}

    def __call__(self, record: Mapping[str, Any]) -> str:
        base = record_natural_key(record, self.fields)
        count = self._seen.get(base, 0) + 1
        self._seen[base] = count
        return base if count == 1 else f"{base}#{count}"


class Catalogue:
    """All catalogued APIs, indexed by ID and by (method, path)."""

    def __init__(self, specs: Iterable[ApiSpec]):
        self._by_id: dict[str, ApiSpec] = {}
        for spec in specs:
            if spec.id in self._by_id:
                raise ValueError(f"duplicate API id {spec.id}")
            self._by_id[spec.id] = spec

    def __getitem__(self, api_id: str) -> ApiSpec:
        return self._by_id[api_id]

    def __contains__(self, api_id: object) -> bool:
        return api_id in self._by_id

    def __iter__(self) -> Any:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def sector(self, sector: Sector | str) -> list[ApiSpec]:
        return [spec for spec in self if spec.sector == sector]

    def info_apis(self, sectors: Iterable[Sector | str]) -> list[ApiSpec]:
        wanted = {Sector(s) for s in sectors}
        return [
            spec
            for spec in self
            if spec.sector in wanted and spec.kind in {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}
        ]

    def asset_list_api(self, sector: Sector | str) -> ApiSpec:
        """The sector's (first) asset list API (insurance and e-finance have two: see `asset_lists_for`)."""
        for spec in self.sector(sector):
            if spec.kind is Kind.ASSET_LIST:
                return spec
        raise KeyError(f"no asset list API for {sector}")

    def asset_lists(self, sector: Sector | str) -> list[ApiSpec]:
        return [spec for spec in self.sector(sector) if spec.kind is Kind.ASSET_LIST]

    def asset_lists_for(self, spec: ApiSpec) -> list[ApiSpec]:
        """The asset list(s) an API's assets come from: the one its `source` chain leads to, else every asset list of
        its sector."""
        seen: set[str] = set()
        current: ApiSpec | None = spec
        while current is not None and current.source is not None and current.id not in seen:
            seen.add(current.id)
            origin = self._by_id.get(current.source.api_id)
            if origin is not None and origin.kind is Kind.ASSET_LIST:
                return [origin]
            current = origin
        return self.asset_lists(spec.sector)

    def scopes(self, sector: Sector | str) -> list[str]:
        seen: dict[str, None] = {}
        for spec in self.sector(sector):
            if spec.scope:
                seen.setdefault(spec.scope, None)
        return list(seen)

    def by_route(self, method: str, path: str) -> list[ApiSpec]:
        return [spec for spec in self if spec.method == method and spec.path == path]
