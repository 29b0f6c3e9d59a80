"""Attacks on mutual TLS and certificate-bound tokens, against the whole ecosystem on loopback (real TLS 1.3
handshakes, the demo's test CA and certificates registered at the portal), on SQLite and PostgreSQL.

One ecosystem per dialect is shared by the module; one person connects all three providers once, so the operator
holds live access tokens bound to its certificate.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from openmydata.certificates import CertificateStore, register_certificate
from openmydata.demo import CORE_INSTITUTIONS, Ecosystem, ProviderHandle, connect_person, start_ecosystem
from openmydata.kit import pki
from openmydata.kit.http import make_client
from openmydata.kit.server import RunningServer
from openmydata.kit.tls import TlsFiles, TlsIdentity
from openmydata.operator.inspection import holdings
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.formats import Party, new_tran_id
from tests.integration.conftest import participant_databases  # noqa: F401 (the dialect fixture)
from tests.security.attacks import attack

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

PEOPLE = 40
SEED = 20261123


@dataclass
class World:
    eco: Ecosystem
    tokens: dict[str, str]  # provider org_code → the operator's access token (bound to the operator's certificate)
    tmp: Path

    @property
    def store(self) -> CertificateStore:
        assert self.eco.certificates is not None
        return self.eco.certificates

    def client_with(
        self, name: str, org_code: str, regno: str, *, authority: pki.CertificateAuthority | None = None
    ) -> httpx.AsyncClient:
        """An HTTPS client presenting a fresh certificate (CN org_code, SERIALNUMBER regno) that is NOT registered at
        the portal, issued by `authority` (the ecosystem's test CA by default)."""
        authority = authority or self.store.authority()
        key, certificate = authority.issue_organisation(org_code, regno, hosts=("127.0.0.1",))
        folder = self.tmp / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "cert.pem").write_bytes(pki.cert_to_pem(certificate))
        (folder / "key.pem").write_bytes(pki.key_to_pem(key))
        files = TlsFiles(folder / "cert.pem", folder / "key.pem", self.store.ca_file)
        return make_client(timeout_s=30, tls=TlsIdentity(files))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    participant_databases: Callable[[str], str] | None,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[World]:
    eco = await start_ecosystem(
        tmp_path_factory.mktemp("mtls"),
        people=PEOPLE,
        seed=SEED,
        database_url=participant_databases,
        pin_kdf_cost=2**4,
        institutions=CORE_INSTITUTIONS,
    )
    try:
        person = eco.customers_of_all()[0]
        async with make_client(timeout_s=120) as http:
            _auth, completed = await connect_person(http, eco, person)
        assert [entry["ok"] for entry in completed["providers"]] == [True] * len(eco.providers)
        tokens = (await holdings(eco.operator_settings, person.ci)).access_tokens
        yield World(eco, tokens, tmp_path_factory.mktemp("mtls-clients"))
    finally:
        await eco.stop()


def _peer_listeners(eco: Ecosystem) -> list[RunningServer]:
    servers = [provider.server for provider in eco.providers]
    servers += [server for server in (eco.portal_peer, eco.certauth_peer, eco.operator_peer) if server is not None]
    return servers


async def _asset_list(http: httpx.AsyncClient, world: World, provider: ProviderHandle, token: str) -> tuple[int, str]:
    spec = CATALOGUE.asset_list_api(provider.sector)
    response = await http.request(
        spec.method,
        f"{provider.server.url}{spec.path}",
        params={"org_code": provider.org_code, "limit": "10"},
        headers={
            "Authorization": f"Bearer {token}",
            "x-api-tran-id": new_tran_id(world.eco.operator_org_code, Party.OPERATOR),
            "x-api-type": "user-search",
        },
    )
    return response.status_code, str(response.json().get("rsp_code"))


def _rsp(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, str(response.json().get("rsp_code"))


def _oauth(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, str(response.json().get("error"))


async def _refused_handshake(http: httpx.AsyncClient, url: str) -> bool:
    """True when the TLS connection cannot be used (refused in the handshake or on the first read)."""
    try:
        await http.get(url)
    except httpx.TransportError:
        return True
    return False


def _portal_peer(world: World) -> str:
    assert world.eco.portal_peer is not None
    return world.eco.portal_peer.url


def _certauth_peer(world: World) -> str:
    assert world.eco.certauth_peer is not None
    return world.eco.certauth_peer.url


def _operator_peer(world: World) -> str:
    assert world.eco.operator_peer is not None
    return world.eco.operator_peer.url


def _support_token_form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "manage"}


class TestHandshake:
    @attack("mtls_no_client_certificate")
    async def test_no_client_certificate(self, world: World) -> None:
        anonymous = ssl.create_default_context(cafile=str(world.store.ca_file))
        async with httpx.AsyncClient(verify=anonymous, trust_env=False, timeout=10) as http:
            for server in _peer_listeners(world.eco):
                assert await _refused_handshake(http, f"{server.url}/v1/mgmts/orgs"), server.name

    @attack("mtls_untrusted_ca")
    async def test_certificate_from_untrusted_ca(self, world: World) -> None:
        rogue = pki.CertificateAuthority.create("Rogue CA")
        operator = world.eco.holder("operator")
        async with world.client_with("rogue", operator.org_code, operator.regno, authority=rogue) as http:
            for server in _peer_listeners(world.eco):
                assert await _refused_handshake(http, f"{server.url}/v1/mgmts/orgs"), server.name

    @attack("mtls_tls12_client")
    async def test_tls12_client_refused(self, world: World) -> None:
        files = world.store.files("operator")
        context = ssl.create_default_context(cafile=str(files.ca_file))
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(files.cert_file, files.key_file)
        async with httpx.AsyncClient(verify=context, trust_env=False, timeout=10) as http:
            for server in _peer_listeners(world.eco):
                assert await _refused_handshake(http, f"{server.url}/v1/mgmts/orgs"), server.name


class TestRegistry:
    @attack("mtls_unregistered_serialnumber")
    async def test_unregistered_serialnumber(self, world: World) -> None:
        eco = world.eco
        bank = eco.providers[0]
        async with world.client_with("stranger", "Q1ZZZZ0000", "9999999999") as http:
            portal = await http.post(
                f"{_portal_peer(world)}/mgmts/oauth/2.0/token",
                data=_support_token_form(eco.operator_settings.support_client_id, "x"),
            )
            certauth = await http.post(f"{_certauth_peer(world)}/v1/ca/sign_result", json={})
            operator = await http.post(f"{_operator_peer(world)}/v1/mgmts/consents", json={})
            provider = await _asset_list(http, world, bank, world.tokens[bank.org_code])
        assert _rsp(portal) == (401, "40103")
        assert _rsp(certauth) == (401, "40103")
        assert _rsp(operator) == (401, "40103")
        assert provider == (401, "40103")
        assert "9999999999 is not registered" in portal.json()["rsp_msg"]

    @attack("mtls_participant_api_over_plain_http")
    async def test_participant_apis_refused_on_plain_listeners(self, world: World) -> None:
        eco = world.eco
        settings = eco.operator_settings
        async with make_client(timeout_s=10) as http:
            portal = await http.post(
                f"{eco.portal.url}/mgmts/oauth/2.0/token",
                data=_support_token_form(settings.support_client_id, settings.support_client_secret),
            )
            certauth = await http.post(
                f"{eco.certauth.url}/oauth/2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": settings.ca_client_id,
                    "client_secret": settings.ca_client_secret,
                    "scope": "ca",
                },
            )
            operator = await http.post(f"{eco.operator.url}/v1/mgmts/consents", json={})
        assert _rsp(portal) == (401, "40103")
        assert _rsp(certauth) == (401, "40103")
        assert _rsp(operator) == (401, "40103")

    @attack("mtls_deregistered_organisation")
    async def test_deregistered_organisation(self, world: World) -> None:
        eco = world.eco
        admin = {"x-admin-key": eco.admin_key}
        async with make_client(timeout_s=10) as plain:
            registered = await plain.post(
                f"{eco.portal.url}/admin/orgs",
                json={
                    "org_name": "탈퇴예정",
                    "org_type": "03",
                    "industries": [],
                    "domain": "https://127.0.0.1:9",
                    "org_regno": "1018100077",
                    "auth_type": "01",
                },
                headers=admin,
            )
            registered.raise_for_status()
            org = registered.json()
            key, certificate = world.store.authority().issue_organisation(
                org["org_code"], "1018100077", hosts=("127.0.0.1",)
            )
            await register_certificate(plain, eco.portal.url, eco.admin_key, org["org_code"], certificate)
            folder = world.tmp / "leaving"
            folder.mkdir(exist_ok=True)
            (folder / "cert.pem").write_bytes(pki.cert_to_pem(certificate))
            (folder / "key.pem").write_bytes(pki.key_to_pem(key))
            identity = TlsIdentity(TlsFiles(folder / "cert.pem", folder / "key.pem", world.store.ca_file))
            form = _support_token_form(org["support_client_id"], org["support_client_secret"])
            async with make_client(timeout_s=10, tls=identity) as http:
                before = await http.post(f"{_portal_peer(world)}/mgmts/oauth/2.0/token", data=form)
                assert before.status_code == 200, before.text
                deregistered = await plain.post(
                    f"{eco.portal.url}/admin/orgs/{org['org_code']}/deregister", headers=admin
                )
                deregistered.raise_for_status()
                # The portal re-reads its registry at most every second; wait for it, then it must refuse.
                deadline = time.monotonic() + 10
                after = await http.get(f"{_portal_peer(world)}/v1/mgmts/orgs")
                while _rsp(after) != (401, "40103") and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                    after = await http.get(f"{_portal_peer(world)}/v1/mgmts/orgs")
        assert _rsp(after) == (401, "40103")


class TestBinding:
    @attack("mtls_token_with_other_certificate_same_org")
    async def test_token_with_another_certificate_of_the_operator(self, world: World) -> None:
        operator = world.eco.holder("operator")
        # A second certificate of the operator, registered at the portal: the organisation is recognised, but the
        # tokens are bound to the certificate they were issued over.
        async with world.client_with("operator-second", operator.org_code, operator.regno) as http:
            identity_file = world.tmp / "operator-second" / "cert.pem"
            async with make_client(timeout_s=10) as plain:
                await register_certificate(
                    plain,
                    world.eco.portal.url,
                    world.eco.admin_key,
                    operator.org_code,
                    pki.cert_from_pem(identity_file.read_bytes()),
                )
            for provider in world.eco.providers:
                assert await _asset_list(http, world, provider, world.tokens[provider.org_code]) == (401, "40101")
        async with world.eco.client_as("operator") as own:
            for provider in world.eco.providers:
                assert await _asset_list(own, world, provider, world.tokens[provider.org_code]) == (200, "00000")

    @attack("mtls_token_with_other_orgs_certificate")
    async def test_token_with_a_providers_certificate(self, world: World) -> None:
        bank, card = world.eco.providers[0], world.eco.providers[1]
        async with world.eco.client_as(card.holder) as http:
            assert await _asset_list(http, world, bank, world.tokens[bank.org_code]) == (401, "40101")

    @attack("mtls_credentials_with_other_orgs_certificate")
    async def test_credentials_over_another_orgs_certificate(self, world: World) -> None:
        eco = world.eco
        settings = eco.operator_settings
        bank, card = eco.providers[0], eco.providers[1]
        async with eco.client_as(card.holder) as http:
            refresh = await http.post(
                f"{bank.server.url}/oauth/2.0/token",
                data={
                    "org_code": bank.org_code,
                    "grant_type": "refresh_token",
                    "refresh_token": "not-checked-before-the-client",
                    "client_id": settings.service_client_id,
                    "client_secret": settings.service_client_secret,
                },
                headers={"x-api-tran-id": new_tran_id(settings.org_code, Party.OPERATOR)},
            )
            support = await http.post(
                f"{_portal_peer(world)}/mgmts/oauth/2.0/token",
                data=_support_token_form(settings.support_client_id, settings.support_client_secret),
            )
            ca = await http.post(
                f"{_certauth_peer(world)}/oauth/2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": settings.ca_client_id,
                    "client_secret": settings.ca_client_secret,
                    "scope": "ca",
                },
            )
        assert _oauth(refresh) == (401, "unauthorized_client")
        assert _oauth(support) == (401, "unauthorized_client")
        assert _oauth(ca) == (401, "unauthorized_client")

    @attack("mtls_support_token_with_other_orgs_certificate")
    async def test_support_token_over_another_orgs_certificate(self, world: World) -> None:
        eco = world.eco
        settings = eco.operator_settings
        async with eco.client_as("operator") as own:
            issued = await own.post(
                f"{_portal_peer(world)}/mgmts/oauth/2.0/token",
                data=_support_token_form(settings.support_client_id, settings.support_client_secret),
            )
            assert issued.status_code == 200, issued.text
            token = issued.json()["access_token"]
        async with eco.client_as(eco.providers[0].holder) as http:
            listed = await http.get(
                f"{_portal_peer(world)}/v1/mgmts/orgs", headers={"Authorization": f"Bearer {token}"}
            )
        assert _rsp(listed) == (401, "40103")

    @attack("mtls_operator_support_api_not_portal")
    async def test_operator_support_api_with_a_providers_certificate(self, world: World) -> None:
        async with world.eco.client_as(world.eco.providers[0].holder) as http:
            token = await http.post(
                f"{_operator_peer(world)}/mgmts/oauth/2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": world.eco.operator_settings.portal_client_id,
                    "client_secret": world.eco.operator_settings.portal_client_secret,
                    "scope": "manage",
                },
            )
        assert _rsp(token) == (401, "40103")
