"""Outbound calls: the portal (지원-001/002), the certification authority (CA token, identity verification,
sign request/result) and providers (통합인증-002, 개별인증-003/004 and info APIs through the generic client).

Transport failures surface as `PeerUnavailable`, error envelopes as `ApiCallError`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.http import map_exceptions
from openmydata.standard.apis.auth import (
    IntegratedAuthRequest,
    IntegratedAuthResponse,
    RefreshRequest,
    RefreshResponse,
    RevokeRequest,
)
from openmydata.standard.apis.support import (
    OperatorStatisticsRequest,
    OrgListResponse,
    SearchRequest,
    SupportTokenRequest,
    SupportTokenResponse,
)
from openmydata.standard.client import TRAN_ID, ApiCallError, StandardClient
from openmydata.standard.codes import RspCode
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.profiles import SUCCESS_CODES, UP_TO_DATE_CODES

_OK_CODES = SUCCESS_CODES | UP_TO_DATE_CODES  # financial 00000/00001, nationwide 20001/20002


async def _send_json(
    http: httpx.AsyncClient,
    peer: str,
    method: str,
    url: str,
    *,
    org_code: str,
    token: str | None = None,
    json: Mapping[str, Any] | None = None,
    params: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    headers = {TRAN_ID: new_tran_id(org_code, Party.OPERATOR)}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with map_exceptions(peer):
        response = await http.request(method, url, json=json, params=params, data=form, headers=headers)
    if response.status_code >= 500:
        raise PeerUnavailable(peer, f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApiCallError(
            peer,
            response.status_code,
            {"rsp_code": RspCode.CONVERSION_ERROR.value, "rsp_msg": "response is not a JSON object"},
        )
    code = body.get("rsp_code")
    if response.status_code >= 400 or "error" in body or (code is not None and str(code) not in _OK_CODES):
        raise ApiCallError(peer, response.status_code, body)
    return body


TokenFetcher = Callable[[], Awaitable[tuple[str, int]]]


class _CachedToken:
    """A cached client_credentials token (지원-001 at the portal, the CA token at certauth)."""

    def __init__(self, fetch: TokenFetcher):
        self._fetch = fetch
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def get(self, *, renew: bool = False) -> str:
        async with self._lock:
            if renew or self._token is None or time.monotonic() > self._expires:
                token, lifetime = await self._fetch()
                self._token = token
                self._expires = time.monotonic() + max(30, lifetime - 60)
            return self._token


class PortalClient:
    """종합포털: 지원-001 (token, scope manage), 지원-002 (organisation registry) and 지원-004 (weekly statistics),
    through the catalogue."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, org_code: str, client_id: str, client_secret: str):
        self.api = StandardClient(http, base_url, org_code=org_code, party=Party.OPERATOR, peer="portal")
        self._request = SupportTokenRequest(
            grant_type="client_credentials", client_id=client_id, client_secret=client_secret, scope="manage"
        )
        self._token = _CachedToken(self._fetch_token)

    async def _fetch_token(self) -> tuple[str, int]:
        result = await self.api.call("지원-001", self._request)
        model: SupportTokenResponse = result.model
        return model.access_token, model.expires_in

    async def orgs(self, search_timestamp: str | None = None) -> OrgListResponse | None:
        """지원-002; None when nothing changed since `search_timestamp` (00001)."""
        request = SearchRequest(search_timestamp=search_timestamp)
        try:
            result = await self.api.call("지원-002", request, token=await self._token.get())
        except ApiCallError as exc:
            if exc.status_code != 401:
                raise
            result = await self.api.call("지원-002", request, token=await self._token.get(renew=True))
        if result.up_to_date:
            return None
        model: OrgListResponse = result.model
        return model

    async def send_statistics(self, report: OperatorStatisticsRequest) -> None:
        """지원-004: one weekly report (a re-send for the same week replaces the earlier one at the portal)."""
        try:
            await self.api.call("지원-004", report, token=await self._token.get())
        except ApiCallError as exc:
            if exc.status_code != 401:
                raise
            await self.api.call("지원-004", report, token=await self._token.get(renew=True))


@dataclass(frozen=True)
class IdentityResult:
    sign_status: str
    user_ci: str | None
    real_name: str | None
    birth_date: str | None
    phone_num: str | None


@dataclass(frozen=True)
class SignedConsent:
    tx_id: str
    signed_consent: str


class CertAuthClient:
    """통합인증기관 (사설인증서): CA token, identity verification, sign request and sign result."""

    peer = "certauth"

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, org_code: str, client_id: str, client_secret: str):
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.org_code = org_code
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": "ca",
        }
        self._token = _CachedToken(self._fetch_token)

    async def _fetch_token(self) -> tuple[str, int]:
        body = await _send_json(
            self.http, self.peer, "POST", f"{self.base_url}/oauth/2.0/token", org_code=self.org_code, form=self._form
        )
        return _text(body, "access_token", self.peer), int(body.get("expires_in") or 3600)

    async def _call(self, path: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        try:
            return await _send_json(
                self.http, self.peer, "POST", url, org_code=self.org_code, token=await self._token.get(), json=payload
            )
        except ApiCallError as exc:
            if exc.status_code != 401:
                raise
        return await _send_json(
            self.http,
            self.peer,
            "POST",
            url,
            org_code=self.org_code,
            token=await self._token.get(renew=True),
            json=payload,
        )

    async def identity_request(
        self, *, real_name: str, birth_date: str, phone_num: str, request_title: str
    ) -> tuple[str, str]:
        body = await self._call(
            "/v1/ca/identity_request",
            {
                "real_name": real_name,
                "birth_date": birth_date,
                "phone_num": phone_num,
                "request_title": request_title,
            },
        )
        return _text(body, "cert_tx_id", self.peer), _text(body, "approval_url", self.peer)

    async def identity_result(self, cert_tx_id: str) -> IdentityResult:
        body = await self._call("/v1/ca/identity_result", {"cert_tx_id": cert_tx_id})
        return IdentityResult(
            sign_status=_text(body, "sign_status", self.peer),
            user_ci=body.get("user_ci"),
            real_name=body.get("real_name"),
            birth_date=body.get("birth_date"),
            phone_num=body.get("phone_num"),
        )

    async def sign_request(self, request: Mapping[str, Any]) -> tuple[str, str]:
        body = await self._call("/v1/ca/sign_request", request)
        return _text(body, "cert_tx_id", self.peer), _text(body, "approval_url", self.peer)

    async def sign_result(self, *, cert_tx_id: str, sign_tx_id: str) -> tuple[str, list[SignedConsent]]:
        body = await self._call("/v1/ca/sign_result", {"cert_tx_id": cert_tx_id, "sign_tx_id": sign_tx_id})
        signed = [
            SignedConsent(tx_id=str(item["tx_id"]), signed_consent=str(item["signed_consent"]))
            for item in body.get("signed_consent_list") or []
            if isinstance(item, dict) and item.get("tx_id") and item.get("signed_consent")
        ]
        return _text(body, "sign_status", self.peer), signed


def _text(body: Mapping[str, Any], name: str, peer: str) -> str:
    value = body.get(name)
    if value is None or value == "":
        raise ApiCallError(peer, 200, {"rsp_code": RspCode.CONVERSION_ERROR.value, "rsp_msg": f"no {name}"})
    return str(value)


class ProviderClient:
    """One provider: authorization APIs and, through `api`, every catalogued info API."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        *,
        operator_org: str,
        provider_org: str,
        client_id: str,
        client_secret: str,
    ):
        self.org_code = provider_org
        self.api = StandardClient(
            http, base_url, org_code=operator_org, party=Party.OPERATOR, peer=f"provider {provider_org}"
        )
        self._client_id = client_id
        self._client_secret = client_secret

    async def integrated_auth(
        self,
        *,
        tx_id: str,
        ca_code: str,
        user_ci: str,
        signed_consent: str,
        consent_nonce: str,
        cert_tx_id: str,
        tran_id: str | None = None,
    ) -> IntegratedAuthResponse:
        """통합인증-002 with a 사설인증서 signature over the consent text (auth_type 1, consent_type 0); `tran_id` is
        the x-api-tran-id to send (a new one when None)."""
        request = IntegratedAuthRequest(
            tx_id=tx_id,
            org_code=self.org_code,
            grant_type="password",
            client_id=self._client_id,
            client_secret=self._client_secret,
            ca_code=ca_code,
            username=user_ci,
            request_type="1",
            password_len=len(signed_consent),
            password=signed_consent,
            auth_type="1",
            consent_type="0",
            consent_nonce=consent_nonce,
            cert_tx_id=cert_tx_id,
        )
        result = await self.api.call("통합인증-002", request, tran_id=tran_id)
        model: IntegratedAuthResponse = result.model
        return model

    async def refresh(self, refresh_token: str) -> RefreshResponse:
        """개별인증-003."""
        request = RefreshRequest(
            org_code=self.org_code,
            grant_type="refresh_token",
            refresh_token=refresh_token,
            client_id=self._client_id,
            client_secret=self._client_secret,
        )
        result = await self.api.call("개별인증-003", request)
        model: RefreshResponse = result.model
        return model

    async def revoke(self, token: str, hint: str) -> str:
        """개별인증-004; returns the rsp_code (99999 when the provider no longer knows the token)."""
        request = RevokeRequest(
            org_code=self.org_code,
            token=token,
            token_type_hint=hint,  # type: ignore[arg-type]
            client_id=self._client_id,
            client_secret=self._client_secret,
        )
        result = await self.api.call("개별인증-004", request)
        return result.rsp_code or RspCode.OK.value
