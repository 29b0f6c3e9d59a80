"""A generic async client that calls any catalogued API by its ID and returns the validated response model.

Transport failures surface as `PeerUnavailable`; error envelopes as `ApiCallError` carrying the rsp_code (or
OAuth error); a response that does not match the catalogue as `ApiCallError` with code `50007`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from openmydata.kit.errors import PeerError
from openmydata.kit.http import map_exceptions
from openmydata.kit.resilience import parse_retry_after
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import ApiSpec, Catalogue, Kind
from openmydata.standard.codes import RspCode
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.profiles import SUCCESS_CODES, UP_TO_DATE_CODES
from openmydata.standard.types import StandardModel

TRAN_ID = "x-api-tran-id"
API_TYPE = "x-api-type"
API_TYPES = ("scheduled", "user-consent", "user-refresh", "user-search")

M = TypeVar("M", bound=StandardModel)

_ACCEPTED = SUCCESS_CODES | UP_TO_DATE_CODES | {RspCode.REVOKE_INVALID_TOKEN.value}


class ApiCallError(PeerError):
    """The peer answered with an error (or with something that is not the standard's response)."""


@dataclass
class ApiResult(Generic[M]):
    spec: ApiSpec
    status_code: int
    tran_id: str | None
    model: M
    raw: dict[str, Any]

    @property
    def rsp_code(self) -> str | None:
        code = self.raw.get("rsp_code")
        return str(code) if code is not None else None

    @property
    def up_to_date(self) -> bool:
        """00001 (or the nationwide 20002): nothing new since the search_timestamp sent."""
        return self.rsp_code in UP_TO_DATE_CODES


class StandardClient:
    """Calls a participant's catalogued APIs.

    `org_code` and `party` are the caller's own (they make the x-api-tran-id); `base_url` is the peer's.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        org_code: str,
        party: Party = Party.OPERATOR,
        peer: str = "peer",
        catalogue: Catalogue = CATALOGUE,
    ):
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.org_code = org_code
        self.party = party
        self.peer = peer
        self.catalogue = catalogue

    def new_tran_id(self) -> str:
        return new_tran_id(self.org_code, self.party)

    def build_request(
        self,
        spec: ApiSpec,
        request: StandardModel | Mapping[str, Any],
        *,
        token: str | None = None,
        api_type: str | None = None,
        tran_id: str | None = None,
        path_params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Request:
        payload = (
            request.to_wire()
            if isinstance(request, StandardModel)
            else {k: v for k, v in request.items() if v is not None}
        )
        params = dict(path_params or {})
        for name in spec.path_params:
            if name not in params and name in payload:
                params[name] = str(payload[name])
        path = spec.path
        for name in spec.path_params:
            if name not in params:
                raise ValueError(f"{spec.id} needs path parameter {name}")
            path = path.replace("{" + name + "}", quote(params[name], safe=""))
        body = {k: v for k, v in payload.items() if k not in spec.path_params}
        all_headers = {TRAN_ID: tran_id or self.new_tran_id()}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if api_type and spec.is_info_api:
            all_headers[API_TYPE] = api_type
        all_headers.update(headers or {})
        url = f"{self.base_url}{path}"
        if spec.kind in {Kind.OAUTH} or (spec.kind is Kind.SUPPORT and spec.resource.endswith("/token")):
            if spec.method == "GET":
                return self.http.build_request("GET", url, params=_flat(body), headers=all_headers)
            return self.http.build_request("POST", url, data=_flat(body), headers=all_headers)
        if spec.method == "GET":
            return self.http.build_request("GET", url, params=_flat(body), headers=all_headers)
        return self.http.build_request("POST", url, json=body, headers=all_headers)

    async def call(
        self,
        api_id: str | ApiSpec,
        request: StandardModel | Mapping[str, Any],
        *,
        token: str | None = None,
        api_type: str | None = None,
        tran_id: str | None = None,
        path_params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ApiResult[Any]:
        """Call an API by ID, or by its entry as served under one industry (`ApiSpec.at`: IRP at an investment
        firm is called at /v1/invest/irps)."""
        spec = api_id if isinstance(api_id, ApiSpec) else self.catalogue[api_id]
        http_request = self.build_request(
            spec, request, token=token, api_type=api_type, tran_id=tran_id, path_params=path_params, headers=headers
        )
        with map_exceptions(self.peer):
            response = await self.http.send(http_request)
        return self.parse(spec, response)

    def parse(self, spec: ApiSpec, response: httpx.Response) -> ApiResult[Any]:
        try:
            raw = response.json()
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            raise ApiCallError(
                self.peer,
                response.status_code,
                {"rsp_code": RspCode.CONVERSION_ERROR.value, "rsp_msg": "response is not a JSON object"},
                retry_after_s=_retry_after(response),
            )
        if response.status_code >= 400 or "error" in raw:
            raise ApiCallError(self.peer, response.status_code, raw, retry_after_s=_retry_after(response))
        code = raw.get("rsp_code")
        # Success in any profile's code set (financial 00000/00001, nationwide 20001/20002), or revoke's 99999.
        if code is not None and code not in _ACCEPTED:
            raise ApiCallError(self.peer, response.status_code, raw, retry_after_s=_retry_after(response))
        tran_id = response.headers.get(TRAN_ID)
        if code in UP_TO_DATE_CODES:
            return ApiResult(spec, response.status_code, tran_id, None, raw)
        try:
            model = spec.response.model_validate(raw)
        except ValidationError as exc:
            raise ApiCallError(
                self.peer,
                response.status_code,
                {
                    "rsp_code": RspCode.CONVERSION_ERROR.value,
                    "rsp_msg": f"response does not match {spec.id}: {exc.error_count()} errors",
                },
            ) from exc
        return ApiResult(spec, response.status_code, tran_id, model, raw)

    async def pages(
        self,
        api_id: str | ApiSpec,
        request: Mapping[str, Any],
        *,
        token: str | None = None,
        api_type: str | None = None,
        max_pages: int = 10_000,
    ) -> AsyncIterator[ApiResult[Any]]:
        """Follow next_page to the end. search_timestamp goes on the first page only (digest §2.4)."""
        current = dict(request)
        for _ in range(max_pages):
            result = await self.call(api_id, current, token=token, api_type=api_type)
            yield result
            next_page = result.raw.get("next_page") if not result.up_to_date else None
            if not next_page:
                return
            current = {k: v for k, v in current.items() if k != "search_timestamp"}
            current["next_page"] = next_page
        raise ApiCallError(self.peer, 200, {"rsp_code": RspCode.CONVERSION_ERROR.value, "rsp_msg": "too many pages"})


def _retry_after(response: httpx.Response) -> float | None:
    return parse_retry_after(response.headers.get("retry-after"))


def _flat(payload: Mapping[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else str(v) for k, v in payload.items() if v is not None}
