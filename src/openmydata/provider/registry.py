"""The portal registry kept locally: organisations (지원-002) and operators' services (지원-003).

Synchronised at start-up, every `registry_sync_interval_s` (so that the scheduled-transmission windows the portal
publishes for this provider are enforced soon after operators can read them), and again (at most every
`registry_resync_interval_s`) when an unknown client_id reaches the token endpoint. Each sync is its own job
boundary: HTTP first, then one short transaction.
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
from openmydata.provider.settings import ProviderSettings
from openmydata.standard.schedule import Windows

_logger = log.get_logger("openmydata.provider.registry")

DELETED = "D"


def _text(entry: Mapping[str, Any], name: str) -> str | None:
    value = entry.get(name)
    return None if value is None or value == "" else str(value)


def _windows(entry: Mapping[str, Any], org_code: str) -> list[str] | None:
    """The entry's scheduled-transmission windows (np_time_list[{np_time}]) as hhmm:hhmm texts; None when it lists
    none, or when they cannot be read (logged: the provider then enforces its own setting, not a guess)."""
    items = entry.get("np_time_list")
    if not items:
        return None
    try:
        if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
            raise ValueError("np_time_list is not a list of objects")
        return Windows.parse(str(item.get("np_time") or "") for item in items).to_wire() or None
    except ValueError as exc:
        _logger.warning("unreadable np_time_list in the registry", org_code=org_code, reason=str(exc))
        return None


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
                    np_time_list=_windows(entry, org_code),
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


async def run_periodic_sync(registry: RegistrySynchroniser, interval_s: float) -> None:
    """Every `interval_s` seconds (first one interval after start), `sync`. A failure is logged and the loop
    carries on; only cancellation ends it."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await registry.sync()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the background loop must outlive any one failure
            _logger.error("registry sync failed", error=type(exc).__name__)


def start_periodic_sync(registry: RegistrySynchroniser, settings: ProviderSettings) -> asyncio.Task[None] | None:
    """The periodic registry sync, unless there is no portal or `registry_sync_interval_s` is 0."""
    if not registry.enabled or settings.registry_sync_interval_s <= 0:
        return None
    return asyncio.create_task(run_periodic_sync(registry, settings.registry_sync_interval_s), name="provider-registry")


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
