from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from openmydata.certauth.app import create_app
from openmydata.certauth.settings import CertAuthSettings
from openmydata.kit.clock import to_dtime
from openmydata.portal.app import create_app as create_portal
from openmydata.portal.settings import PortalSettings
from openmydata.standard.consent import TargetInfo, TransmissionRequest, encode_signed_content

PORTAL_ADMIN = "portal-admin"
CA_ADMIN = "ca-admin"
PORTAL_URL = "http://portal.test"

PERSONS = [
    {"ci": "K" * 86 + "==", "name": "김민지", "birth_date": "19900101", "phone": "010-1234-5678", "pin": "123456"},
    {"ci": "L" * 86 + "==", "name": "이서준", "birth_date": "19851231", "phone": "+82 10 9876 5432", "pin": "654321"},
]


class FakeClock:
    """Starts at the real time (to the second), so that certificates the CA made with the real clock (its root)
    are valid at the fake time; tests then move it by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    """A real portal and the CA under test, talking over HTTP (ASGI transports)."""

    portal: httpx.AsyncClient
    ca: httpx.AsyncClient
    app: FastAPI
    clock: FakeClock
    ca_org: dict[str, Any]
    operator: dict[str, Any]
    provider: dict[str, Any]

    async def register(self, org_type: str, industries: list[str], name: str) -> dict[str, Any]:
        body = {
            "org_name": name,
            "org_type": org_type,
            "industries": industries,
            "domain": "https://org.test",
            "org_regno": "1234567890",
        }
        response = await self.portal.post("/admin/orgs", json=body, headers={"x-admin-key": PORTAL_ADMIN})
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def enrol(self, persons: list[dict[str, str]] = PERSONS) -> httpx.Response:
        return await self.ca.post("/admin/persons", json={"persons": persons}, headers={"x-admin-key": CA_ADMIN})

    async def token_response(self, org: dict[str, Any], scope: str = "ca") -> httpx.Response:
        return await self.ca.post(
            "/oauth/2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": org["ca_client_id"],
                "client_secret": org["ca_client_secret"],
                "scope": scope,
            },
        )

    async def bearer(self, org: dict[str, Any]) -> dict[str, str]:
        response = await self.token_response(org)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def post(self, path: str, body: dict[str, Any], org: dict[str, Any] | None = None) -> httpx.Response:
        headers = await self.bearer(org or self.operator)
        return await self.ca.post(path, json=body, headers=headers)

    def consent_text(self, purpose: str = "자산관리 서비스 제공") -> str:
        consent = TransmissionRequest(
            snd_org_code=self.provider["org_code"],
            rcv_org_code=self.operator["org_code"],
            end_date=to_dtime(self.clock.now + timedelta(days=300)),
            purpose=purpose,
            holding_period=to_dtime(self.clock.now + timedelta(days=365)),
            target_info=[TargetInfo(scope="bank.list"), TargetInfo(scope="bank.deposit")],
            is_consent_trans_memo=True,
        )
        return encode_signed_content(consent, "bm9uY2Vub25jZW5vbmNl").decode("utf-8")

    def sign_body(self, consents: list[str], person: dict[str, str] = PERSONS[0], **changes: Any) -> dict[str, Any]:
        body = {
            "sign_tx_id": f"{self.operator['org_code']}_SIGN0001",
            "user_ci": person["ci"],
            "real_name": person["name"],
            "phone_num": person["phone"],
            "request_title": "마이데이터 전송요구 전자서명",
            "device_code": "PC",
            "device_browser": "WB",
            "consent_type": "0",
            "consent_cnt": str(len(consents)),
            "consent_list": [
                {
                    "consent_len": str(len(text.encode("utf-8"))),
                    "consent_title": f"오픈은행 전송요구 {index + 1}",
                    "consent": text,
                    "tx_id": f"MD_{self.operator['org_code']}_{self.provider['org_code']}_{self.provider['org_code']}_"
                    f"{self.ca_org['org_code']}_20261122120000_TX{index:010d}",
                }
                for index, text in enumerate(consents)
            ],
        }
        body.update(changes)
        return body


def ca_settings(db_url: str, data_dir: Path, ca_org: dict[str, Any], **overrides: Any) -> CertAuthSettings:
    values: dict[str, Any] = {
        "org_code": ca_org["org_code"],
        "database_url": db_url,
        "data_dir": data_dir,
        "public_url": "http://ca.test",
        "admin_key": CA_ADMIN,
        "portal_url": PORTAL_URL,
        "support_client_id": ca_org["support_client_id"],
        "support_client_secret": ca_org["support_client_secret"],
        "registry_resync_interval_s": 0,
        "pin_kdf_cost": 2**4,
        "insecure_plain_http": True,  # in-process (ASGI) calls, no TLS: mutual TLS is tested in test_certauth_mtls
    }
    values.update(overrides)
    return CertAuthSettings(**values)


@pytest.fixture
async def world(db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    # The portal is a peer here, not under test: SQLite is enough for it.
    portal_app = create_portal(
        PortalSettings(
            insecure_plain_http=True,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}",
            data_dir=tmp_path / "portal",
            admin_key=PORTAL_ADMIN,
        )
    )
    clock = FakeClock()
    async with portal_app.router.lifespan_context(portal_app):
        portal_transport = httpx.ASGITransport(app=portal_app)
        async with httpx.AsyncClient(transport=portal_transport, base_url=PORTAL_URL) as portal:
            bootstrap = World(portal, portal, portal_app, clock, {}, {}, {})
            ca_org = await bootstrap.register("06", [], "오픈인증")
            operator = await bootstrap.register("03", [], "오픈마이데이터")
            provider = await bootstrap.register("01", ["bank"], "오픈은행")
            app = create_app(ca_settings(db_url, tmp_path / "certauth", ca_org), http_client=portal, clock=clock)
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://ca.test") as ca:
                    yield World(portal, ca, app, clock, ca_org, operator, provider)
