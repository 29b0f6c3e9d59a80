"""The certification authority application: `create_app(settings)`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from openmydata.certauth.clients import PortalClient
from openmydata.certauth.endpoints import admin, ca, pages
from openmydata.certauth.repository import CertAuthRepository
from openmydata.certauth.security import TokenSigner, load_or_create_key, load_or_create_root
from openmydata.certauth.service import CertAuthService, Clock, Runtime
from openmydata.certauth.settings import CertAuthSettings
from openmydata.kit import logging as log
from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database
from openmydata.kit.http import make_client
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.peers import PeerCheckMiddleware, PeerRegistry
from openmydata.standard.service import install_standard_errors, install_tran_id

MIGRATIONS = Path(__file__).parent / "migrations"

_logger = log.get_logger("openmydata.certauth")


def create_app(
    settings: CertAuthSettings, *, http_client: httpx.AsyncClient | None = None, clock: Clock = utcnow
) -> FastAPI:
    """The CA (통합인증기관). `http_client` reaches the portal (tests hand in one bound to an in-process portal;
    by default one is made with `kit.http.make_client`); `clock` gives request and token times."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.database_url)
        await database.upgrade(MIGRATIONS)
        own_client = http_client is None
        tls = settings.tls_identity()
        http = http_client or make_client(timeout_s=settings.http_timeout_s, tls=tls)
        portal = None
        if settings.portal_url:
            portal = PortalClient(
                http,
                portal_url=settings.portal_url,
                org_code=settings.org_code,
                client_id=settings.support_client_id,
                client_secret=settings.support_client_secret,
                resync_interval_s=settings.registry_resync_interval_s,
            )
        authority = load_or_create_root(settings.data_dir, settings.ca_name, settings.root_key_password)
        signer = TokenSigner(load_or_create_key(settings.token_secret, settings.data_dir / "token.key"))
        runtime = Runtime(authority=authority, signer=signer, settings=settings, clock=clock, portal=portal)
        app.state.db = database
        app.state.runtime = runtime
        async with database.transaction() as session:
            if not await CertAuthService(CertAuthRepository(session), runtime).sync_registry(force=True):
                _logger.warning("starting without a fresh registry; unknown clients trigger a re-read")
        app.state.peers = PeerRegistry(
            portal.orgs if portal is not None else None,
            mode=settings.peer_check,
            max_age_s=settings.peer_registry_max_age_s,
            min_refetch_s=settings.registry_resync_interval_s,
        )
        if portal is not None:
            await app.state.peers.refresh(force=True)
        watcher = asyncio.create_task(tls.watch(settings.tls_reload_interval_s)) if tls is not None else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            if own_client:
                await http.aclose()
            await database.dispose()

    app = FastAPI(title="openmydata certification authority (통합인증기관)", lifespan=lifespan)
    app.state.settings = settings
    app.state.peers = None
    install_standard_errors(app)
    install_tran_id(app, new_tran_id=lambda: new_tran_id(settings.org_code, Party.CERT_AUTHORITY))
    app.include_router(admin)
    app.include_router(ca)
    app.include_router(pages)
    app.add_middleware(
        PeerCheckMiddleware,
        registry=lambda: app.state.peers,
        is_peer_path=is_participant_path,
        allow_plain_http=settings.insecure_plain_http,
    )
    return app


def is_participant_path(path: str) -> bool:
    """The APIs operators and providers call (token, identity, sign request/result/verification): mutual TLS with a
    registered certificate. The person's approval pages and API, the root certificate and admin are not."""
    if path.startswith("/v1/ca/approvals/"):
        return False
    return path.startswith(("/oauth/", "/v1/ca/", "/v2/ca/"))
