"""Outbound calls of the CA: the portal's 지원-001 (token) and 지원-006 (organisations and their CA credentials)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx

from openmydata.kit import logging as log
from openmydata.kit.clock import utcnow
from openmydata.standard.apis.support import CaOrgEntry
from openmydata.standard.client import ApiCallError, StandardClient
from openmydata.standard.codes import RspCode
from openmydata.standard.formats import Party

_logger = log.get_logger("openmydata.certauth.portal")


class PortalClient:
    """Reads the registry from the portal. `ca_orgs()` is rate-limited: an unknown client_id hammering the
    token endpoint does not turn into a flood of portal calls."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        portal_url: str,
        org_code: str,
        client_id: str,
        client_secret: str,
        resync_interval_s: float,
    ):
        self.client = StandardClient(http, portal_url, org_code=org_code, party=Party.CERT_AUTHORITY, peer="portal")
        self.client_id = client_id
        self.client_secret = client_secret
        self.resync_interval_s = resync_interval_s
        self._token: str | None = None
        self._token_expires = utcnow()
        self._last_sync: float | None = None
        self._lock = asyncio.Lock()

    async def _access_token(self, *, renew: bool = False) -> str:
        if self._token is None or renew or utcnow() >= self._token_expires:
            result = await self.client.call(
                "지원-001",
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "scope": "manage",
                },
            )
            self._token = result.model.access_token
            # Renew a minute early so that a token never expires between check and use.
            self._token_expires = utcnow() + timedelta(seconds=max(int(result.model.expires_in) - 60, 0))
        assert self._token is not None
        return self._token

    async def orgs(self, search_timestamp: str | None) -> dict[str, Any]:
        """지원-002 as sent (the peer check's view of registered certificates)."""
        request: dict[str, Any] = {"search_timestamp": search_timestamp} if search_timestamp else {}
        try:
            result = await self.client.call("지원-002", request, token=await self._access_token())
        except ApiCallError as exc:
            if exc.code != RspCode.INVALID_TOKEN.value:
                raise
            result = await self.client.call("지원-002", request, token=await self._access_token(renew=True))
        return result.raw

    async def ca_orgs(self, *, force: bool = False) -> list[CaOrgEntry] | None:
        """Every organisation with its CA credentials (지원-006); None when a sync ran too recently."""
        async with self._lock:
            now = time.monotonic()
            if not force and self._last_sync is not None and now - self._last_sync < self.resync_interval_s:
                return None
            self._last_sync = now
            try:
                result = await self.client.call("지원-006", {}, token=await self._access_token())
            except ApiCallError as exc:
                if exc.code != RspCode.INVALID_TOKEN.value:
                    raise
                result = await self.client.call("지원-006", {}, token=await self._access_token(renew=True))
            entries: list[CaOrgEntry] = list(result.model.org_list)
            _logger.info("registry read from the portal", org_cnt=len(entries))
            return entries
