"""The provider app: `create_app(settings)`; the lifespan migrates the database, builds the clients and syncs the
portal registry. Nothing is created at import time."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from openmydata.kit import logging as log
from openmydata.kit.db import Database
from openmydata.kit.http import make_client
from openmydata.provider.authorize import build_authorize_router, is_person_path
from openmydata.provider.clients import PortalClient, build_verifier
from openmydata.provider.endpoints import ProviderContext, build_router
from openmydata.provider.faults import FaultInjectionMiddleware, FaultInjector, faults_enabled
from openmydata.provider.registry import RegistrySynchroniser, start_periodic_sync
from openmydata.provider.service import InfoService, IntegratedAuthGrant, TokenIssuer
from openmydata.provider.settings import ProviderSettings
from openmydata.provider.statistics import start_weekly_statistics
from openmydata.provider.support import router as support_router
from openmydata.provider.support import support_for
from openmydata.provider.tokens import TokenCodec
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import INFO_SECTORS, Catalogue, Sector
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.peers import PeerCheckMiddleware, PeerRegistry, RegisteredOrg
from openmydata.standard.profiles import FINANCIAL_RESPONSE_CODES, ResponseCodes, response_codes
from openmydata.standard.service import install_standard_errors, install_tran_id

MIGRATIONS = Path(__file__).parent / "migrations"

_logger = log.get_logger("openmydata.provider")


def _check_industries(settings: ProviderSettings, catalogue: Catalogue) -> None:
    if not settings.industries:
        raise ValueError("a provider serves at least one industry")
    for industry in settings.industries:
        try:
            sector = Sector(industry)
        except ValueError as exc:
            raise ValueError(f"unknown industry {industry!r}") from exc
        if sector not in INFO_SECTORS or not catalogue.info_apis([sector]):
            raise ValueError(f"the catalogue has no information APIs for {industry!r}")


def create_app(
    settings: ProviderSettings | None = None,
    *,
    catalogue: Catalogue = CATALOGUE,
    http_client: httpx.AsyncClient | None = None,
) -> FastAPI:
    """The provider (정보제공자). `http_client` reaches the portal and certauth (tests and the demo may hand in
    one bound to in-process peers; it is not closed here); by default one is made at start-up. The provider sees
    the catalogue as its `standard_profile` (`Catalogue.for_profile`) and answers in that profile's codes."""
    settings = settings or ProviderSettings()
    catalogue = catalogue.for_profile(settings.standard_profile)
    codes = response_codes(settings.standard_profile)
    _check_industries(settings, catalogue)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        tls = app.state.tls = settings.tls_identity()
        http = http_client or make_client(timeout_s=settings.http_timeout_s, tls=tls)
        watcher = asyncio.create_task(tls.watch(settings.tls_reload_interval_s)) if tls is not None else None
        reporter: asyncio.Task[None] | None = None
        syncer: asyncio.Task[None] | None = None
        try:
            await db.upgrade(MIGRATIONS)
            codec = TokenCodec(settings.token_secret, settings.org_code)
            issuer = TokenIssuer(settings, codec)
            portal = PortalClient(http, settings, catalogue) if settings.portal_url else None
            registry = RegistrySynchroniser(db, portal, min_interval_s=settings.registry_resync_interval_s)
            app.state.provider = ProviderContext(
                settings=settings,
                db=db,
                catalogue=catalogue,
                codec=codec,
                issuer=issuer,
                grant=IntegratedAuthGrant(settings, build_verifier(settings, http, catalogue), issuer, catalogue),
                info=InfoService(settings, codec, catalogue),
                registry=registry,
            )
            await registry.sync()
            app.state.peers = PeerRegistry(
                portal.orgs if portal is not None else None,
                mode=settings.peer_check,
                max_age_s=settings.peer_registry_max_age_s,
                min_refetch_s=settings.registry_resync_interval_s,
                fixed=_portal_entry(settings),
            )
            await app.state.peers.refresh(force=True)
            reporter = start_weekly_statistics(support_for(app).statistics, settings)
            syncer = start_periodic_sync(registry, settings)
            _logger.info("provider started", org_code=settings.org_code, industries=settings.industries)
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            for task in (reporter, syncer):
                if task is not None:
                    task.cancel()
                    with suppress(asyncio.CancelledError):
                        await task
            if http_client is None:
                await http.aclose()
            await db.dispose()

    app = FastAPI(title=f"openmydata provider {settings.org_code}", lifespan=lifespan)
    app.state.peers = None
    app.state.tls = None
    # The support APIs (지원-101…104) are the portal's, which speaks the financial standard: financial codes there.
    support_paths = frozenset(spec.path for spec in catalogue if spec.sector is Sector.SUPPORT)
    install_standard_errors(app, codes=codes, applies=lambda path: path not in support_paths)
    # Inside the x-api-tran-id middleware, so that its 40003 answers echo the id like every other answer.
    app.add_middleware(VersionCheckMiddleware, served={"v1"}, industries=frozenset(settings.industries), codes=codes)
    install_tran_id(app, new_tran_id=lambda: new_tran_id(settings.org_code, Party.PROVIDER))
    app.include_router(build_router(settings, catalogue))
    app.include_router(build_authorize_router())
    app.include_router(support_router)
    app.state.faults = None
    if faults_enabled(settings):
        # Outside the x-api-tran-id middleware (its answers echo the id themselves), inside the peer check.
        app.state.faults = FaultInjector(settings, catalogue, codes)
        app.add_middleware(
            FaultInjectionMiddleware,
            injector=app.state.faults,
            new_tran_id=lambda: new_tran_id(settings.org_code, Party.PROVIDER),
        )
    app.add_middleware(
        PeerCheckMiddleware,
        registry=lambda: app.state.peers,
        is_peer_path=is_participant_path,
        allow_plain_http=settings.insecure_plain_http,
        relays=frozenset(settings.relay_org_codes),
        trusted_cas=lambda: app.state.tls.ca_certificates if app.state.tls is not None else (),
    )
    return app


def _portal_entry(settings: ProviderSettings) -> list[RegisteredOrg]:
    """The portal calls 지원-101/102/104 here; it is not in its own registry, so its certificate is known from the
    settings (as at the operator)."""
    if not settings.portal_serial_num:
        return []
    return [RegisteredOrg(org_code=settings.portal_org_code, org_type="07", serial_num=settings.portal_serial_num)]


class VersionCheckMiddleware:
    """A call to an information API path of a served industry under a version this provider does not serve gets
    400 40003 (digest §2.7) instead of 40401; everything else passes untouched."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        served: set[str],
        industries: frozenset[str],
        codes: ResponseCodes = FINANCIAL_RESPONSE_CODES,
    ):
        self.app = app
        self.served = served
        self.industries = industries
        self.codes = codes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            parts = scope["path"].split("/", 3)
            if (
                len(parts) >= 3
                and VERSION_RE.fullmatch(parts[1])
                and parts[1] not in self.served
                and parts[2] in self.industries
            ):
                error = self.codes.error(
                    StandardError(RspCode.VERSION_NOT_ALLOWED, f"version {parts[1]} is not served")
                )
                response = JSONResponse(error.body(), status_code=error.status_code)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


VERSION_RE = re.compile(r"v\d{1,3}")


def is_participant_path(path: str) -> bool:
    """Everything a provider serves is for operators (mutual TLS with a registered certificate), except its
    OpenAPI description and the pages the person's browser visits for 개별인증-001 (`provider.authorize`)."""
    return path not in OPEN_PATHS and not is_person_path(path)


OPEN_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
