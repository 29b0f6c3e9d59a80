"""Turn generated values into stored records in the catalogue's wire form.

Two modes give the same payloads:
- strict (`validate=True`): a RECORDS or ASSET_LIST payload is parsed by the API's `record_model`, an
  ASSET_INFO payload by its `response` model (with a placeholder envelope that is dropped again), and the stored
  payload is the model's wire form (`to_wire`); a generator bug raises a pydantic ValidationError;
- fast (default): the same wire form (field order, defaults, strings for numbers and Booleans) is written
  without parsing, because parsing every one of millions of records dominated generation time. The tests run
  the generators in both modes and require identical output, and a provider validates every record again when
  it imports them, so nothing invalid is ever served.

A sink keeps its records as plain rows (`{api_id, key, period, payload}`, the fields of `StoredRecord`):
`customer_line` serialises a customer straight from them, byte for byte what
`CustomerData.model_dump_json(exclude_none=True)` gives (UTF-8), and `RecordSink.records` builds the
`StoredRecord`s on demand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic_core import PydanticUndefined, to_json

from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import ApiSpec, Catalogue, Kind, Sector, selector_key
from openmydata.standard.codes import RspCode
from openmydata.standard.dataset import CustomerData, StoredRecord
from openmydata.standard.types import StandardModel, format_decimal

DATA_KINDS = frozenset({Kind.ASSET_LIST, Kind.ASSET_INFO, Kind.RECORDS})
# Response fields that belong to the exchange, not to the stored object.
ENVELOPE_FIELDS = frozenset({"rsp_code", "rsp_msg", "search_timestamp", "next_page", "reg_date"})


def data_apis(sector: Sector | str, catalogue: Catalogue = CATALOGUE) -> dict[str, ApiSpec]:
    """The sector's catalogued APIs that return stored data, by id."""
    return {spec.id: spec for spec in catalogue.sector(sector) if spec.kind in DATA_KINDS}


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


def _float_text(value: float) -> str:
    return format_decimal(Decimal(repr(value)))


# Scalars by exact type (a bool is not an int here); str, the most common, is handled before the lookup.
_SCALARS: dict[type, Callable[[Any], str]] = {bool: _bool_text, Decimal: format_decimal, int: str, float: _float_text}


def _wire(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value
    convert = _SCALARS.get(kind)
    if convert is not None:
        return convert(value)
    if isinstance(value, Mapping):
        return {name: _wire(item) for name, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


@cache
def _layout(model: type[StandardModel]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Field order and wire-form defaults of a model (fields with a non-None default)."""
    order = tuple(name for name in model.model_fields if name not in ENVELOPE_FIELDS)
    defaults = {
        name: _wire(info.default)
        for name, info in model.model_fields.items()
        if info.default is not PydanticUndefined and info.default is not None and name not in ENVELOPE_FIELDS
    }
    return order, defaults


def _payload_model(spec: ApiSpec) -> type[StandardModel]:
    model = spec.response if spec.kind is Kind.ASSET_INFO else spec.record_model
    if model is None:
        raise ValueError(f"{spec.id} has no record model")
    return model


def _fast_payload(order: tuple[str, ...], defaults: dict[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    get = values.get
    for name in order:
        value = get(name)
        kind = type(value)
        if kind is str:
            payload[name] = value
        elif kind is int:
            payload[name] = str(value)
        elif value is None:
            if name in defaults:
                payload[name] = defaults[name]
        else:
            convert = _SCALARS.get(kind)
            payload[name] = convert(value) if convert is not None else _wire(value)
    return payload


def fast_wire_payload(spec: ApiSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The wire form `wire_payload` gives, built without parsing (see the module docstring)."""
    order, defaults = _layout(_payload_model(spec))
    return _fast_payload(order, defaults, values)


def wire_payload(spec: ApiSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The wire form of one stored object of `spec`, parsed by the catalogue's model."""
    if spec.kind is Kind.ASSET_INFO:
        envelope = {"rsp_code": RspCode.OK.value, "rsp_msg": "정상"}
        parsed = spec.response.model_validate({**values, **envelope}).to_wire()
        return {name: value for name, value in parsed.items() if name not in ENVELOPE_FIELDS}
    if spec.record_model is None:
        raise ValueError(f"{spec.id} has no record model")
    return spec.record_model.model_validate(values).to_wire()


@dataclass(frozen=True, slots=True)
class _Plan:
    """What `RecordSink.add` needs of one API, worked out once per catalogue."""

    spec: ApiSpec
    order: tuple[str, ...]
    defaults: dict[str, Any]
    key_fields: tuple[str, ...]
    period_field: str  # "" when the stored period comes from the record itself (or there is none)


def _plan(spec: ApiSpec) -> _Plan:
    order, defaults = _layout(_payload_model(spec)) if spec.kind in DATA_KINDS else ((), {})
    return _Plan(
        spec=spec,
        order=order,
        defaults=defaults,
        key_fields=spec.key_fields,
        period_field=spec.period_field if spec.period_field and not spec.record_period_field else "",
    )


_PLANS: dict[tuple[int, str], tuple[Catalogue, dict[str, _Plan]]] = {}


def _plans(sector: Sector | str, catalogue: Catalogue) -> dict[str, _Plan]:
    """The plans of a sector's data APIs (cached; the catalogue is held so its id stays its own)."""
    cache_key = (id(catalogue), Sector(sector).value)
    cached = _PLANS.get(cache_key)
    if cached is not None and cached[0] is catalogue:
        return cached[1]
    plans = {api_id: _plan(spec) for api_id, spec in data_apis(sector, catalogue).items()}
    _PLANS[cache_key] = (catalogue, plans)
    return plans


class RecordSink:
    """Collects one customer's records for one sector, keyed the way the provider selects them."""

    def __init__(self, sector: Sector | str, catalogue: Catalogue = CATALOGUE, *, validate: bool = False):
        self._plans = _plans(sector, catalogue)
        self._validate = validate
        self.rows: list[dict[str, Any]] = []
        self._last_plan: _Plan | None = None
        self._last_source: Mapping[str, Any] | None = None
        self._last_key = ""

    def has(self, api_id: str) -> bool:
        return api_id in self._plans

    @property
    def records(self) -> list[StoredRecord]:
        """The collected records as `StoredRecord`s, in the order they were added."""
        return [StoredRecord(**row) for row in self.rows]

    def add(
        self,
        api_id: str,
        values: Mapping[str, Any],
        *,
        source: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store one object of `api_id`; returns its wire payload (to use as the `source` of later APIs).

        `source` is the wire payload of the record the key comes from (its fields are mapped through the
        catalogue's `Source.fields`); `context` gives request values that no record carries (통신-002's
        charge_month), which also set the stored period when the API filters by a request field. A source is
        not to be changed once used: the key of consecutive records with the same source is worked out once.
        """
        plan = self._plans[api_id]
        if self._validate:
            payload = wire_payload(plan.spec, values)
        else:
            payload = _fast_payload(plan.order, plan.defaults, values)
        if context is None and not plan.period_field:
            # consecutive records of one API usually share their source (an account's transactions)
            if plan is self._last_plan and source is self._last_source:
                key = self._last_key
            else:
                key = _selector(plan, source, None)[0]
                self._last_plan, self._last_source, self._last_key = plan, source, key
            period = ""
        else:
            key, period = _selector(plan, source, context)
        self.rows.append({"api_id": api_id, "key": key, "period": period, "payload": payload})
        return payload


def _selector(plan: _Plan, source: Mapping[str, Any] | None, context: Mapping[str, Any] | None) -> tuple[str, str]:
    """(key, period) of a record: from the source's mapped fields, overridden by the context
    (`catalogue.selector_key` of the selector the provider builds)."""
    selector: dict[str, Any] = {}
    if plan.spec.source is not None and source is not None:
        selector.update({field: source.get(origin) for field, origin in plan.spec.source.fields.items()})
    if context:
        selector.update(context)
    period = str(selector[plan.period_field]) if plan.period_field else ""
    return selector_key(selector, plan.key_fields), period


_HEADER_FIELDS = tuple(name for name in CustomerData.model_fields if name != "records")


def customer_line(header: Mapping[str, Any], rows: list[dict[str, Any]]) -> bytes:
    """One UTF-8 line of the interchange file: `CustomerData(**header, records=rows)` as
    `standard.dataset.dump_lines` writes it (fields without a value are omitted), newline included."""
    data: dict[str, Any] = {}
    for name in _HEADER_FIELDS:
        value = header.get(name)
        if value is not None:
            data[name] = value
    data["records"] = rows
    return to_json(data) + b"\n"
