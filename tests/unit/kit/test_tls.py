from __future__ import annotations

import base64
import hashlib
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from openmydata.kit import pki, tls

HOSTS = ["127.0.0.1", "localhost"]
# In TLS 1.3 the client finishes its side of the handshake before the server has checked the client certificate,
# so the server's refusal reaches the client on its first read (or, if the connection is already gone, write).
REFUSED_AFTER_HANDSHAKE = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class Party:
    key_pem: bytes
    cert_pem: bytes
    certificate: x509.Certificate


def _party(authority: pki.CertificateAuthority, org_code: str, regno: str) -> Party:
    key, certificate = authority.issue_organisation(org_code, regno, org_name=org_code, hosts=HOSTS)
    return Party(pki.key_to_pem(key), pki.cert_to_pem(certificate), certificate)


@pytest.fixture(scope="module")
def authority() -> pki.CertificateAuthority:
    return pki.CertificateAuthority.create("OpenMyData TLS Test CA")


@pytest.fixture(scope="module")
def server_party(authority: pki.CertificateAuthority) -> Party:
    return _party(authority, "PROV000001", "1234567890")


@pytest.fixture(scope="module")
def client_party(authority: pki.CertificateAuthority) -> Party:
    return _party(authority, "OPER000001", "2208162517")


async def whoami(request: Request) -> JSONResponse:
    request.app.state.calls += 1
    certificate = tls.peer_certificate(request.scope)
    if certificate is None:
        return JSONResponse({"serial_number": None}, status_code=401)
    return JSONResponse(
        {
            "serial_number": tls.subject_serial_number(certificate),
            "thumbprint": tls.thumbprint_s256(certificate),
            "fingerprint": tls.certificate_fingerprint(certificate),
            "tls_version": request.scope["extensions"]["tls"]["tls_version"],
        }
    )


@pytest.fixture
async def server(authority: pki.CertificateAuthority, server_party: Party) -> AsyncIterator[tls.TlsRunningServer]:
    app = Starlette(routes=[Route("/whoami", whoami)])
    app.state.calls = 0
    running = await tls.start_tls_server(
        "whoami",
        app,
        cert_pem=server_party.cert_pem,
        key_pem=server_party.key_pem,
        ca_pems=[authority.certificate_pem()],
    )
    try:
        yield running
    finally:
        await running.stop()


def _url(server: tls.TlsRunningServer) -> str:
    return f"https://localhost:{server.port}"


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def server_calls(server: tls.TlsRunningServer) -> int:
    app = server.server.config.app
    assert isinstance(app, Starlette)
    return int(app.state.calls)


class TestContexts:
    def test_server_context_is_tls13_only_and_requires_a_client_certificate(
        self, authority: pki.CertificateAuthority, server_party: Party
    ) -> None:
        context = tls.server_context(server_party.cert_pem, server_party.key_pem, [authority.certificate_pem()])
        assert context.minimum_version == ssl.TLSVersion.TLSv1_3
        assert context.maximum_version == ssl.TLSVersion.TLSv1_3
        assert context.verify_mode == ssl.CERT_REQUIRED
        # OpenSSL prints the serial in hex with an even number of digits, so compare numbers, not text.
        assert [int(str(item["serialNumber"]), 16) for item in context.get_ca_certs()] == [
            authority.certificate.serial_number
        ]

    def test_client_context_checks_the_server_and_its_host_name(
        self, authority: pki.CertificateAuthority, client_party: Party
    ) -> None:
        context = tls.client_context(client_party.cert_pem, client_party.key_pem, [authority.certificate_pem()])
        assert context.minimum_version == ssl.TLSVersion.TLSv1_3
        assert context.maximum_version == ssl.TLSVersion.TLSv1_3
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True
        assert len(context.get_ca_certs()) == 1

    def test_no_trusted_ca_is_refused(self, client_party: Party) -> None:
        with pytest.raises(ValueError, match="trusted CA"):
            tls.client_context(client_party.cert_pem, client_party.key_pem, [])


class TestCertificateHelpers:
    def test_fingerprint_and_thumbprint_hash_the_der_certificate(self, client_party: Party) -> None:
        digest = hashlib.sha256(_der(client_party.certificate)).digest()
        assert tls.certificate_fingerprint(client_party.certificate) == digest.hex()
        thumbprint = tls.thumbprint_s256(client_party.certificate)
        assert "=" not in thumbprint
        assert len(thumbprint) == 43
        assert base64.urlsafe_b64decode(thumbprint + "=") == digest

    def test_peer_certificate_reads_the_tls_extension(self, client_party: Party) -> None:
        scope = {"extensions": {"tls": {"client_cert_chain": [client_party.cert_pem.decode("ascii")]}}}
        assert tls.peer_certificate(scope) == client_party.certificate

    @pytest.mark.parametrize(
        "scope",
        [{}, {"extensions": {}}, {"extensions": {"tls": None}}, {"extensions": {"tls": {"client_cert_chain": []}}}],
    )
    def test_peer_certificate_is_none_without_one(self, scope: dict[str, object]) -> None:
        assert tls.peer_certificate(scope) is None


class TestStartTlsServer:
    async def test_client_certificate_reaches_the_app(
        self, server: tls.TlsRunningServer, authority: pki.CertificateAuthority, client_party: Party
    ) -> None:
        assert server.url.startswith("https://127.0.0.1:")
        context = tls.client_context(client_party.cert_pem, client_party.key_pem, [authority.certificate_pem()])
        async with httpx.AsyncClient(verify=context, base_url=_url(server)) as client:
            first = await client.get("/whoami")
            second = await client.get("/whoami")
        assert first.status_code == 200
        assert first.json() == {
            "serial_number": "2208162517",
            "thumbprint": tls.thumbprint_s256(client_party.certificate),
            "fingerprint": tls.certificate_fingerprint(client_party.certificate),
            "tls_version": 0x0304,
        }
        assert second.json() == first.json()
        assert server_calls(server) == 2

    async def test_the_ip_address_url_verifies(
        self, server: tls.TlsRunningServer, authority: pki.CertificateAuthority, client_party: Party
    ) -> None:
        """kit.pki writes IP hosts as IP-address SANs, which is what TLS matches an IP URL against."""
        context = tls.client_context(client_party.cert_pem, client_party.key_pem, [authority.certificate_pem()])
        async with httpx.AsyncClient(verify=context, base_url=server.url) as client:
            response = await client.get("/whoami")
        assert response.status_code == 200

    async def test_client_without_certificate_is_refused(
        self, server: tls.TlsRunningServer, authority: pki.CertificateAuthority
    ) -> None:
        context = ssl.create_default_context(cadata=authority.certificate_pem().decode("ascii"))
        context.minimum_version = ssl.TLSVersion.TLSv1_3
        async with httpx.AsyncClient(verify=context, base_url=_url(server)) as client:
            with pytest.raises(REFUSED_AFTER_HANDSHAKE):
                await client.get("/whoami")
        assert server_calls(server) == 0

    async def test_tls12_is_refused(
        self, server: tls.TlsRunningServer, authority: pki.CertificateAuthority, client_party: Party
    ) -> None:
        context = tls.client_context(client_party.cert_pem, client_party.key_pem, [authority.certificate_pem()])
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        async with httpx.AsyncClient(verify=context, base_url=_url(server)) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get("/whoami")
        assert server_calls(server) == 0

    async def test_client_certificate_from_another_ca_is_refused(
        self, server: tls.TlsRunningServer, authority: pki.CertificateAuthority
    ) -> None:
        stranger = _party(pki.CertificateAuthority.create("Another CA"), "OPER000002", "1112223334")
        context = tls.client_context(stranger.cert_pem, stranger.key_pem, [authority.certificate_pem()])
        async with httpx.AsyncClient(verify=context, base_url=_url(server)) as client:
            with pytest.raises(REFUSED_AFTER_HANDSHAKE):
                await client.get("/whoami")
        assert server_calls(server) == 0

    async def test_server_from_another_ca_is_refused_by_the_client(
        self, server: tls.TlsRunningServer, client_party: Party
    ) -> None:
        other = pki.CertificateAuthority.create("Another CA")
        context = tls.client_context(client_party.cert_pem, client_party.key_pem, [other.certificate_pem()])
        async with httpx.AsyncClient(verify=context, base_url=_url(server)) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get("/whoami")
