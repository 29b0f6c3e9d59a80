"""The portal application: `create_app(settings)`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database
from openmydata.kit.http import make_client
from openmydata.portal.endpoints import admin, support
from openmydata.portal.models import audit_head, audit_log
from openmydata.portal.repository import PortalRepository
from openmydata.portal.security import SecretBox, TokenSigner, load_or_create_key
from openmydata.portal.service import Clock, PortalService
from openmydata.portal.settings import PortalSettings
from openmydata.portal.statistics import router as statistics_router
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.peers import PeerCheckMiddleware, PeerRegistry
from openmydata.standard.service import install_standard_errors, install_tran_id

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: PortalSettings, *, clock: Clock = utcnow, http_client: httpx.AsyncClient | None = None
) -> FastAPI:
    """The portal (종합포털). `clock` gives the time of registry changes and tokens (tests pin it); `http_client`
    (optional) carries the outbound calls to operators (지원-101/103)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        await database.upgrade(MIGRATIONS)
        app.state.db = database
        app.state.signer = TokenSigner(load_or_create_key(settings.token_secret, settings.data_dir / "token.key"))
        app.state.box = SecretBox(load_or_create_key(settings.credentials_key, settings.data_dir / "credentials.key"))
        tls = settings.tls_identity()
        http = http_client or make_client(timeout_s=settings.http_timeout_s, tls=tls)
        app.state.http = http
        app.state.tls = tls

        async def registered_orgs(_since: str | None) -> dict[str, Any]:
            async with database.transaction() as session:
                service = PortalService(
                    PortalRepository(session),
                    signer=app.state.signer,
                    box=app.state.box,
                    token_lifetime=timedelta(seconds=settings.token_lifetime_s),
                    clock=clock,
                    audit=app.state.audit,
                )
                return await service.registered_orgs()

        # The portal is the registry: it re-reads its own tables when its view is older than a second, and at once
        # for a certificate it does not know (a certificate registered a moment ago is recognised immediately).
        app.state.peers = PeerRegistry(registered_orgs, mode=settings.peer_check, max_age_s=1.0, min_refetch_s=0.0)
        watcher = asyncio.create_task(tls.watch(settings.tls_reload_interval_s)) if tls is not None else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            if http_client is None:
                await http.aclose()
            await database.dispose()

    app = FastAPI(title="openmydata portal (종합포털)", lifespan=lifespan)
    app.state.settings = settings
    app.state.clock = clock
    app.state.audit = AuditChain(audit_log, audit_head)
    app.state.peers = None
    install_standard_errors(app)
    install_tran_id(app, new_tran_id=lambda: new_tran_id(settings.org_code, Party.PORTAL))
    app.include_router(admin)
    app.include_router(statistics_router)
    app.include_router(support)
    app.add_middleware(
        PeerCheckMiddleware,
        registry=lambda: app.state.peers,
        is_peer_path=is_support_path,
        allow_plain_http=settings.insecure_plain_http,
    )
    return app


def is_support_path(path: str) -> bool:
    """The participant APIs the portal serves (지원-001…006): mutual TLS with a registered certificate."""
    return path.startswith(SUPPORT_PREFIXES)


SUPPORT_PREFIXES = ("/mgmts/", "/v1/mgmts/", "/v2/mgmts/")
