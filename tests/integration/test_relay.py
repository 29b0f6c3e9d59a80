"""Relay mode over the wire: one relay (중계기관) fronts two institutions (a card company and a telecom operator,
registered with org_type 02 behind it), a bank is called directly, on SQLite and on PostgreSQL.

The smoke run drives the whole flow through the relay (통합인증-002, collection, certificate rotation of every
participant including the relay, withdrawal), and the relay's own answers are checked: 40303 for an org_code it
does not front, 50005 when a fronted institution is down. The operator's certificate reaches the institution in
RFC 9440 Client-Cert, so its tokens stay bound to the operator, and nobody but the relay may send that header.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography import x509

from openmydata.demo import (
    CORE_INSTITUTIONS,
    DEMO_TLS_RELOAD_S,
    Ecosystem,
    ProviderHandle,
    connect_person,
    run_smoke,
    start_ecosystem,
)
from openmydata.kit.http import make_client
from openmydata.kit.server import RunningServer
from openmydata.kit.tls import TlsIdentity, start_tls_server
from openmydata.operator.inspection import holdings
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.peers import client_cert_header

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

PEOPLE = 50
SEED = 20261123
BANK, CARD, TELECOM = CORE_INSTITUTIONS
INSTITUTIONS = (
    BANK,
    type(CARD)(CARD.sector, CARD.name, CARD.regno, behind_relay=True),
    type(TELECOM)(TELECOM.sector, TELECOM.name, TELECOM.regno, behind_relay=True),
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def eco(
    participant_databases: Callable[[str], str] | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Ecosystem]:
    ecosystem = await start_ecosystem(
        tmp_path_factory.mktemp("relay"),
        people=PEOPLE,
        seed=SEED,
        database_url=participant_databases,
        pin_kdf_cost=2**4,
        institutions=INSTITUTIONS,
    )
    try:
        yield ecosystem
    finally:
        await ecosystem.stop()


def _by_sector(eco: Ecosystem, sector: str) -> ProviderHandle:
    return next(provider for provider in eco.providers if provider.sector == sector)


async def _asset_list(
    http: httpx.AsyncClient, eco: Ecosystem, base_url: str, provider: ProviderHandle, token: str, **headers: str
) -> httpx.Response:
    spec = CATALOGUE.asset_list_api(provider.sector)
    return await http.request(
        spec.method,
        f"{base_url}{spec.path}",
        params={"org_code": provider.org_code, "limit": "10"},
        headers={
            "Authorization": f"Bearer {token}",
            "x-api-tran-id": new_tran_id(eco.operator_org_code, Party.OPERATOR),
            "x-api-type": "user-search",
            **headers,
        },
    )


async def _connected_tokens(eco: Ecosystem, index: int) -> dict[str, str]:
    person = eco.customers_of_all()[index]
    async with make_client(timeout_s=120) as http:
        _auth, completed = await connect_person(http, eco, person)
    assert [entry["ok"] for entry in completed["providers"]] == [True] * len(eco.providers), completed
    return (await holdings(eco.operator_settings, person.ci)).access_tokens


class TestThroughTheRelay:
    async def test_the_registry_puts_the_fronted_institutions_behind_the_relay(self, eco: Ecosystem) -> None:
        assert eco.relay is not None
        assert eco.relay_org_code is not None
        orgs: dict[str, dict[str, Any]] = {}
        async with make_client() as http:
            for provider in eco.providers:
                response = await http.get(
                    f"{eco.portal.url}/admin/orgs/{provider.org_code}", headers={"x-admin-key": eco.admin_key}
                )
                response.raise_for_status()
                orgs[provider.sector] = response.json()
        for sector in ("card", "telecom"):
            org = orgs[sector]
            assert (org["org_type"], org["relay_org_code"], org["domain"]) == ("02", eco.relay_org_code, eco.relay.url)
        assert (orgs["bank"]["org_type"], orgs["bank"].get("relay_org_code")) == ("01", None)

    async def test_the_smoke_run_holds_through_the_relay(self, eco: Ecosystem) -> None:
        summary = await run_smoke(eco)
        assert summary["integrated_auth_ok"] == 3
        assert summary["records_expected"] > 0
        assert summary["records_collected"] == summary["records_expected"]
        assert summary["records_missing"] == summary["records_unexpected"] == 0
        # every participant's certificate, the relay's included, was rotated and picked up
        assert summary["certificates_rotated"] == len(eco.holders) == 7
        assert summary["token_bound_to_client_cert"] is True
        assert summary["collection_after_rotation_ok"] is True
        assert summary["ok"] is True, summary

    async def test_a_token_stays_bound_to_the_operator_through_the_relay(self, eco: Ecosystem) -> None:
        tokens = await _connected_tokens(eco, 1)
        card = _by_sector(eco, "card")
        assert eco.relay is not None
        async with eco.client_as("operator") as operator:
            relayed = await _asset_list(operator, eco, eco.relay.url, card, tokens[card.org_code])
        assert (relayed.status_code, relayed.json()["rsp_code"]) == (200, "00000")
        # The same token through the relay from another participant's certificate: bound to the operator's.
        async with eco.client_as("certauth") as stranger:
            stolen = await _asset_list(stranger, eco, eco.relay.url, card, tokens[card.org_code])
        assert (stolen.status_code, stolen.json()["rsp_code"]) == (401, "40101")


class TestRelayAnswers:
    async def test_an_org_code_the_relay_does_not_front_is_40303(self, eco: Ecosystem) -> None:
        bank = _by_sector(eco, "bank")
        assert eco.relay is not None
        async with eco.client_as("operator") as operator:
            response = await _asset_list(operator, eco, eco.relay.url, bank, "token")
        assert (response.status_code, response.json()["rsp_code"]) == (403, "40303")
        assert response.headers["x-api-tran-id"].startswith(eco.operator_org_code)

    async def test_only_a_relay_may_forward_a_client_certificate(self, eco: Ecosystem) -> None:
        """An operator that sends Client-Cert directly to an institution (to pose as another certificate) is
        refused before anything else; so is the header at an institution that is not behind any relay."""
        tokens = await _connected_tokens(eco, 2)
        assert eco.certificates is not None
        other = x509.load_pem_x509_certificate(eco.certificates.files("certauth").cert_file.read_bytes())
        async with eco.client_as("operator") as operator:
            for provider in (_by_sector(eco, "card"), _by_sector(eco, "bank")):
                response = await _asset_list(
                    operator,
                    eco,
                    provider.server.url,
                    provider,
                    tokens[provider.org_code],
                    **{"client-cert": client_cert_header(other)},
                )
                assert (response.status_code, response.json()["rsp_code"]) == (401, "40103"), provider.sector
                assert "relay" in response.json()["rsp_msg"]

    async def test_a_fronted_institution_that_is_down_is_50005(self, eco: Ecosystem) -> None:
        tokens = await _connected_tokens(eco, 3)
        telecom = _by_sector(eco, "telecom")
        assert eco.relay is not None
        stopped = telecom.server
        await stopped.stop()  # the institution's own system goes away; the relay stays up
        try:
            async with eco.client_as("operator") as operator:
                down = await _asset_list(operator, eco, eco.relay.url, telecom, tokens[telecom.org_code])
                card = _by_sector(eco, "card")
                still_up = await _asset_list(operator, eco, eco.relay.url, card, tokens[card.org_code])
        finally:
            await _restart(eco, telecom, stopped)  # the other tests of the module share the ecosystem
        body: dict[str, Any] = down.json()
        assert (down.status_code, body["rsp_code"]) == (500, "50005")
        assert telecom.org_code in body["rsp_msg"]
        assert (still_up.status_code, still_up.json()["rsp_code"]) == (200, "00000")
        async with eco.client_as("operator") as operator:
            back = await _asset_list(operator, eco, eco.relay.url, telecom, tokens[telecom.org_code])
        assert (back.status_code, back.json()["rsp_code"]) == (200, "00000")


async def _restart(eco: Ecosystem, provider: ProviderHandle, stopped: RunningServer) -> None:
    """Serve the same provider app on the same port again (its lifespan runs anew)."""
    assert eco.certificates is not None
    server = await start_tls_server(
        f"{provider.holder}:tls",
        stopped.server.config.app,
        identity=TlsIdentity(eco.certificates.files(provider.holder)),
        host=stopped.host,
        port=stopped.port,
        reload_interval_s=DEMO_TLS_RELOAD_S,  # as the demo serves it: a later rotation must be picked up
    )
    provider.server = server
    eco.servers[eco.servers.index(stopped)] = server
