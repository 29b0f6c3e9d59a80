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

A few APIs are served under several industries (IRP-001…004 by banks, investment firms and insurers; 채권-001…003
by debt buyers and money lenders). Their entry lists them in `industries` and is written for the first one
(`sector`, path `/v1/<sector>/…`, scope `<sector>.…`); `ApiSpec.at(industry)` is the same API as served under
another industry (path `/v1/<industry>/…`, scope `<industry>.…`), and the catalogue's per-industry views
(`sector`, `info_apis`, `scopes`, `by_route`) hand out such bound entries. An ID still names one API.

Information APIs belong to one standard profile (`ApiSpec.profile`: the financial standard, or the 2025
nationwide one, whose telecom APIs differ from 통신-001…004); the OAuth, common and support entries are the
machinery every profile shares. A catalogue is a view for one profile (`Catalogue.profile`, financial by
default): its lookups, iteration and per-industry views hold the shared entries and that profile's information
APIs only, so a provider, collector or checker handed `catalogue.for_profile(...)` derives everything from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from openmydata.standard.profiles import Profile
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
    # Every industry serving the API when several do (`sector` is the one this entry is bound to); () = `sector`.
    industries: tuple[Sector, ...] = ()
    # The standard an information API belongs to (shared machinery is written as financial: every profile has it).
    profile: Profile = Profile.FINANCIAL

    def __post_init__(self) -> None:
        if self.profile is not Profile.FINANCIAL and self.sector not in INFO_SECTORS:
            raise ValueError(f"{self.id}: only information APIs belong to the {self.profile.value} profile alone")
        if not self.industries:
            return
        if self.sector not in self.industries or not set(self.industries) <= INFO_SECTORS:
            raise ValueError(
                f"{self.id}: industries {self.industries} must be information industries with {self.sector}"
            )
        if self.scope is not None and not self.scope.startswith(f"{self.sector.value}."):
            raise ValueError(f"{self.id}: scope {self.scope} is not one of {self.sector.value}")

    @property
    def served_under(self) -> tuple[Sector, ...]:
        """The industries whose path and scopes serve this API."""
        return self.industries or (self.sector,)

    @property
    def is_shared(self) -> bool:
        """Whether several industries serve this API (IRP, 채권)."""
        return len(self.industries) > 1

    def scope_for(self, industry: Sector | str) -> str | None:
        """The scope a call needs under `industry`: `<industry>.irp` for IRP-002 served by an investment firm."""
        wanted = Sector(industry)
        if self.scope is None or wanted is self.sector or wanted not in self.industries:
            return self.scope
        return f"{wanted.value}.{self.scope.split('.', 1)[1]}"

    def path_for(self, industry: Sector | str) -> str:
        """The path the API is served at under `industry` (`/v1/invest/irps`, `/v1/invest/consents`)."""
        if self.industry_path == "{industry}":
            return self.path.replace("{industry}", Sector(industry).value)
        return self.at(industry).path

    def at(self, industry: Sector | str) -> ApiSpec:
        """This API as served under `industry` (its path and scope); the entry itself for its own sector."""
        wanted = Sector(industry)
        if wanted is self.sector:
            return self
        if wanted not in self.industries:
            raise ValueError(f"{self.id} is not served under {wanted.value}")
        return replace(self, sector=wanted, scope=self.scope_for(wanted))

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
    """The catalogued APIs of one profile (see the module docstring), indexed by ID and by (method, path)."""

    def __init__(self, specs: Iterable[ApiSpec], *, profile: Profile | str = Profile.FINANCIAL):
        self.profile = Profile(profile)
        self._all: dict[str, ApiSpec] = {}
        for spec in specs:
            if spec.id in self._all:
                raise ValueError(f"duplicate API id {spec.id}")
            self._all[spec.id] = spec
        self._by_id = {api_id: spec for api_id, spec in self._all.items() if self._in_profile(spec)}
        self._bound: dict[tuple[str, Sector], ApiSpec] = {}
        self._views: dict[Profile, Catalogue] = {self.profile: self}

    def _in_profile(self, spec: ApiSpec) -> bool:
        return spec.profile is self.profile or spec.sector not in INFO_SECTORS

    @property
    def profiles(self) -> tuple[Profile, ...]:
        """The profiles whose information APIs are catalogued."""
        found = {spec.profile for spec in self._all.values() if spec.sector in INFO_SECTORS}
        return tuple(profile for profile in Profile if profile in found)

    def for_profile(self, profile: Profile | str) -> Catalogue:
        """The same entries seen as `profile` (one view per profile, made once)."""
        wanted = Profile(profile)
        view = self._views.get(wanted)
        if view is None:
            view = Catalogue(self._all.values(), profile=wanted)
            view._views = self._views
            self._views[wanted] = view
        return view

    def every_profile(self) -> list[ApiSpec]:
        """Every entry of every profile (documentation), in catalogue order."""
        return list(self._all.values())

    def in_any_profile(self, api_id: str) -> ApiSpec | None:
        """The entry `api_id` names in whichever profile it belongs to (records of calls to providers of several
        profiles, e.g. the operator's statistics); None for an unknown ID."""
        return self._all.get(api_id)

    def __getitem__(self, api_id: str) -> ApiSpec:
        return self._by_id[api_id]

    def __contains__(self, api_id: object) -> bool:
        return api_id in self._by_id

    def __iter__(self) -> Any:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def bound(self, spec: ApiSpec, industry: Sector | str) -> ApiSpec:
        """`spec.at(industry)`, made once per catalogue (so that the same call gives the same object)."""
        wanted = Sector(industry)
        if wanted is spec.sector:
            return spec
        key = (spec.id, wanted)
        found = self._bound.get(key)
        if found is None:
            found = self._bound[key] = spec.at(wanted)
        return found

    def sector(self, sector: Sector | str) -> list[ApiSpec]:
        """The APIs served under `sector`, APIs shared with other industries bound to it (`ApiSpec.at`)."""
        wanted = Sector(sector)
        return [self.bound(spec, wanted) for spec in self if wanted in spec.served_under]

    def info_apis(self, sectors: Iterable[Sector | str]) -> list[ApiSpec]:
        """The information APIs of `sectors`, sector by sector in the catalogue's order, each API once: one that
        several of them serve is bound to the first (`info_apis([a, b])` is `info_apis([a])` followed by what
        `info_apis([b])` adds)."""
        result: dict[str, ApiSpec] = {}
        for sector in dict.fromkeys(Sector(s) for s in sectors):
            for spec in self.sector(sector):
                if spec.kind in {Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS}:
                    result.setdefault(spec.id, spec)
        return list(result.values())

    def family(self, spec: ApiSpec) -> list[ApiSpec]:
        """The APIs served together with `spec` under its sector: the sector's own APIs for one of them, the shared
        group (IRP-001…004 under that sector) for a shared one."""
        return [other for other in self.sector(spec.sector) if other.industries == spec.industries]

    def asset_list_api(self, sector: Sector | str) -> ApiSpec:
        """The sector's (first) asset list API (insurance and e-finance have two: see `asset_lists_for`); the
        sector's own before one it shares (은행-001, not IRP-001)."""
        lists = sorted(self.asset_lists(sector), key=lambda spec: spec.is_shared)
        if not lists:
            raise KeyError(f"no asset list API for {sector}")
        return lists[0]

    def asset_lists(self, sector: Sector | str) -> list[ApiSpec]:
        return [spec for spec in self.sector(sector) if spec.kind is Kind.ASSET_LIST]

    def asset_lists_for(self, spec: ApiSpec) -> list[ApiSpec]:
        """The asset list(s) an API's assets come from: the one its `source` chain leads to, else every asset list of
        its family (`family`: IRP-001 is no list of a bank API)."""
        seen: set[str] = set()
        current: ApiSpec | None = spec
        while current is not None and current.source is not None and current.id not in seen:
            seen.add(current.id)
            origin = self._by_id.get(current.source.api_id)
            if origin is not None and origin.kind is Kind.ASSET_LIST:
                return [origin]
            current = origin
        return [other for other in self.family(spec) if other.kind is Kind.ASSET_LIST]

    def scopes(self, sector: Sector | str) -> list[str]:
        seen: dict[str, None] = {}
        for spec in self.sector(sector):
            if spec.scope:
                seen.setdefault(spec.scope, None)
        return list(seen)

    def by_route(self, method: str, path: str) -> list[ApiSpec]:
        return [
            self.bound(spec, industry)
            for spec in self
            if spec.method == method
            for industry in spec.served_under
            if self.bound(spec, industry).path == path
        ]
