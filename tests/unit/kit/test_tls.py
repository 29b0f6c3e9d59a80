from __future__ import annotations

import asyncio
import base64
import hashlib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from openmydata.kit import pki, tls
from openmydata.kit.http import make_client

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


def _write_files(folder: Path, party: Party, ca_pem: bytes) -> tls.TlsFiles:
    """The party's material on disk, as a participant's `tls_*_file` settings point at it. The key is written
    before the certificate, as `CertificateStore.issue` does."""
    folder.mkdir(parents=True, exist_ok=True)
    files = tls.TlsFiles(cert_file=folder / "cert.pem", key_file=folder / "key.pem", ca_file=folder / "ca.pem")
    files.ca_file.write_bytes(ca_pem)
    files.key_file.write_bytes(party.key_pem)
    files.cert_file.write_bytes(party.cert_pem)
    return files


def _rotate(files: tls.TlsFiles, party: Party) -> None:
    files.key_file.write_bytes(party.key_pem)
    files.cert_file.write_bytes(party.cert_pem)


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for a background task's effect (here: the identity watcher's next round); fails after `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


async def _presented_certificate(port: int, context: ssl.SSLContext) -> x509.Certificate:
    """The certificate a server presents on a new connection (handshake only, no request)."""
    _reader, writer = await asyncio.open_connection("localhost", port, ssl=context)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        assert ssl_object is not None
        der = ssl_object.getpeercert(binary_form=True)
    finally:
        writer.close()
        await writer.wait_closed()
    assert der is not None
    return x509.load_der_x509_certificate(der)


class TestTlsFiles:
    def test_read_returns_certificate_key_and_ca_bundle(
        self, tmp_path: Path, authority: pki.CertificateAuthority, client_party: Party
    ) -> None:
        files = _write_files(tmp_path, client_party, authority.certificate_pem())
        assert files.read() == (client_party.cert_pem, client_party.key_pem, authority.certificate_pem())


class TestTlsIdentity:
    def test_reads_the_files(self, tmp_path: Path, authority: pki.CertificateAuthority, client_party: Party) -> None:
        identity = tls.TlsIdentity(_write_files(tmp_path, client_party, authority.certificate_pem()))
        assert identity.generation == 0
        assert identity.certificate == client_party.certificate
        assert identity.thumbprint == tls.thumbprint_s256(client_party.certificate)
        assert identity.ca_pems == [authority.certificate_pem()]

    def test_reload_of_unchanged_files_changes_nothing(
        self, tmp_path: Path, authority: pki.CertificateAuthority, client_party: Party
    ) -> None:
        identity = tls.TlsIdentity(_write_files(tmp_path, client_party, authority.certificate_pem()))
        client = identity.client_context()
        server = identity.server_context()
        assert identity.reload() is False
        assert identity.generation == 0
        assert identity.certificate == client_party.certificate
        assert identity.client_context() is client
        assert identity.server_context() is server

    def test_reload_picks_up_a_rotated_certificate(
        self, tmp_path: Path, authority: pki.CertificateAuthority, client_party: Party
    ) -> None:
        files = _write_files(tmp_path, client_party, authority.certificate_pem())
        identity = tls.TlsIdentity(files)
        old_client = identity.client_context()
        old_server = identity.server_context()
        rotated = _party(authority, "OPER000001", "2208162517")
        _rotate(files, rotated)

        assert identity.reload() is True
        assert identity.generation == 1
        assert identity.certificate == rotated.certificate
        assert identity.certificate != client_party.certificate
        assert identity.thumbprint == tls.thumbprint_s256(rotated.certificate)
        assert identity.thumbprint != tls.thumbprint_s256(client_party.certificate)
        # The client context is rebuilt per generation; the server context is the same object, reloaded in place.
        assert identity.client_context() is not old_client
        assert identity.server_context() is old_server
        # Nothing changed since: a second reload is a no-op.
        assert identity.reload() is False
        assert identity.generation == 1

    def test_a_half_written_rotation_is_not_taken(
        self, tmp_path: Path, authority: pki.CertificateAuthority, client_party: Party
    ) -> None:
        """The new key is on disk but the certificate is still the old one: the pair does not load, and the
        identity keeps the old certificate (its `watch` retries on the next round)."""
        files = _write_files(tmp_path, client_party, authority.certificate_pem())
        identity = tls.TlsIdentity(files)
        identity.server_context()
        rotated = _party(authority, "OPER000001", "2208162517")
        files.key_file.write_bytes(rotated.key_pem)

        with pytest.raises(ssl.SSLError):
            identity.reload()
        assert identity.generation == 0
        assert identity.certificate == client_party.certificate

        files.cert_file.write_bytes(rotated.cert_pem)
        assert identity.reload() is True
        assert identity.certificate == rotated.certificate

    async def test_a_certificate_written_before_its_key_leaves_the_running_server_intact(
        self, tmp_path: Path, authority: pki.CertificateAuthority, server_party: Party, client_party: Party
    ) -> None:
        """The new certificate is on disk before its key: the reload fails without touching the live context, so
        the server goes on presenting the old certificate (and completing handshakes) until the key arrives."""
        files = _write_files(tmp_path, server_party, authority.certificate_pem())
        identity = tls.TlsIdentity(files)
        context = tls.client_context(client_party.cert_pem, client_party.key_pem, [authority.certificate_pem()])
        running = await tls.start_tls_server("half-rotated", Starlette(), identity=identity)
        try:
            rotated = _party(authority, "PROV000001", "1234567890")
            files.cert_file.write_bytes(rotated.cert_pem)
            with pytest.raises(ssl.SSLError):
                identity.reload()
            assert identity.generation == 0
            assert await _presented_certificate(running.port, context) == server_party.certificate
            files.key_file.write_bytes(rotated.key_pem)
            assert identity.reload() is True
            assert await _presented_certificate(running.port, context) == rotated.certificate
        finally:
            await running.stop()

    async def test_running_server_presents_the_rotated_certificate_on_new_connections(
        self, tmp_path: Path, authority: pki.CertificateAuthority, server_party: Party, client_party: Party
    ) -> None:
        files = _write_files(tmp_path, server_party, authority.certificate_pem())
        identity = tls.TlsIdentity(files)
        context = tls.client_context(client_party.cert_pem, client_party.key_pem, [authority.certificate_pem()])
        running = await tls.start_tls_server("rotating", Starlette(), identity=identity, reload_interval_s=0.05)
        try:
            assert running.watcher is not None
            assert await _presented_certificate(running.port, context) == server_party.certificate

            rotated = _party(authority, "PROV000001", "1234567890")
            _rotate(files, rotated)
            await _until(lambda: identity.generation >= 1)

            assert identity.certificate == rotated.certificate
            assert await _presented_certificate(running.port, context) == rotated.certificate
        finally:
            await running.stop()
        assert running.watcher.cancelled()


class TestMakeClient:
    async def test_presents_the_rotated_client_certificate_after_reload(
        self,
        tmp_path: Path,
        server: tls.TlsRunningServer,
        authority: pki.CertificateAuthority,
        client_party: Party,
    ) -> None:
        files = _write_files(tmp_path, client_party, authority.certificate_pem())
        identity = tls.TlsIdentity(files)
        rotated = _party(authority, "OPER000001", "2208162517")
        async with make_client(_url(server), tls=identity) as client:
            first = await client.get("/whoami")
            _rotate(files, rotated)
            # Until the identity reloads, the client goes on presenting what it loaded.
            unchanged = await client.get("/whoami")
            assert identity.reload() is True
            after = await client.get("/whoami")
            again = await client.get("/whoami")

        assert first.status_code == 200
        assert first.json()["fingerprint"] == tls.certificate_fingerprint(client_party.certificate)
        assert unchanged.json()["fingerprint"] == tls.certificate_fingerprint(client_party.certificate)
        assert after.status_code == 200
        assert after.json()["fingerprint"] == tls.certificate_fingerprint(rotated.certificate)
        assert after.json()["thumbprint"] == identity.thumbprint
        assert after.json()["serial_number"] == "2208162517"
        assert again.json() == after.json()
        assert server_calls(server) == 4

    async def test_checks_the_server_against_the_identity_ca_only(
        self, tmp_path: Path, server: tls.TlsRunningServer, client_party: Party
    ) -> None:
        other = pki.CertificateAuthority.create("Another CA")
        identity = tls.TlsIdentity(_write_files(tmp_path, client_party, other.certificate_pem()))
        async with make_client(_url(server), tls=identity) as client:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get("/whoami")
        assert server_calls(server) == 0
