"""The portal's outbound calls: 지원-101 (token) and 지원-103 (a person's consents) at an operator, 지원-101 and
지원-104 (re-send the weekly statistics) at an operator or a provider."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from openmydata.kit.errors import PeerError, PeerUnavailable
from openmydata.kit.http import map_exceptions
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.support import (
    MemberConsentsRequest,
    MemberConsentsResponse,
    StatisticsResendRequest,
    SupportTokenResponse,
)
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.models import Envelope


class OperatorSupportClient:
    """Calls the support APIs organisations serve the portal (지원-101, 지원-103 at an operator, 지원-104 at an
    operator or a provider) as the portal (`portal_org_code` names the caller in tran ids)."""

    def __init__(self, http: httpx.AsyncClient, portal_org_code: str):
        self.http = http
        self.portal_org_code = portal_org_code

    async def member_consents(
        self, domain: str, org_code: str, client_id: str, client_secret: str, user_ci: str
    ) -> MemberConsentsResponse:
        """A 지원-101 token with the operator's portal-call pair, then 지원-103 for `user_ci`. `PeerUnavailable`
        when the operator cannot be reached, `PeerError` when it refuses or answers out of format."""
        peer = f"operator {org_code}"
        base = domain.rstrip("/")
        token = await self._support_token(peer, base, client_id, client_secret)
        request = MemberConsentsRequest(org_code=org_code, user_ci=user_ci)
        response = await self._call(
            peer,
            "POST",
            f"{base}{CATALOGUE['지원-103'].path}",
            json=request.to_wire(),
            headers={"Authorization": f"Bearer {token.access_token}"},
        )
        return _parse(peer, response, MemberConsentsResponse)

    async def request_statistics(
        self,
        domain: str,
        org_code: str,
        client_id: str,
        client_secret: str,
        *,
        org_type: str,
        stat_type: str,
        inquiry_date: str,
    ) -> str:
        """A 지원-101 token with the organisation's portal-call pair, then 지원-104 (`org_type` 01 operator, 03
        provider; `stat_type` 0 both, 1 scheduled, 2 user-involved); returns the rsp_code (00000: the reports were
        sent again). `PeerUnavailable` / `PeerError` as for `member_consents`."""
        peer = f"organisation {org_code}"
        base = domain.rstrip("/")
        token = await self._support_token(peer, base, client_id, client_secret)
        request = StatisticsResendRequest(
            org_code=org_code,
            org_type=org_type,  # type: ignore[arg-type]
            type=stat_type,  # type: ignore[arg-type]
            inquiry_date=inquiry_date,
        )
        response = await self._call(
            peer,
            "GET",
            f"{base}{CATALOGUE['지원-104'].path}",
            params=request.to_wire(),
            headers={"Authorization": f"Bearer {token.access_token}"},
        )
        return _parse(peer, response, Envelope).rsp_code

    async def _support_token(self, peer: str, base: str, client_id: str, client_secret: str) -> SupportTokenResponse:
        """지원-101 at `base` with the pair the portal was issued for calling that organisation."""
        response = await self._call(
            peer,
            "POST",
            f"{base}{CATALOGUE['지원-101'].path}",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "scope": "manage",
            },
        )
        return _parse(peer, response, SupportTokenResponse)

    async def _call(self, peer: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"x-api-tran-id": new_tran_id(self.portal_org_code, Party.PORTAL), **kwargs.pop("headers", {})}
        with map_exceptions(peer):
            response = await self.http.request(method, url, headers=headers, **kwargs)
        if response.status_code >= 500:
            raise PeerUnavailable(peer, f"HTTP {response.status_code}")
        return response


M = TypeVar("M", SupportTokenResponse, MemberConsentsResponse, Envelope)


def _parse(peer: str, response: httpx.Response, model: type[M]) -> M:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise PeerError(peer, response.status_code, {})
    if response.status_code >= 400 or body.get("rsp_code", "00000") != "00000":
        raise PeerError(peer, response.status_code, body)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise PeerError(peer, response.status_code, body) from exc
