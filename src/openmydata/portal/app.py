"""The portal application: `create_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database
from openmydata.kit.http import make_client
from openmydata.portal.endpoints import admin, support
from openmydata.portal.models import audit_head, audit_log
from openmydata.portal.security import SecretBox, TokenSigner, load_or_create_key
from openmydata.portal.service import Clock
from openmydata.portal.settings import PortalSettings
from openmydata.standard.formats import Party, new_tran_id
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
        http = http_client or make_client(timeout_s=settings.http_timeout_s)
        app.state.http = http
        try:
            yield
        finally:
            if http_client is None:
                await http.aclose()
            await database.dispose()

    app = FastAPI(title="openmydata portal (종합포털)", lifespan=lifespan)
    app.state.settings = settings
    app.state.clock = clock
    app.state.audit = AuditChain(audit_log, audit_head)
    install_standard_errors(app)
    install_tran_id(app, new_tran_id=lambda: new_tran_id(settings.org_code, Party.PORTAL))
    app.include_router(admin)
    app.include_router(support)
    return app
