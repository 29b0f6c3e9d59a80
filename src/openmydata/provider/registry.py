"""The portal registry kept locally: organisations (지원-002) and operators' services (지원-003).

Synchronised at start-up and again (at most every `registry_resync_interval_s`) when an unknown client_id
reaches the token endpoint. Each sync is its own job boundary: HTTP first, then one short transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from openmydata.kit import logging as log
from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database
from openmydata.kit.errors import PeerError, PeerUnavailable
from openmydata.provider import repository
from openmydata.provider.clients import PortalClient
from openmydata.provider.models import RegistryOrg, RegistryService
from openmydata.provider.service import secret_hash

_logger = log.get_logger("openmydata.provider.registry")

DELETED = "D"


def _text(entry: Mapping[str, Any], name: str) -> str | None:
    value = entry.get(name)
    return None if value is None or value == "" else str(value)


class RegistrySynchroniser:
    def __init__(self, db: Database, portal: PortalClient | None, *, min_interval_s: float):
        self.db = db
        self.portal = portal
        self.min_interval_s = min_interval_s
        self._lock = asyncio.Lock()
        self._last_sync = float("-inf")

    @property
    def enabled(self) -> bool:
        return self.portal is not None

    async def sync(self) -> bool:
        """Fetch changes since the stored search_timestamps and apply them; False when the portal is unreachable
        or refused (the local registry stays as it was)."""
        if self.portal is None:
            return False
        async with self._lock:
            return await self._sync(self.portal)

    async def resync_for_unknown_client(self) -> bool:
        """One re-sync for an unknown client_id, unless one ran very recently."""
        if self.portal is None:
            return False
        async with self._lock:
            if time.monotonic() - self._last_sync < self.min_interval_s:
                return False
            return await self._sync(self.portal)

    async def _sync(self, portal: PortalClient) -> bool:
        self._last_sync = time.monotonic()
        try:
            async with self.db.transaction() as session:
                orgs_since = await repository.sync_timestamp(session, "orgs")
                services_since = await repository.sync_timestamp(session, "services")
            orgs = await portal.orgs(orgs_since)
            services = await portal.services(services_since)
        except (PeerUnavailable, PeerError) as exc:
            _logger.warning("registry sync failed", peer="portal", reason=str(exc))
            return False
        async with self.db.transaction() as session:
            await self._apply(session, orgs, services)
        _logger.info(
            "registry synchronised",
            orgs=len(orgs.get("org_list") or []),
            service_orgs=len(services.get("org_list") or []),
        )
        return True

    async def _apply(self, session: Any, orgs: Mapping[str, Any], services: Mapping[str, Any]) -> None:
        now = utcnow()
        for entry in orgs.get("org_list") or []:
            org_code = _text(entry, "org_code")
            if not org_code:
                continue
            industry = _text(entry, "industry") or ""
            if _text(entry, "op_type") == DELETED:
                await repository.delete_org(session, org_code, industry or None)
                continue
            await repository.save_org(
                session,
                RegistryOrg(
                    org_code=org_code,
                    industry=industry,
                    org_type=_text(entry, "org_type") or "",
                    org_name=_text(entry, "org_name") or "",
                    org_regno=_text(entry, "org_regno"),
                    domain=_text(entry, "domain"),
                    auth_type=_text(entry, "auth_type"),
                    updated_at=now,
                ),
            )
        for org in services.get("org_list") or []:
            org_code = _text(org, "org_code")
            if not org_code:
                continue
            for entry in org.get("service_list") or []:
                client_id = _text(entry, "client_id")
                if not client_id:
                    continue
                secret = _text(entry, "client_secret")
                if _text(entry, "op_type") == DELETED or not secret:
                    await repository.delete_service(session, client_id)
                    continue
                await repository.save_service(
                    session,
                    RegistryService(
                        client_id=client_id,
                        org_code=org_code,
                        service_name=_text(entry, "service_name") or "",
                        client_secret_hash=secret_hash(secret),
                        redirect_uri=_text(entry, "redirect_uri"),
                        app_scheme=_text(entry, "app_scheme"),
                        updated_at=now,
                    ),
                )
        if orgs.get("search_timestamp"):
            await repository.save_sync_timestamp(session, "orgs", str(orgs["search_timestamp"]), now)
        if services.get("search_timestamp"):
            await repository.save_sync_timestamp(session, "services", str(services["search_timestamp"]), now)


async def register_service(
    db: Database,
    *,
    client_id: str,
    client_secret: str,
    org_code: str,
    service_name: str = "",
    redirect_uri: str | None = None,
) -> None:
    """Record an operator service directly (tests, or a deployment without a portal)."""
    async with db.transaction() as session:
        await repository.save_service(
            session,
            RegistryService(
                client_id=client_id,
                org_code=org_code,
                service_name=service_name or client_id,
                client_secret_hash=secret_hash(client_secret),
                redirect_uri=redirect_uri,
                app_scheme=None,
                updated_at=utcnow(),
            ),
        )
