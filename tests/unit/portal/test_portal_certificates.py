"""Organisations' TLS certificates at the portal: registration (SERIALNUMBER = the business registration number, at
most three fingerprints, newest first), what 지원-002 lists about them, the audit entry, and the mutual-TLS check of
the support APIs against the registry.

The mutual-TLS cases run in-process: a small ASGI wrapper puts the client certificate into
`scope["extensions"]["tls"]["client_cert_chain"]`, which is how `kit.tls` hands it to the application. The portal's
peer registry gets a hand-moved monotonic clock, so when it re-reads the registry is up to the test, not to the
wall clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from openmydata.kit.audit import AuditChain, AuditEntry
from openmydata.kit.clock import to_dtime
from openmydata.kit.db import Database
from openmydata.kit.pki import CertificateAuthority, cert_to_pem, key_to_pem, new_key
from openmydata.kit.tls import certificate_fingerprint
from openmydata.portal.app import create_app
from openmydata.standard.peers import PeerRegistry

from .conftest import ADMIN_KEY, FakeClock, Portal, portal_settings
from .test_portal_support import client

REGNO = "1234567890"  # what `Portal.register` registers every organisation with
ADMIN = {"x-admin-key": ADMIN_KEY}


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create("OpenMyData Portal Test CA")


def issue(
    ca: CertificateAuthority,
    org_code: str,
    regno: str,
    clock: FakeClock,
    *,
    not_before: datetime | None = None,
    valid_for: timedelta = timedelta(days=365),
) -> x509.Certificate:
    """An organisation certificate valid from a day before the portal's (fake) now, unless told otherwise."""
    _, certificate = ca.issue_organisation(
        org_code, regno, not_before=not_before or clock.now - timedelta(days=1), valid_for=valid_for
    )
    return certificate


def pem(certificate: x509.Certificate) -> str:
    return cert_to_pem(certificate).decode("ascii")


def without_serial_number(ca: CertificateAuthority, org_code: str, clock: FakeClock) -> x509.Certificate:
    """A leaf certificate of the same CA whose subject has no SERIALNUMBER."""
    key = new_key()
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, org_code)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(clock.now - timedelta(days=1))
        .not_valid_after(clock.now + timedelta(days=365))
        .sign(ca.key, hashes.SHA256())
    )


async def post_certificate(
    http: httpx.AsyncClient, org_code: str, certificate_pem: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.post(
        f"/admin/orgs/{org_code}/certificates",
        json={"certificate_pem": certificate_pem},
        headers=ADMIN if headers is None else headers,
    )


async def register_certificate(http: httpx.AsyncClient, org_code: str, certificate: x509.Certificate) -> dict[str, Any]:
    response = await post_certificate(http, org_code, pem(certificate))
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


async def org_view(http: httpx.AsyncClient, org_code: str) -> dict[str, Any]:
    response = await http.get(f"/admin/orgs/{org_code}", headers=ADMIN)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


async def audit_entries(app: FastAPI) -> list[AuditEntry]:
    database: Database = app.state.db
    chain: AuditChain = app.state.audit
    async with database.transaction() as session:
        return list(reversed(await chain.entries(session)))


async def audit_verifies(app: FastAPI) -> bool:
    database: Database = app.state.db
    chain: AuditChain = app.state.audit
    async with database.engine.connect() as connection:
        return (await connection.run_sync(chain.verify)).ok


def fingerprints(*certificates: x509.Certificate) -> list[str]:
    return [certificate_fingerprint(certificate) for certificate in certificates]


class TestRegistration:
    async def test_the_view_shows_serial_fingerprint_issuer_and_expiry(
        self, portal: Portal, ca: CertificateAuthority
    ) -> None:
        bank = await portal.register("01", ["bank"])
        before = await org_view(portal.http, bank["org_code"])
        assert (before["serial_num"], before["cert_fingerprints"], before["cert_issuer_dn"]) == (None, [], None)

        certificate = issue(ca, bank["org_code"], REGNO, portal.clock)
        view = await register_certificate(portal.http, bank["org_code"], certificate)
        assert view["serial_num"] == REGNO
        assert view["cert_fingerprints"] == fingerprints(certificate)
        assert view["cert_issuer_dn"] == ca.certificate.subject.rfc4514_string()
        assert datetime.fromisoformat(view["cert_not_after"]) == certificate.not_valid_after_utc
        assert view["active"] is True
        # Read back from the database: the same.
        assert await org_view(portal.http, bank["org_code"]) == view

    async def test_at_most_three_fingerprints_newest_first(self, portal: Portal, ca: CertificateAuthority) -> None:
        bank = await portal.register("01", ["bank"])
        code = bank["org_code"]
        first, second, third = (issue(ca, code, REGNO, portal.clock) for _ in range(3))
        assert (await register_certificate(portal.http, code, first))["cert_fingerprints"] == fingerprints(first)
        view = await register_certificate(portal.http, code, second)
        assert view["cert_fingerprints"] == fingerprints(second, first)
        view = await register_certificate(portal.http, code, third)
        assert view["cert_fingerprints"] == fingerprints(third, second, first)

        # The fourth, from another CA and with a shorter life: the oldest drops out; issuer and expiry follow it.
        other_ca = CertificateAuthority.create("Another Test CA")
        fourth = issue(other_ca, code, REGNO, portal.clock, valid_for=timedelta(days=90))
        view = await register_certificate(portal.http, code, fourth)
        assert view["cert_fingerprints"] == fingerprints(fourth, third, second)
        assert view["cert_issuer_dn"] == other_ca.certificate.subject.rfc4514_string()
        assert datetime.fromisoformat(view["cert_not_after"]) == fourth.not_valid_after_utc
        assert await org_view(portal.http, code) == view

    async def test_registering_the_same_certificate_again_does_not_duplicate_it(
        self, portal: Portal, ca: CertificateAuthority
    ) -> None:
        bank = await portal.register("01", ["bank"])
        code = bank["org_code"]
        first, second = issue(ca, code, REGNO, portal.clock), issue(ca, code, REGNO, portal.clock)
        await register_certificate(portal.http, code, first)
        assert (await register_certificate(portal.http, code, first))["cert_fingerprints"] == fingerprints(first)
        await register_certificate(portal.http, code, second)
        # Registered again, the older one becomes the newest; it is still listed once.
        view = await register_certificate(portal.http, code, first)
        assert view["cert_fingerprints"] == fingerprints(first, second)
        assert (await org_view(portal.http, code))["cert_fingerprints"] == fingerprints(first, second)


class TestRefusals:
    async def test_bad_certificates_are_40001_and_change_nothing(
        self, portal: Portal, ca: CertificateAuthority
    ) -> None:
        bank = await portal.register("01", ["bank"])
        code = bank["org_code"]
        now = portal.clock.now
        year = timedelta(days=365)
        garbage_pem = "-----BEGIN CERTIFICATE-----\n" + "QUJD" * 40 + "\n-----END CERTIFICATE-----\n"
        cases = {
            "another SERIALNUMBER": pem(issue(ca, code, "9876543210", portal.clock)),
            "no SERIALNUMBER": pem(without_serial_number(ca, code, portal.clock)),
            "expired": pem(issue(ca, code, REGNO, portal.clock, not_before=now - 2 * year)),
            # not_after exactly now (issue() starts five minutes before not_before): no longer valid.
            "expiring now": pem(issue(ca, code, REGNO, portal.clock, not_before=now - year + timedelta(minutes=5))),
            "plain text": "this is not a certificate; " * 8,
            "PEM armour around garbage": garbage_pem,
            "non-ASCII text": "인증서가 아닙니다 " * 20,
            "too short": "-----BEGIN CERTIFICATE-----",
        }
        for reason, text in cases.items():
            response = await post_certificate(portal.http, code, text)
            assert response.status_code == 400, reason
            assert response.json()["rsp_code"] == "40001", reason

        view = await org_view(portal.http, code)
        assert (view["serial_num"], view["cert_fingerprints"], view["cert_issuer_dn"], view["cert_not_after"]) == (
            None,
            [],
            None,
            None,
        )
        assert [entry.kind for entry in await audit_entries(portal.app)] == ["org_registered"]

    async def test_unknown_or_deregistered_org_is_40303(self, portal: Portal, ca: CertificateAuthority) -> None:
        response = await post_certificate(portal.http, "A1NONE0000", pem(issue(ca, "A1NONE0000", REGNO, portal.clock)))
        assert response.status_code == 403
        assert response.json()["rsp_code"] == "40303"

        bank = await portal.register("01", ["bank"])
        await portal.admin(f"/admin/orgs/{bank['org_code']}/deregister", {})
        response = await post_certificate(
            portal.http, bank["org_code"], pem(issue(ca, bank["org_code"], REGNO, portal.clock))
        )
        assert response.status_code == 403
        assert response.json()["rsp_code"] == "40303"
        assert (await org_view(portal.http, bank["org_code"]))["cert_fingerprints"] == []

    async def test_admin_key_is_required(self, portal: Portal, ca: CertificateAuthority) -> None:
        bank = await portal.register("01", ["bank"])
        certificate = pem(issue(ca, bank["org_code"], REGNO, portal.clock))
        for headers in ({}, {"x-admin-key": "wrong"}):
            response = await post_certificate(portal.http, bank["org_code"], certificate, headers=headers)
            assert response.status_code == 401
            assert response.json()["rsp_code"] == "40101"
        assert (await org_view(portal.http, bank["org_code"]))["cert_fingerprints"] == []


class TestOrgList:
    """지원-002 lists the registered certificate data of every organisation."""

    async def test_full_list_has_the_certificate_fields(self, portal: Portal, ca: CertificateAuthority) -> None:
        bank = await portal.register("01", ["bank", "card"])
        operator = await portal.register("03", [])
        first, second = (issue(ca, bank["org_code"], REGNO, portal.clock) for _ in range(2))
        await register_certificate(portal.http, bank["org_code"], first)
        await register_certificate(portal.http, bank["org_code"], second)

        token = (await portal.bearer(operator))["Authorization"].removeprefix("Bearer ")
        # Through the catalogue client: the answer validates against the standard's 지원-002 model.
        result = await client(portal, operator["org_code"]).call("지원-002", {}, token=token)
        entries = {(entry["org_code"], entry.get("industry")): entry for entry in result.raw["org_list"]}
        assert set(entries) == {(bank["org_code"], "bank"), (bank["org_code"], "card"), (operator["org_code"], None)}
        for industry in ("bank", "card"):
            entry = entries[(bank["org_code"], industry)]
            assert entry["op_type"] == "I"
            assert entry["serial_num"] == REGNO
            assert entry["cert_issuer_dn"] == ca.certificate.subject.rfc4514_string()
            assert entry["cert_fingerprint_cnt"] == "2"
            assert entry["cert_fingerprint_list"] == [
                {"cert_fingerprint": value} for value in fingerprints(second, first)
            ]
        model = next(entry for entry in result.model.org_list if entry.industry == "bank")
        assert [item.cert_fingerprint for item in model.cert_fingerprint_list or []] == fingerprints(second, first)
        # An organisation without a registered certificate: no SERIALNUMBER or issuer, no fingerprints.
        bare = entries[(operator["org_code"], None)]
        assert "serial_num" not in bare
        assert "cert_issuer_dn" not in bare
        assert bare["cert_fingerprint_cnt"] == "0"
        assert bare.get("cert_fingerprint_list", []) == []

    async def test_a_certificate_registration_is_a_modification_in_the_delta(
        self, portal: Portal, ca: CertificateAuthority
    ) -> None:
        bank = await portal.register("01", ["bank", "card"])
        operator = await portal.register("03", [])
        headers = await portal.bearer(operator)

        async def since(stamp: str) -> dict[str, Any]:
            # A change in the same second as the timestamp counts as newer, so step past it.
            portal.clock.advance(seconds=1)
            response = await portal.http.get("/v1/mgmts/orgs", params={"search_timestamp": stamp}, headers=headers)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        stamp = (await since("0"))["search_timestamp"]
        assert (await since(stamp))["rsp_code"] == "00001"

        certificate = issue(ca, bank["org_code"], REGNO, portal.clock)
        await register_certificate(portal.http, bank["org_code"], certificate)
        body = await since(stamp)
        assert body["rsp_code"] == "00000"
        assert sorted((e["op_type"], e["org_code"], e["industry"]) for e in body["org_list"]) == [
            ("M", bank["org_code"], "bank"),
            ("M", bank["org_code"], "card"),
        ]
        for entry in body["org_list"]:
            assert entry["serial_num"] == REGNO
            assert entry["cert_issuer_dn"] == ca.certificate.subject.rfc4514_string()
            assert entry["cert_fingerprint_cnt"] == "1"
            assert entry["cert_fingerprint_list"] == [{"cert_fingerprint": certificate_fingerprint(certificate)}]
        stamp = body["search_timestamp"]

        more = [issue(ca, bank["org_code"], REGNO, portal.clock) for _ in range(3)]
        for item in more:
            await register_certificate(portal.http, bank["org_code"], item)
        body = await since(stamp)
        assert {(e["op_type"], e["industry"]) for e in body["org_list"]} == {("M", "bank"), ("M", "card")}
        for entry in body["org_list"]:
            assert entry["cert_fingerprint_cnt"] == "3"
            assert [item["cert_fingerprint"] for item in entry["cert_fingerprint_list"]] == fingerprints(
                *reversed(more)
            )


class TestAudit:
    async def test_registration_appends_one_entry_and_the_chain_verifies(
        self, portal: Portal, ca: CertificateAuthority
    ) -> None:
        bank = await portal.register("01", ["bank"])
        certificate = issue(ca, bank["org_code"], REGNO, portal.clock)
        response = await post_certificate(portal.http, bank["org_code"], pem(certificate))
        assert response.status_code == 200, response.text

        entries = await audit_entries(portal.app)
        assert [entry.kind for entry in entries] == ["org_registered", "org_certificate_registered"]
        assert entries[1].event == {
            "org_code": bank["org_code"],
            "fingerprint": certificate_fingerprint(certificate),
            "not_after": to_dtime(certificate.not_valid_after_utc),
            "tran_id": response.headers["x-api-tran-id"],
        }
        assert entries[1].at == portal.clock.now
        assert await audit_verifies(portal.app)


# ----- mutual TLS, in-process -----


class WithClientCertificate:
    """Puts a client certificate chain into every HTTP scope, as `kit.tls.TlsHttpToolsProtocol` does (`chain` None: a
    plain-HTTP request without the TLS extension)."""

    def __init__(self, app: ASGIApp, chain: list[str] | None):
        self.app = app
        self.chain = chain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.chain is not None:
            extensions = {**scope.get("extensions", {}), "tls": {"client_cert_chain": list(self.chain)}}
            scope = {**scope, "extensions": extensions}
        await self.app(scope, receive, send)


class Ticks:
    """A monotonic clock the test moves by hand (the peer registry's re-read timing)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class TlsPortal:
    app: FastAPI
    admin: httpx.AsyncClient  # calls without a client certificate
    clock: FakeClock
    ticks: Ticks
    ca: CertificateAuthority
    _clients: list[httpx.AsyncClient] = field(default_factory=list)

    @property
    def registry(self) -> PeerRegistry:
        registry: PeerRegistry = self.app.state.peers
        return registry

    def over(self, certificate: x509.Certificate | None, *, empty_chain: bool = False) -> httpx.AsyncClient:
        """A client whose requests come over TLS with `certificate` (None: plain HTTP, or TLS without a client
        certificate with `empty_chain`)."""
        chain = [pem(certificate)] if certificate is not None else ([] if empty_chain else None)
        transport = httpx.ASGITransport(app=WithClientCertificate(self.app, chain))
        http = httpx.AsyncClient(transport=transport, base_url="https://portal.test")
        self._clients.append(http)
        return http

    async def new_org(self, org_type: str, industries: list[str], regno: str) -> dict[str, Any]:
        body = {
            "org_name": "테스트기관",
            "org_type": org_type,
            "industries": industries,
            "domain": "https://org.test",
            "org_regno": regno,
        }
        response = await self.admin.post("/admin/orgs", json=body, headers=ADMIN)
        assert response.status_code == 200, response.text
        org: dict[str, Any] = response.json()
        return org

    def issue(self, org_code: str, regno: str) -> x509.Certificate:
        return issue(self.ca, org_code, regno, self.clock)

    async def token(self, http: httpx.AsyncClient, credentials: dict[str, Any]) -> httpx.Response:
        return await http.post(
            "/mgmts/oauth/2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials["support_client_id"],
                "client_secret": credentials["support_client_secret"],
                "scope": "manage",
            },
        )

    async def org_list(self, http: httpx.AsyncClient, access_token: str) -> httpx.Response:
        return await http.get("/v1/mgmts/orgs", headers={"Authorization": f"Bearer {access_token}"})


@asynccontextmanager
async def open_tls_portal(
    db_url: str, tmp_path: Path, ca: CertificateAuthority, peer_check: Literal["serial", "fingerprint"]
) -> AsyncIterator[TlsPortal]:
    clock = FakeClock()
    key, certificate = ca.issue_organisation("W1PRTL0000", "1000000000", hosts=["portal.test"])
    tls_dir = tmp_path / "portal-tls"
    tls_dir.mkdir()
    (tls_dir / "cert.pem").write_bytes(cert_to_pem(certificate))
    (tls_dir / "key.pem").write_bytes(key_to_pem(key))
    (tls_dir / "ca.pem").write_bytes(ca.certificate_pem())
    settings = portal_settings(
        db_url,
        tmp_path / "portal",
        insecure_plain_http=False,
        peer_check=peer_check,
        tls_cert_file=tls_dir / "cert.pem",
        tls_key_file=tls_dir / "key.pem",
        tls_ca_file=tls_dir / "ca.pem",
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        ticks = Ticks()
        registry: PeerRegistry = app.state.peers
        assert registry.mode == peer_check
        registry.clock = ticks
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://portal.test") as admin:
            portal = TlsPortal(app=app, admin=admin, clock=clock, ticks=ticks, ca=ca)
            try:
                yield portal
            finally:
                for http in portal._clients:
                    await http.aclose()


@pytest.fixture
async def tls_portal(db_url: str, tmp_path: Path, ca: CertificateAuthority) -> AsyncIterator[TlsPortal]:
    async with open_tls_portal(db_url, tmp_path, ca, "serial") as portal:
        yield portal


@pytest.fixture
async def fingerprint_portal(db_url: str, tmp_path: Path, ca: CertificateAuthority) -> AsyncIterator[TlsPortal]:
    async with open_tls_portal(db_url, tmp_path, ca, "fingerprint") as portal:
        yield portal


def assert_cert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["rsp_code"] == "40103", response.text


BANK_REGNO = "1111111111"
CARD_REGNO = "2222222222"


class TestMutualTlsSerialRule:
    """The default rule: the client certificate's SERIALNUMBER must be a registered `serial_num`."""

    async def test_registered_certificate_of_the_same_org_gets_a_token_and_calls_org_list(
        self, tls_portal: TlsPortal
    ) -> None:
        bank = await tls_portal.new_org("01", ["bank"], BANK_REGNO)
        certificate = tls_portal.issue(bank["org_code"], BANK_REGNO)
        await register_certificate(tls_portal.admin, bank["org_code"], certificate)

        http = tls_portal.over(certificate)
        response = await tls_portal.token(http, bank)
        assert response.status_code == 200, response.text
        listed = await tls_portal.org_list(http, response.json()["access_token"])
        assert listed.status_code == 200, listed.text
        assert listed.json()["rsp_code"] == "00000"

    async def test_a_reissued_certificate_with_the_registered_serial_number_is_accepted(
        self, tls_portal: TlsPortal
    ) -> None:
        bank = await tls_portal.new_org("01", ["bank"], BANK_REGNO)
        await register_certificate(tls_portal.admin, bank["org_code"], tls_portal.issue(bank["org_code"], BANK_REGNO))
        reissued = tls_portal.issue(bank["org_code"], BANK_REGNO)  # never registered itself
        response = await tls_portal.token(tls_portal.over(reissued), bank)
        assert response.status_code == 200, response.text

    async def test_no_client_certificate_is_40103(self, tls_portal: TlsPortal) -> None:
        bank = await tls_portal.new_org("01", ["bank"], BANK_REGNO)
        await register_certificate(tls_portal.admin, bank["org_code"], tls_portal.issue(bank["org_code"], BANK_REGNO))
        for http in (tls_portal.over(None), tls_portal.over(None, empty_chain=True)):
            assert_cert_refused(await tls_portal.token(http, bank))
            assert_cert_refused(await http.get("/v1/mgmts/orgs"))

    async def test_an_unregistered_serial_number_is_40103(self, tls_portal: TlsPortal) -> None:
        bank = await tls_portal.new_org("01", ["bank"], BANK_REGNO)
        await register_certificate(tls_portal.admin, bank["org_code"], tls_portal.issue(bank["org_code"], BANK_REGNO))
        # An organisation registered without a certificate: its registration number is no registered serial_num.
        card = await tls_portal.new_org("01", ["card"], CARD_REGNO)
        stranger = tls_portal.issue(bank["org_code"], "9999999999")
        assert_cert_refused(await tls_portal.token(tls_portal.over(stranger), bank))
        assert_cert_refused(
            await tls_portal.token(tls_portal.over(tls_portal.issue(card["org_code"], CARD_REGNO)), card)
        )

    async def test_another_orgs_certificate_cannot_get_a_token(self, tls_portal: TlsPortal) -> None:
        bank = await tls_portal.new_org("01", ["bank"], BANK_REGNO)
        card = await tls_portal.new_org("01", ["card"], CARD_REGNO)
        bank_cert = tls_portal.issue(bank["org_code"], BANK_REGNO)
        card_cert = tls_portal.issue(card["org_code"], CARD_REGNO)
        await register_certificate(tls_portal.admin, bank["org_code"], bank_cert)
        await register_certificate(tls_portal.admin, card["org_code"], card_cert)

        response = await tls_portal.token(tls_portal.over(card_cert), bank)
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "unauthorized_client"
        assert (await tls_portal.token(tls_portal.over(bank_cert), bank)).status_code == 200

    async def test_a_token_over_another_orgs_certificate_is_40103(self, tls_portal: TlsPortal) -> None:
        bank = await tls_portal.new_org("01", ["bank"], BANK_REGNO)
        card = await tls_portal.new_org("01", ["card"], CARD_REGNO)
        bank_cert = tls_portal.issue(bank["org_code"], BANK_REGNO)
        card_cert = tls_portal.issue(card["org_code"], CARD_REGNO)
        await register_certificate(tls_portal.admin, bank["org_code"], bank_cert)
        await register_certificate(tls_portal.admin, card["org_code"], card_cert)

        issued = await tls_portal.token(tls_portal.over(bank_cert), bank)
        assert issued.status_code == 200, issued.text
        access_token = issued.json()["access_token"]
        assert_cert_refused(await tls_portal.org_list(tls_portal.over(card_cert), access_token))
        assert (await tls_portal.org_list(tls_portal.over(bank_cert), access_token)).status_code == 200

    async def test_a_deregistered_orgs_certificate_is_40103(self, tls_portal: TlsPortal) -> None:
        bank = await tls_portal.new_org("01", ["bank"], BANK_REGNO)
        card = await tls_portal.new_org("01", ["card"], CARD_REGNO)
        bank_cert = tls_portal.issue(bank["org_code"], BANK_REGNO)
        card_cert = tls_portal.issue(card["org_code"], CARD_REGNO)
        await register_certificate(tls_portal.admin, bank["org_code"], bank_cert)
        await register_certificate(tls_portal.admin, card["org_code"], card_cert)
        response = await tls_portal.admin.post(f"/admin/orgs/{card['org_code']}/deregister", json={}, headers=ADMIN)
        assert response.status_code == 200, response.text

        # The registry is first read after the deregistration: the card company is no longer in it.
        assert_cert_refused(await tls_portal.token(tls_portal.over(card_cert), card))
        assert (await tls_portal.token(tls_portal.over(bank_cert), bank)).status_code == 200

    async def test_a_deregistration_reaches_the_check_with_the_next_registry_read(self, tls_portal: TlsPortal) -> None:
        card = await tls_portal.new_org("01", ["card"], CARD_REGNO)
        card_cert = tls_portal.issue(card["org_code"], CARD_REGNO)
        await register_certificate(tls_portal.admin, card["org_code"], card_cert)
        http = tls_portal.over(card_cert)
        issued = await tls_portal.token(http, card)
        assert issued.status_code == 200, issued.text  # the registry now holds the card company
        response = await tls_portal.admin.post(f"/admin/orgs/{card['org_code']}/deregister", json={}, headers=ADMIN)
        assert response.status_code == 200, response.text

        # Once the cached view is older than max_age_s, the next call re-reads it without the card company.
        tls_portal.ticks.now += tls_portal.registry.max_age_s + 0.1
        assert_cert_refused(await tls_portal.org_list(http, issued.json()["access_token"]))
        assert_cert_refused(await tls_portal.token(http, card))

    async def test_a_newly_registered_certificate_is_recognised_without_waiting_for_max_age(
        self, tls_portal: TlsPortal
    ) -> None:
        bank = await tls_portal.new_org("01", ["bank"], BANK_REGNO)
        bank_cert = tls_portal.issue(bank["org_code"], BANK_REGNO)
        await register_certificate(tls_portal.admin, bank["org_code"], bank_cert)
        assert (await tls_portal.token(tls_portal.over(bank_cert), bank)).status_code == 200  # registry read

        card = await tls_portal.new_org("01", ["card"], CARD_REGNO)
        card_cert = tls_portal.issue(card["org_code"], CARD_REGNO)
        await register_certificate(tls_portal.admin, card["org_code"], card_cert)
        # An unknown certificate makes the registry re-read, at most every min_refetch_s.
        tls_portal.ticks.now += tls_portal.registry.min_refetch_s
        assert tls_portal.registry.min_refetch_s < tls_portal.registry.max_age_s
        assert (await tls_portal.token(tls_portal.over(card_cert), card)).status_code == 200

    async def test_admin_paths_need_no_client_certificate(self, tls_portal: TlsPortal) -> None:
        bank = await tls_portal.new_org("01", ["bank"], BANK_REGNO)  # over plain HTTP, no certificate
        stranger = tls_portal.issue(bank["org_code"], "9999999999")
        for http in (tls_portal.over(None, empty_chain=True), tls_portal.over(stranger)):
            response = await http.get(f"/admin/orgs/{bank['org_code']}", headers=ADMIN)
            assert response.status_code == 200, response.text
            assert response.json()["org_code"] == bank["org_code"]


class TestMutualTlsFingerprintRule:
    """`peer_check="fingerprint"`: the client certificate itself must be one of the (at most three) registered."""

    async def test_an_unregistered_certificate_is_refused_until_it_is_registered(
        self, fingerprint_portal: TlsPortal
    ) -> None:
        portal = fingerprint_portal
        bank = await portal.new_org("01", ["bank"], BANK_REGNO)
        registered = portal.issue(bank["org_code"], BANK_REGNO)
        await register_certificate(portal.admin, bank["org_code"], registered)
        assert (await portal.token(portal.over(registered), bank)).status_code == 200  # registry read

        rotated = portal.issue(bank["org_code"], BANK_REGNO)  # the registered SERIALNUMBER, another certificate
        assert_cert_refused(await portal.token(portal.over(rotated), bank))

        await register_certificate(portal.admin, bank["org_code"], rotated)
        portal.ticks.now += portal.registry.min_refetch_s
        response = await portal.token(portal.over(rotated), bank)
        assert response.status_code == 200, response.text
        listed = await portal.org_list(portal.over(rotated), response.json()["access_token"])
        assert listed.status_code == 200, listed.text
        # The certificate being replaced stays valid meanwhile.
        assert (await portal.token(portal.over(registered), bank)).status_code == 200

    async def test_a_certificate_beyond_the_three_newest_is_refused(self, fingerprint_portal: TlsPortal) -> None:
        portal = fingerprint_portal
        bank = await portal.new_org("01", ["bank"], BANK_REGNO)
        certificates = [portal.issue(bank["org_code"], BANK_REGNO) for _ in range(4)]
        for certificate in certificates:
            await register_certificate(portal.admin, bank["org_code"], certificate)
        assert_cert_refused(await portal.token(portal.over(certificates[0]), bank))
        for certificate in certificates[1:]:
            assert (await portal.token(portal.over(certificate), bank)).status_code == 200

    async def test_another_orgs_certificate_and_a_deregistered_org_are_refused(
        self, fingerprint_portal: TlsPortal
    ) -> None:
        portal = fingerprint_portal
        bank = await portal.new_org("01", ["bank"], BANK_REGNO)
        card = await portal.new_org("01", ["card"], CARD_REGNO)
        bank_cert = portal.issue(bank["org_code"], BANK_REGNO)
        card_cert = portal.issue(card["org_code"], CARD_REGNO)
        await register_certificate(portal.admin, bank["org_code"], bank_cert)
        await register_certificate(portal.admin, card["org_code"], card_cert)

        refused = await portal.token(portal.over(card_cert), bank)
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"] == "unauthorized_client"
        issued = await portal.token(portal.over(bank_cert), bank)
        assert issued.status_code == 200, issued.text
        assert_cert_refused(await portal.org_list(portal.over(card_cert), issued.json()["access_token"]))
        assert (await portal.token(portal.over(card_cert), card)).status_code == 200

        response = await portal.admin.post(f"/admin/orgs/{card['org_code']}/deregister", json={}, headers=ADMIN)
        assert response.status_code == 200, response.text
        portal.ticks.now += portal.registry.max_age_s + 0.1
        assert_cert_refused(await portal.token(portal.over(card_cert), card))
        assert (await portal.token(portal.over(bank_cert), bank)).status_code == 200
