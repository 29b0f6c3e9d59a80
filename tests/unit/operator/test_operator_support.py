"""지원-101 (the portal's token at the operator) and 지원-103 (a person's currently valid consents), both served by
the operator and called by the portal (§10.4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from operator_fakes import BANK, BANK2, CI, OPERATOR, FakeEcosystem, settings_for
from sqlalchemy import update
from test_operator_app import Harness, connect, sign_up

from openmydata.operator.app import create_app
from openmydata.operator.models import Consent

PORTAL_ID = "portalcaller"
PORTAL_SECRET = "portalcallersecret"
OTHER_CI = "T1RIRVJfQ0lfMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA="


@pytest.fixture
async def harness(db_url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    fake = FakeEcosystem()
    settings = settings_for(db_url, tmp_path / "operator-keys.json").model_copy(
        update={"portal_client_id": PORTAL_ID, "portal_client_secret": PORTAL_SECRET, "housekeeping_interval_s": 0}
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake.handle)) as peers:
        app = create_app(settings, http_client=peers)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            yield Harness(app, client, fake)


async def _token(h: Harness, client_id: str = PORTAL_ID, secret: str = PORTAL_SECRET) -> httpx.Response:
    return await h.client.post(
        "/mgmts/oauth/2.0/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "manage"},
    )


async def _consents(h: Harness, ci: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await h.client.post("/v1/mgmts/consents", json={"org_code": OPERATOR, "user_ci": ci}, headers=headers)


async def _access(h: Harness) -> str:
    response = await _token(h)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


class TestSupportToken:
    async def test_the_portal_pair_gets_a_manage_token(self, harness: Harness) -> None:
        response = await _token(harness)
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["scope"] == "manage"
        assert 0 < int(body["expires_in"]) <= 365 * 86400
        assert response.headers["cache-control"] == "no-store"

    async def test_wrong_credentials_are_an_invalid_client(self, harness: Harness) -> None:
        wrong_secret = await _token(harness, secret="wrong")
        wrong_id = await _token(harness, client_id="someoneelse")
        for response in (wrong_secret, wrong_id):
            assert response.status_code == 401
            assert response.json()["error"] == "invalid_client"

    async def test_another_scope_is_refused(self, harness: Harness) -> None:
        response = await harness.client.post(
            "/mgmts/oauth/2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": PORTAL_ID,
                "client_secret": PORTAL_SECRET,
                "scope": "bank.list",
            },
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_scope"


class TestMemberConsents:
    async def test_a_member_s_valid_consents_are_listed(self, harness: Harness) -> None:
        token = await sign_up(harness)
        await connect(harness, token, [BANK, BANK2])
        response = await _consents(harness, CI, await _access(harness))
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["rsp_code"] == "00000"
        assert body["is_member"] == "true" or body["is_member"] is True
        assert int(body["service_cnt"]) == 1
        service = body["service_list"][0]
        assert service["client_id"] == "service"
        assert int(service["consent_cnt"]) == 2
        assert {c["org_code"] for c in service["consent_list"]} == {BANK, BANK2}
        for consent in service["consent_list"]:
            assert consent["scope"]
            assert len(consent["consent_date"]) == 14
            assert consent["consent_end_date"] > consent["consent_date"]

    async def test_ended_and_withdrawn_consents_are_left_out(self, harness: Harness) -> None:
        token = await sign_up(harness)
        await connect(harness, token, [BANK, BANK2])
        async with harness.db.transaction() as session:
            await session.execute(
                update(Consent).where(Consent.org_code == BANK).values(end_date=datetime.now(UTC) - timedelta(1))
            )
        body = (await _consents(harness, CI, await _access(harness))).json()
        assert [c["org_code"] for c in body["service_list"][0]["consent_list"]] == [BANK2]
        async with harness.db.transaction() as session:
            await session.execute(update(Consent).where(Consent.org_code == BANK2).values(status="withdrawn"))
        body = (await _consents(harness, CI, await _access(harness))).json()
        assert int(body["service_cnt"]) == 0
        assert body["service_list"] == []

    async def test_an_unknown_person_is_not_a_member(self, harness: Harness) -> None:
        response = await _consents(harness, OTHER_CI, await _access(harness))
        assert response.status_code == 200
        body = response.json()
        assert body["is_member"] in (False, "false")
        assert int(body["service_cnt"]) == 0

    async def test_no_token_or_a_forged_one_is_40101(self, harness: Harness) -> None:
        missing = await _consents(harness, CI, None)
        forged = await _consents(harness, CI, "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl")
        for response in (missing, forged):
            assert response.status_code == 401
            assert response.json()["rsp_code"] == "40101"

    async def test_another_org_code_is_a_bad_parameter(self, harness: Harness) -> None:
        response = await harness.client.post(
            "/v1/mgmts/consents",
            json={"org_code": "M1OTHER000", "user_ci": CI},
            headers={"Authorization": f"Bearer {await _access(harness)}"},
        )
        assert response.status_code == 400
        assert response.json()["rsp_code"] == "40001"
