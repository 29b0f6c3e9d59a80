from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from openmydata.portal.app import create_app
from openmydata.portal.settings import PortalSettings

ADMIN_KEY = "portal-admin-key-for-tests"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 22, 3, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Portal:
    app: FastAPI
    http: httpx.AsyncClient
    clock: FakeClock
    settings: PortalSettings

    async def admin(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(path, json=body, headers={"x-admin-key": ADMIN_KEY})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def register(self, org_type: str, industries: list[str], name: str = "테스트기관") -> dict[str, Any]:
        return await self.admin(
            "/admin/orgs",
            {
                "org_name": name,
                "org_type": org_type,
                "industries": industries,
                "domain": "https://org.test",
                "org_regno": "1234567890",
                "auth_type": "03",
            },
        )

    async def token(self, client_id: str, client_secret: str, scope: str = "manage") -> httpx.Response:
        return await self.http.post(
            "/mgmts/oauth/2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "scope": scope,
            },
        )

    async def bearer(self, credentials: dict[str, Any]) -> dict[str, str]:
        response = await self.token(credentials["support_client_id"], credentials["support_client_secret"])
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def portal_settings(db_url: str, data_dir: Path, **overrides: Any) -> PortalSettings:
    # In-process (ASGI) calls without TLS; the portal's mutual-TLS check has its own tests.
    values: dict[str, Any] = {
        "database_url": db_url,
        "data_dir": data_dir,
        "admin_key": ADMIN_KEY,
        "insecure_plain_http": True,
    }
    values.update(overrides)
    return PortalSettings(**values)


@pytest.fixture
async def portal(db_url: str, tmp_path: Path) -> AsyncIterator[Portal]:
    clock = FakeClock()
    settings = portal_settings(db_url, tmp_path / "portal")
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
            yield Portal(app=app, http=http, clock=clock, settings=settings)
