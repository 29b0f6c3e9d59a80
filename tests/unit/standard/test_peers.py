from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from openmydata.kit import pki
from openmydata.kit.errors import PeerUnavailable
from openmydata.kit.tls import certificate_fingerprint, thumbprint_s256
from openmydata.standard.peers import (
    CheckMode,
    Peer,
    PeerCheckMiddleware,
    PeerRefused,
    PeerRegistry,
    RegisteredOrg,
    client_cert_header,
    peer_allows,
    peer_of,
)

BANK_REGNO = "1234567890"
OPERATOR_REGNO = "2208162517"
PORTAL_REGNO = "1010101010"


@pytest.fixture(scope="module")
def authority() -> pki.CertificateAuthority:
    return pki.CertificateAuthority.create("OpenMyData Peers Test CA")


@pytest.fixture(scope="module")
def bank(authority: pki.CertificateAuthority) -> x509.Certificate:
    return authority.issue_organisation("BANK000001", BANK_REGNO)[1]


@pytest.fixture(scope="module")
def bank_reissued(authority: pki.CertificateAuthority) -> x509.Certificate:
    """A new certificate for the same organisation: same SERIALNUMBER, new fingerprint."""
    return authority.issue_organisation("BANK000001", BANK_REGNO)[1]


@pytest.fixture(scope="module")
def operator(authority: pki.CertificateAuthority) -> x509.Certificate:
    return authority.issue_organisation("OPER000001", OPERATOR_REGNO)[1]


@pytest.fixture(scope="module")
def portal(authority: pki.CertificateAuthority) -> x509.Certificate:
    return authority.issue_organisation("PORTAL0001", PORTAL_REGNO)[1]


@pytest.fixture(scope="module")
def no_serial() -> x509.Certificate:
    key = pki.new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "NOSERIAL01")])
    start = datetime.now(UTC) - timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def org(
    org_code: str,
    serial_num: str | None,
    *fingerprints: str,
    op_type: str = "I",
    industry: str = "bank",
    org_type: str = "01",
) -> dict[str, Any]:
    """One 지원-002 `org_list` entry."""
    return {
        "op_type": op_type,
        "org_code": org_code,
        "industry": industry,
        "org_type": org_type,
        "serial_num": serial_num,
        "cert_fingerprint_list": [{"cert_fingerprint": value} for value in fingerprints],
    }


def body(*entries: dict[str, Any], search_timestamp: str = "20240101000000") -> dict[str, Any]:
    return {"search_timestamp": search_timestamp, "org_list": list(entries)}


@dataclass
class FakeClock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakePortal:
    """A 지원-002 fetch: answers the queued bodies in order (an exception is raised), recording each call."""

    answers: list[Mapping[str, Any] | Exception] = field(default_factory=list)
    calls: list[str | None] = field(default_factory=list)

    async def __call__(self, search_timestamp: str | None) -> Mapping[str, Any]:
        self.calls.append(search_timestamp)
        answer = self.answers.pop(0) if self.answers else body(search_timestamp=search_timestamp or "")
        if isinstance(answer, Exception):
            raise answer
        return answer


class TestSerialMode:
    async def test_registered_serial_number_identifies_the_peer(self, bank: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode="serial")
        registry.apply(body(org("BANK000001", BANK_REGNO, "00" * 32, org_type="01")))
        peer = await registry.identify(bank)
        assert peer == Peer(
            serial_num=BANK_REGNO,
            fingerprint=certificate_fingerprint(bank),
            thumbprint=thumbprint_s256(bank),
            org_codes=frozenset({"BANK000001"}),
            org_types=frozenset({"01"}),
        )

    async def test_reissued_certificate_with_the_same_serial_number_needs_no_registration(
        self, bank_reissued: x509.Certificate
    ) -> None:
        registry = PeerRegistry(None, mode="serial")
        registry.apply(body(org("BANK000001", BANK_REGNO)))
        peer = await registry.identify(bank_reissued)
        assert peer.org_codes == {"BANK000001"}
        assert peer.thumbprint == thumbprint_s256(bank_reissued)

    async def test_unregistered_serial_number_is_refused(self, operator: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode="serial")
        registry.apply(body(org("BANK000001", BANK_REGNO)))
        with pytest.raises(PeerRefused) as refused:
            await registry.identify(operator)
        assert refused.value.reason == (
            f"SERIALNUMBER {OPERATOR_REGNO} is not registered at the portal (or the organisation was deregistered)"
        )
        assert str(refused.value) == refused.value.reason

    async def test_certificate_without_serial_number_is_refused(self, no_serial: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode="serial")
        registry.apply(body(org("BANK000001", BANK_REGNO)))
        with pytest.raises(PeerRefused, match="no subject SERIALNUMBER"):
            await registry.identify(no_serial)


class TestFingerprintMode:
    async def test_registered_fingerprint_identifies_the_peer(self, bank: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode="fingerprint")
        registry.apply(body(org("BANK000001", BANK_REGNO, "ab" * 32, certificate_fingerprint(bank))))
        peer = await registry.identify(bank)
        assert peer.org_codes == {"BANK000001"}
        assert peer.fingerprint == certificate_fingerprint(bank)

    async def test_fingerprints_compare_case_insensitively(self, bank: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode="fingerprint")
        registry.apply(body(org("BANK000001", BANK_REGNO, certificate_fingerprint(bank).upper())))
        assert (await registry.identify(bank)).org_codes == {"BANK000001"}

    async def test_reissued_certificate_must_be_registered(
        self, bank: x509.Certificate, bank_reissued: x509.Certificate
    ) -> None:
        registry = PeerRegistry(None, mode="fingerprint")
        registry.apply(body(org("BANK000001", BANK_REGNO, certificate_fingerprint(bank))))
        with pytest.raises(PeerRefused) as refused:
            await registry.identify(bank_reissued)
        reason = refused.value.reason
        assert reason.startswith(f"certificate fingerprint {certificate_fingerprint(bank_reissued)[:16]}…")
        assert f"registered for BANK000001 (SERIALNUMBER {BANK_REGNO})" in reason
        assert "register the new certificate at the portal" in reason

    async def test_unknown_fingerprint_and_serial_number_is_refused(
        self, bank: x509.Certificate, operator: x509.Certificate
    ) -> None:
        registry = PeerRegistry(None, mode="fingerprint")
        registry.apply(body(org("BANK000001", BANK_REGNO, certificate_fingerprint(bank))))
        with pytest.raises(PeerRefused) as refused:
            await registry.identify(operator)
        assert refused.value.reason == (
            f"certificate fingerprint {certificate_fingerprint(operator)[:16]}… is not registered at the portal"
        )

    async def test_serial_number_alone_does_not_match(self, bank: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode="fingerprint")
        registry.apply(body(org("BANK000001", BANK_REGNO)))
        with pytest.raises(PeerRefused):
            await registry.identify(bank)


class TestApply:
    async def test_delete_removes_the_organisation(self, bank: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode="serial")
        registry.apply(body(org("BANK000001", BANK_REGNO)))
        assert (await registry.identify(bank)).org_codes == {"BANK000001"}
        registry.apply(body(org("BANK000001", BANK_REGNO, op_type="D")))
        assert registry.orgs() == {}
        with pytest.raises(PeerRefused):
            await registry.identify(bank)

    async def test_delete_of_one_industry_keeps_the_others(self, bank: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode="serial")
        registry.apply(
            body(org("BANK000001", BANK_REGNO, industry="bank"), org("BANK000001", BANK_REGNO, industry="card"))
        )
        registry.apply(body(org("BANK000001", BANK_REGNO, industry="card", op_type="D")))
        assert (await registry.identify(bank)).org_codes == {"BANK000001"}

    async def test_org_codes_sharing_a_serial_number_make_one_peer(self, bank: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode="serial")
        registry.apply(
            body(
                org("BANK000001", BANK_REGNO, industry="bank", org_type="01"),
                org("CARD000001", BANK_REGNO, industry="card", org_type="03"),
                org("OPER000001", OPERATOR_REGNO, industry="operator", org_type="07"),
            )
        )
        peer = await registry.identify(bank)
        assert peer.org_codes == {"BANK000001", "CARD000001"}
        assert peer.org_types == {"01", "03"}

    async def test_org_codes_sharing_a_fingerprint_make_one_peer(self, bank: x509.Certificate) -> None:
        fingerprint = certificate_fingerprint(bank)
        registry = PeerRegistry(None, mode="fingerprint")
        registry.apply(
            body(
                org("BANK000001", BANK_REGNO, fingerprint, industry="bank"),
                org("CARD000001", BANK_REGNO, fingerprint, industry="card"),
            )
        )
        assert (await registry.identify(bank)).org_codes == {"BANK000001", "CARD000001"}

    def test_entries_without_org_code_are_ignored(self) -> None:
        registry = PeerRegistry(None)
        registry.apply(body(org("", BANK_REGNO), org("BANK000001", BANK_REGNO, "AB" * 32)))
        assert registry.orgs() == {
            "BANK000001": RegisteredOrg("BANK000001", org_type="01", serial_num=BANK_REGNO, fingerprints=("ab" * 32,))
        }


class TestRefetch:
    async def test_first_identify_reads_everything(self, bank: x509.Certificate) -> None:
        portal = FakePortal([body(org("BANK000001", BANK_REGNO), search_timestamp="20240101000000")])
        registry = PeerRegistry(portal, clock=FakeClock())
        assert (await registry.identify(bank)).org_codes == {"BANK000001"}
        assert portal.calls == [None]

    async def test_unknown_certificate_triggers_one_rate_limited_refetch(
        self, bank: x509.Certificate, operator: x509.Certificate
    ) -> None:
        clock = FakeClock()
        portal = FakePortal(
            [
                body(org("BANK000001", BANK_REGNO), search_timestamp="20240101000000"),
                body(org("OPER000001", OPERATOR_REGNO), search_timestamp="20240102000000"),
            ]
        )
        registry = PeerRegistry(portal, min_refetch_s=2.0, max_age_s=300.0, clock=clock)
        await registry.identify(bank)
        assert portal.calls == [None]

        # Within min_refetch_s of the last read, an unknown certificate does not reach the portal.
        clock.now += 1.0
        with pytest.raises(PeerRefused):
            await registry.identify(operator)
        assert portal.calls == [None]

        # Later it does, once, with the delta since the last search_timestamp, and the new entry is found.
        clock.now += 1.5
        peer = await registry.identify(operator)
        assert peer.org_codes == {"OPER000001"}
        assert portal.calls == [None, "20240101000000"]
        # Entries from earlier reads stay.
        assert (await registry.identify(bank)).org_codes == {"BANK000001"}
        assert len(portal.calls) == 2

    async def test_still_unknown_after_the_refetch_is_refused_after_one_read(
        self, bank: x509.Certificate, operator: x509.Certificate
    ) -> None:
        clock = FakeClock()
        portal = FakePortal([body(org("BANK000001", BANK_REGNO))])
        registry = PeerRegistry(portal, min_refetch_s=2.0, clock=clock)
        await registry.identify(bank)
        clock.now += 10.0
        with pytest.raises(PeerRefused):
            await registry.identify(operator)
        assert len(portal.calls) == 2

    async def test_known_certificate_rereads_once_the_view_is_older_than_max_age(self, bank: x509.Certificate) -> None:
        clock = FakeClock()
        portal = FakePortal([body(org("BANK000001", BANK_REGNO))])
        registry = PeerRegistry(portal, max_age_s=300.0, clock=clock)
        await registry.identify(bank)
        clock.now += 299.0
        await registry.identify(bank)
        assert len(portal.calls) == 1
        clock.now += 2.0
        await registry.identify(bank)
        assert len(portal.calls) == 2

    async def test_fetch_failure_keeps_the_cached_view(
        self, bank: x509.Certificate, operator: x509.Certificate
    ) -> None:
        clock = FakeClock()
        portal = FakePortal(
            [body(org("BANK000001", BANK_REGNO)), PeerUnavailable("portal", "timeout"), PeerUnavailable("portal", "x")]
        )
        registry = PeerRegistry(portal, max_age_s=300.0, clock=clock)
        await registry.identify(bank)

        clock.now += 301.0
        assert (await registry.identify(bank)).org_codes == {"BANK000001"}
        assert len(portal.calls) == 2
        clock.now += 5.0
        assert await registry.refresh() is False
        assert len(portal.calls) == 3
        assert set(registry.orgs()) == {"BANK000001"}
        with pytest.raises(PeerRefused):
            await registry.identify(operator)

    async def test_refresh_without_fetch_is_false(self) -> None:
        assert await PeerRegistry(None).refresh(force=True) is False

    async def test_forced_refresh_ignores_the_rate_limit(self) -> None:
        portal = FakePortal()
        registry = PeerRegistry(portal, min_refetch_s=60.0, clock=FakeClock())
        assert await registry.refresh() is True
        assert await registry.refresh() is False
        assert await registry.refresh(force=True) is True
        assert len(portal.calls) == 2


class TestFixedEntries:
    @pytest.mark.parametrize("mode", ["serial", "fingerprint"])
    async def test_fixed_entries_match_by_serial_number(self, mode: CheckMode, portal: x509.Certificate) -> None:
        registry = PeerRegistry(
            None, mode=mode, fixed=[RegisteredOrg("PORTAL0001", org_type="00", serial_num=PORTAL_REGNO)]
        )
        peer = await registry.identify(portal)
        assert peer.org_codes == {"PORTAL0001"}
        assert peer.org_types == {"00"}

    @pytest.mark.parametrize("mode", ["serial", "fingerprint"])
    async def test_fixed_entries_refuse_another_serial_number(self, mode: CheckMode, bank: x509.Certificate) -> None:
        registry = PeerRegistry(None, mode=mode, fixed=[RegisteredOrg("PORTAL0001", serial_num=PORTAL_REGNO)])
        with pytest.raises(PeerRefused):
            await registry.identify(bank)

    async def test_fixed_entries_sit_beside_the_portal_registry(
        self, bank: x509.Certificate, portal: x509.Certificate
    ) -> None:
        registry = PeerRegistry(None, mode="fingerprint", fixed=[RegisteredOrg("PORTAL0001", serial_num=PORTAL_REGNO)])
        registry.apply(body(org("BANK000001", BANK_REGNO, certificate_fingerprint(bank))))
        assert set(registry.orgs()) == {"BANK000001", "PORTAL0001"}
        assert (await registry.identify(bank)).org_codes == {"BANK000001"}
        assert (await registry.identify(portal)).org_codes == {"PORTAL0001"}


# --- PeerCheckMiddleware -------------------------------------------------------------------------------------------

PEER_PATH = "/v2/bank/accounts"
OTHER_PATH = "/consents"


async def who(request: Request) -> JSONResponse:
    request.app.state.calls += 1
    peer = peer_of(request)
    return JSONResponse(
        {
            "peer": None
            if peer is None
            else {"org_codes": sorted(peer.org_codes), "thumbprint": peer.thumbprint, "serial_num": peer.serial_num},
            "allows_bank": peer_allows(request, "BANK000001"),
        }
    )


def with_tls(app: ASGIApp, chain: list[str] | None) -> ASGIApp:
    """What `kit.tls.TlsHttpToolsProtocol` does: the ASGI TLS extension with the client's certificate chain."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if chain is not None and scope["type"] == "http":
            extensions = {**scope.get("extensions", {}), "tls": {"client_cert_chain": list(chain)}}
            scope = {**scope, "extensions": extensions}
        await app(scope, receive, send)

    return wrapped


@dataclass
class Harness:
    app: Starlette
    registry_reads: int = 0

    @property
    def calls(self) -> int:
        return int(self.app.state.calls)


def build(
    registry: PeerRegistry | None,
    *,
    allow_plain_http: bool,
    relays: frozenset[str] = frozenset(),
    trusted_cas: tuple[x509.Certificate, ...] = (),
) -> Harness:
    harness: Harness

    def current_registry() -> PeerRegistry | None:
        harness.registry_reads += 1
        return registry

    app = Starlette(
        routes=[Route(PEER_PATH, who), Route(OTHER_PATH, who)],
        middleware=[
            Middleware(
                PeerCheckMiddleware,
                registry=current_registry,
                is_peer_path=lambda path: path.startswith("/v2/"),
                allow_plain_http=allow_plain_http,
                relays=relays,
                trusted_cas=lambda: trusted_cas,
            )
        ],
    )
    app.state.calls = 0
    harness = Harness(app)
    return harness


def pem(certificate: x509.Certificate) -> str:
    return pki.cert_to_pem(certificate).decode("ascii")


async def get(
    app: ASGIApp,
    path: str,
    *,
    chain: list[str] | None = None,
    tran_id: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> httpx.Response:
    headers = {"x-api-tran-id": tran_id} if tran_id is not None else {}
    headers.update(extra or {})
    transport = httpx.ASGITransport(app=with_tls(app, chain))
    async with httpx.AsyncClient(transport=transport, base_url="https://provider.test") as client:
        return await client.get(path, headers=headers)


@pytest.fixture
def registry() -> PeerRegistry:
    registry = PeerRegistry(None, mode="serial")
    registry.apply(
        body(
            org("BANK000001", BANK_REGNO, industry="bank"),
            org("CARD000001", BANK_REGNO, industry="card"),
        )
    )
    return registry


def assert_refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    payload = response.json()
    assert payload["rsp_code"] == "40103"
    assert payload["rsp_msg"].startswith("인증서 검증 실패: ")
    assert reason in payload["rsp_msg"]


class TestPeerCheckMiddleware:
    async def test_other_paths_pass_untouched(self, registry: PeerRegistry) -> None:
        harness = build(registry, allow_plain_http=False)
        response = await get(harness.app, OTHER_PATH)
        assert response.status_code == 200
        assert response.json() == {"peer": None, "allows_bank": True}
        assert harness.registry_reads == 0

    async def test_peer_path_without_tls_is_refused(self, registry: PeerRegistry) -> None:
        harness = build(registry, allow_plain_http=False)
        response = await get(harness.app, PEER_PATH, tran_id="BANK000001M20240101000001")
        assert_refused(response, "participant APIs need a client certificate (mutual TLS)")
        assert response.headers["x-api-tran-id"] == "BANK000001M20240101000001"
        assert harness.calls == 0

    async def test_plain_http_passes_unidentified_when_allowed(self, registry: PeerRegistry) -> None:
        harness = build(registry, allow_plain_http=True)
        response = await get(harness.app, PEER_PATH)
        assert response.status_code == 200
        assert response.json() == {"peer": None, "allows_bank": True}

    @pytest.mark.parametrize("allow_plain_http", [False, True])
    async def test_tls_without_client_certificate_is_refused(
        self, registry: PeerRegistry, allow_plain_http: bool
    ) -> None:
        harness = build(registry, allow_plain_http=allow_plain_http)
        response = await get(harness.app, PEER_PATH, chain=[])
        assert_refused(response, "participant APIs need a client certificate (mutual TLS)")
        assert harness.calls == 0

    async def test_unregistered_certificate_is_refused_with_the_reason(
        self, registry: PeerRegistry, operator: x509.Certificate
    ) -> None:
        harness = build(registry, allow_plain_http=True)
        response = await get(harness.app, PEER_PATH, chain=[pem(operator)], tran_id="OPER000001M20240101000002")
        assert_refused(response, f"SERIALNUMBER {OPERATOR_REGNO} is not registered at the portal")
        assert response.headers["x-api-tran-id"] == "OPER000001M20240101000002"
        assert harness.calls == 0

    @pytest.mark.parametrize("tran_id", ["x" * 65, "bad\tid"])
    async def test_unusable_tran_id_is_not_echoed(
        self, registry: PeerRegistry, operator: x509.Certificate, tran_id: str
    ) -> None:
        harness = build(registry, allow_plain_http=False)
        response = await get(harness.app, PEER_PATH, chain=[pem(operator)], tran_id=tran_id)
        assert_refused(response, "is not registered")
        assert "x-api-tran-id" not in response.headers

    async def test_registered_certificate_reaches_the_handler_as_the_peer(
        self, registry: PeerRegistry, bank: x509.Certificate
    ) -> None:
        harness = build(registry, allow_plain_http=False)
        response = await get(harness.app, PEER_PATH, chain=[pem(bank)])
        assert response.status_code == 200
        assert response.json() == {
            "peer": {
                "org_codes": ["BANK000001", "CARD000001"],
                "thumbprint": thumbprint_s256(bank),
                "serial_num": BANK_REGNO,
            },
            "allows_bank": True,
        }
        assert harness.calls == 1

    async def test_peer_allows_only_its_own_org_codes(self, registry: PeerRegistry, operator: x509.Certificate) -> None:
        registry.apply(body(org("OPER000001", OPERATOR_REGNO, industry="operator")))
        harness = build(registry, allow_plain_http=False)
        response = await get(harness.app, PEER_PATH, chain=[pem(operator)])
        assert response.status_code == 200
        assert response.json()["peer"]["org_codes"] == ["OPER000001"]
        assert response.json()["allows_bank"] is False

    async def test_registry_not_yet_available_is_refused(self, bank: x509.Certificate) -> None:
        harness = build(None, allow_plain_http=False)
        response = await get(harness.app, PEER_PATH, chain=[pem(bank)])
        assert_refused(response, "the registry of organisations is not available yet")
        assert harness.calls == 0


RELAY_REGNO = "3030303030"


@pytest.fixture(scope="module")
def relay(authority: pki.CertificateAuthority) -> x509.Certificate:
    return authority.issue_organisation("RELAY00001", RELAY_REGNO)[1]


class TestForwardedClientCertificate:
    """Behind a relay (중계기관): the relay's connection carries the operator's certificate in RFC 9440 Client-Cert."""

    @pytest.fixture
    def relay_registry(self, registry: PeerRegistry) -> PeerRegistry:
        registry.apply(
            body(org("RELAY00001", RELAY_REGNO, industry="card", org_type="04"), org("OPER000001", OPERATOR_REGNO))
        )
        return registry

    def harness(self, registry: PeerRegistry, authority: pki.CertificateAuthority) -> Harness:
        return build(
            registry, allow_plain_http=False, relays=frozenset({"RELAY00001"}), trusted_cas=(authority.certificate,)
        )

    async def test_the_forwarded_certificate_is_the_peer(
        self,
        relay_registry: PeerRegistry,
        authority: pki.CertificateAuthority,
        relay: x509.Certificate,
        operator: x509.Certificate,
    ) -> None:
        harness = self.harness(relay_registry, authority)
        response = await get(
            harness.app, PEER_PATH, chain=[pem(relay)], extra={"client-cert": client_cert_header(operator)}
        )
        assert response.status_code == 200, response.text
        assert response.json()["peer"] == {
            "org_codes": ["OPER000001"],
            "thumbprint": thumbprint_s256(operator),
            "serial_num": OPERATOR_REGNO,
        }
        # without the header, the relay is itself the peer
        own = await get(harness.app, PEER_PATH, chain=[pem(relay)])
        assert own.json()["peer"]["org_codes"] == ["RELAY00001"]

    async def test_only_a_configured_relay_may_forward(
        self,
        relay_registry: PeerRegistry,
        authority: pki.CertificateAuthority,
        operator: x509.Certificate,
        bank: x509.Certificate,
    ) -> None:
        harness = self.harness(relay_registry, authority)
        # the operator itself (or any registered participant) cannot pose as another certificate
        response = await get(
            harness.app, PEER_PATH, chain=[pem(operator)], extra={"client-cert": client_cert_header(bank)}
        )
        assert_refused(response, "Client-Cert is accepted only from a relay")
        assert harness.calls == 0

    async def test_a_forwarded_certificate_of_another_ca_is_refused(
        self, relay_registry: PeerRegistry, authority: pki.CertificateAuthority, relay: x509.Certificate
    ) -> None:
        # same organisation and SERIALNUMBER as the registered operator, but not issued by a trusted CA
        forged = pki.CertificateAuthority.create("Forger").issue_organisation("OPER000001", OPERATOR_REGNO)[1]
        harness = self.harness(relay_registry, authority)
        response = await get(
            harness.app, PEER_PATH, chain=[pem(relay)], extra={"client-cert": client_cert_header(forged)}
        )
        assert_refused(response, "not issued by a trusted CA")
        assert harness.calls == 0

    @pytest.mark.parametrize("value", ["not-a-byte-sequence", ":!!!:", ":aGVsbG8=:", "::"])
    async def test_a_malformed_header_is_refused(
        self, relay_registry: PeerRegistry, authority: pki.CertificateAuthority, relay: x509.Certificate, value: str
    ) -> None:
        harness = self.harness(relay_registry, authority)
        response = await get(harness.app, PEER_PATH, chain=[pem(relay)], extra={"client-cert": value})
        assert response.status_code == 401
        assert response.json()["rsp_code"] == "40103"
        assert harness.calls == 0

    async def test_an_unregistered_forwarded_certificate_is_refused(
        self, registry: PeerRegistry, authority: pki.CertificateAuthority, relay: x509.Certificate
    ) -> None:
        registry.apply(body(org("RELAY00001", RELAY_REGNO, industry="card", org_type="04")))
        stranger = authority.issue_organisation("STRANGER01", "5555555555")[1]
        harness = self.harness(registry, authority)
        response = await get(
            harness.app, PEER_PATH, chain=[pem(relay)], extra={"client-cert": client_cert_header(stranger)}
        )
        assert_refused(response, "SERIALNUMBER 5555555555 is not registered")
