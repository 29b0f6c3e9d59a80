"""The whole ecosystem on loopback: portal, certauth, six providers and the operator, each in its own uvicorn
server and database, on SQLite and on PostgreSQL.

One ecosystem per dialect is shared by the module's tests (a module-scoped fixture on a module-scoped event
loop). Each test signs in its own person, so the order of the tests does not matter.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from openmydata.demo import DEMO_INSTITUTIONS, Ecosystem, ProviderHandle, run_smoke, start_ecosystem
from openmydata.kit.clock import now_kst
from openmydata.kit.http import make_client
from openmydata.kit.tls import certificate_fingerprint
from openmydata.operator.inspection import holdings
from openmydata.operator.service import ProviderChoice, compose_consents
from openmydata.sandbox.population import Person
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.auth import IntegratedAuthRequest
from openmydata.standard.apis.support import SearchRequest, SupportTokenRequest
from openmydata.standard.client import ApiCallError, StandardClient
from openmydata.standard.formats import Party, new_tran_id

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

PEOPLE = 60
SEED = 20261122
PIN_KDF_COST = 2**4  # scrypt N for the seeded PINs: cheap, the flow is what is under test


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def eco(
    participant_databases: Callable[[str], str] | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Ecosystem]:
    ecosystem = await start_ecosystem(
        tmp_path_factory.mktemp("ecosystem"),
        people=PEOPLE,
        seed=SEED,
        database_url=participant_databases,
        pin_kdf_cost=PIN_KDF_COST,
    )
    try:
        yield ecosystem
    finally:
        await ecosystem.stop()


def _candidates(eco: Ecosystem, count: int) -> list[Person]:
    """People who are customers of every provider, from the end of the list (the smoke run takes the first)."""
    people = eco.customers_of_all()
    assert len(people) > count, f"only {len(people)} of {PEOPLE} seeded people are customers of every provider"
    return people[-count:]


def _body(response: httpx.Response, step: str) -> dict[str, Any]:
    assert response.status_code < 400, f"{step}: HTTP {response.status_code} {response.text[:300]}"
    body: dict[str, Any] = response.json()
    return body


async def _asset_list(http: httpx.AsyncClient, eco: Ecosystem, provider: ProviderHandle, token: str) -> str:
    """Call the provider's asset-list API (은행-001 / 카드-001 / 통신-001) with `token`; returns the rsp_code."""
    spec = CATALOGUE.asset_list_api(provider.sector)
    response = await http.request(
        spec.method,
        f"{provider.server.url}{spec.path}",
        params={"org_code": provider.org_code, "limit": "10"},
        headers={
            "Authorization": f"Bearer {token}",
            "x-api-tran-id": new_tran_id(eco.operator_org_code, Party.OPERATOR),
            "x-api-type": "user-search",
        },
    )
    return str(response.json().get("rsp_code"))


class TestSmokeRun:
    async def test_every_promise_of_the_smoke_run_holds(self, eco: Ecosystem) -> None:
        summary = await run_smoke(eco)

        assert summary["providers"] == len(DEMO_INSTITUTIONS) == 6
        assert summary["integrated_auth_ok"] == 6
        assert summary["records_expected"] > 0
        assert summary["records_collected"] == summary["records_expected"]
        assert summary["records_missing"] == 0
        assert summary["records_unexpected"] == 0
        assert summary["revoke_rsp_codes"] == ["00000"]
        assert summary["revoked_token_rsp_code"] == "40101"
        assert summary["operator_records_after_withdrawal"] == 0
        assert summary["ok"] is True


class TestRefusalsOverTheWire:
    async def test_withdrawn_consent_makes_the_provider_refuse_the_token(self, eco: Ecosystem) -> None:
        (person,) = _candidates(eco, 1)
        api = eco.operator.url
        async with make_client(timeout_s=120) as http:

            async def approve(cert_tx_id: str) -> None:
                approval = await http.post(
                    f"{eco.certauth.url}/v1/ca/approvals/{cert_tx_id}", json={"pin": person.pin, "decision": "approve"}
                )
                assert _body(approval, "approval")["sign_status"] == "02"

            signup = _body(
                await http.post(
                    f"{api}/api/signup",
                    json={"name": person.name, "birth_date": person.birth_date, "phone": person.phone},
                ),
                "sign-up",
            )
            await approve(signup["cert_tx_id"])
            session = _body(
                await http.post(f"{api}/api/signup/complete", json={"cert_tx_id": signup["cert_tx_id"]}), "sign-in"
            )
            auth = {"Authorization": f"Bearer {session['session_token']}"}
            consent = _body(
                await http.post(
                    f"{api}/api/consents", json={"org_codes": [p.org_code for p in eco.providers]}, headers=auth
                ),
                "consent",
            )
            await approve(consent["cert_tx_id"])
            completed = _body(
                await http.post(
                    f"{api}/api/consents/complete", json={"cert_tx_id": consent["cert_tx_id"]}, headers=auth
                ),
                "consent complete",
            )
            assert [p["ok"] for p in completed["providers"]] == [True] * len(eco.providers)

            tokens = (await holdings(eco.operator_settings, person.ci)).access_tokens
            assert set(tokens) == {p.org_code for p in eco.providers}
            async with eco.client_as("operator") as as_operator:
                for provider in eco.providers:
                    code = await _asset_list(as_operator, eco, provider, tokens[provider.org_code])
                    assert code == "00000", provider.sector

                withdrawal = _body(await http.post(f"{api}/api/withdraw", headers=auth), "withdrawal")
                assert {r["org_code"] for r in withdrawal["revoked"]} == set(tokens)
                assert withdrawal["records_remaining"] == 0

                for provider in eco.providers:
                    code = await _asset_list(as_operator, eco, provider, tokens[provider.org_code])
                    assert code == "40101", provider.sector
            # The operator forgot the person too: the old session no longer opens anything.
            after = await http.get(f"{api}/api/me/records", headers=auth)
            assert after.status_code == 401
            assert after.json()["rsp_code"] == "40101"

    async def test_integrated_auth_replay_of_the_same_signed_consent_is_refused(self, eco: Ecosystem) -> None:
        """Sign a consent exactly as the operator would (certauth's sign API, the person approving with the PIN),
        present it with 통합인증-002 once, then present the very same form again."""
        (person, _) = _candidates(eco, 2)
        settings = eco.operator_settings
        bank = next(p for p in eco.providers if p.sector == "bank")
        assert eco.certauth_peer is not None
        ca = eco.certauth_peer.url
        async with eco.client_as("operator", timeout_s=60) as http:
            tran = {"x-api-tran-id": new_tran_id(settings.org_code, Party.OPERATOR)}
            ca_token = _body(
                await http.post(
                    f"{ca}/oauth/2.0/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": settings.ca_client_id,
                        "client_secret": settings.ca_client_secret,
                        "scope": "ca",
                    },
                    headers=tran,
                ),
                "CA token",
            )["access_token"]
            ca_headers = {**tran, "Authorization": f"Bearer {ca_token}"}

            (prepared,) = compose_consents(
                [ProviderChoice(bank.org_code, bank.name, ("bank",), bank.server.url)], settings=settings, now=now_kst()
            )
            text = prepared.signed_text
            sign_tx_id = f"{settings.org_code}_{settings.ca_code}_{now_kst():%Y%m%d%H%M%S}_{secrets.token_hex(6)}"
            requested = _body(
                await http.post(
                    f"{ca}/v1/ca/sign_request",
                    json={
                        "sign_tx_id": sign_tx_id,
                        "user_ci": person.ci,
                        "real_name": person.name,
                        "phone_num": person.phone,
                        "request_title": "전송요구 (통합 테스트)",
                        "device_code": "PC",
                        "device_browser": "WB",
                        "consent_type": "0",
                        "consent_cnt": 1,
                        "consent_list": [
                            {
                                "consent_len": len(text.encode("utf-8")),
                                "consent_title": f"{bank.name} 전송요구",
                                "consent": text,
                                "tx_id": prepared.tx_id,
                            }
                        ],
                    },
                    headers=ca_headers,
                ),
                "sign request",
            )
            cert_tx_id = requested["cert_tx_id"]
            decided = await http.post(
                f"{ca}/v1/ca/approvals/{cert_tx_id}", json={"pin": person.pin, "decision": "approve"}
            )
            assert _body(decided, "approval")["sign_status"] == "02"
            result = _body(
                await http.post(
                    f"{ca}/v1/ca/sign_result",
                    json={"cert_tx_id": cert_tx_id, "sign_tx_id": sign_tx_id},
                    headers=ca_headers,
                ),
                "sign result",
            )
            assert result["sign_status"] == "02"
            (signed,) = result["signed_consent_list"]
            assert signed["tx_id"] == prepared.tx_id

            form = IntegratedAuthRequest(
                tx_id=prepared.tx_id,
                org_code=bank.org_code,
                grant_type="password",
                client_id=settings.service_client_id,
                client_secret=settings.service_client_secret,
                ca_code=settings.ca_code,
                username=person.ci,
                request_type="1",
                password_len=len(signed["signed_consent"]),
                password=signed["signed_consent"],
                auth_type="1",
                consent_type="0",
                consent_nonce=prepared.nonce,
                cert_tx_id=cert_tx_id,
            )
            provider_api = StandardClient(
                http, bank.server.url, org_code=settings.org_code, party=Party.OPERATOR, peer="provider"
            )
            granted = await provider_api.call("통합인증-002", form)
            assert granted.model.tx_id == prepared.tx_id
            access_token = granted.model.access_token
            assert await _asset_list(http, eco, bank, access_token) == "00000"

            with pytest.raises(ApiCallError) as replay:
                await provider_api.call("통합인증-002", form)
            assert replay.value.status_code == 400
            assert replay.value.code == "invalid_grant"
            # The refusal took nothing away from the first grant.
            assert await _asset_list(http, eco, bank, access_token) == "00000"

            revoked = await provider_api.call(
                "개별인증-004",
                {
                    "org_code": bank.org_code,
                    "token": access_token,
                    "token_type_hint": "access_token",
                    "client_id": settings.service_client_id,
                    "client_secret": settings.service_client_secret,
                },
            )
            assert revoked.rsp_code == "00000"
            assert await _asset_list(http, eco, bank, access_token) == "40101"

    async def test_portal_registry_lists_every_provider(self, eco: Ecosystem) -> None:
        settings = eco.operator_settings
        assert eco.portal_peer is not None
        async with eco.client_as("operator") as http:
            portal = StandardClient(
                http, eco.portal_peer.url, org_code=settings.org_code, party=Party.OPERATOR, peer="portal"
            )
            token = await portal.call(
                "지원-001",
                SupportTokenRequest(
                    grant_type="client_credentials",
                    client_id=settings.support_client_id,
                    client_secret=settings.support_client_secret,
                    scope="manage",
                ),
            )
            listed = await portal.call("지원-002", SearchRequest(), token=token.model.access_token)

        assert listed.rsp_code == "00000"
        orgs = listed.model.org_list
        assert listed.model.org_cnt == len(orgs)
        for provider in eco.providers:
            entries = [entry for entry in orgs if entry.org_code == provider.org_code]
            assert len(entries) == 1, provider.sector
            (entry,) = entries
            assert entry.op_type == "I"
            assert entry.org_type == "01"
            assert entry.org_name == provider.name
            assert entry.industry == provider.sector
            assert entry.domain == provider.server.url
            # The registered certificate: SERIALNUMBER = registration number, and the current certificate's
            # fingerprint among the registered ones.
            assert eco.certificates is not None
            certificate = eco.certificates.certificate(provider.holder)
            assert certificate is not None
            assert entry.serial_num == eco.holder(provider.holder).regno
            # Newest first; earlier certificates stay listed (at most three) after a rotation (the smoke test rotates).
            fingerprints = [item.cert_fingerprint for item in entry.cert_fingerprint_list or []]
            assert fingerprints[0] == certificate_fingerprint(certificate)
            assert len(fingerprints) <= 3
        assert {e.org_code for e in orgs if e.org_type == "01"} == {p.org_code for p in eco.providers}
