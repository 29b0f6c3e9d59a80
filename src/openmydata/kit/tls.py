"""Mutual TLS 1.3 between participants: SSL contexts, a uvicorn server that exposes the client certificate, and
helpers that read it back in the application.

The peer certificate reaches the app through the ASGI TLS extension (design NOTES "Client certificates in the
app", option (a)): `TlsHttpToolsProtocol` (uvicorn's C-parser protocol) puts
`scope["extensions"]["tls"]["client_cert_chain"]` (PEM strings, the peer's leaf certificate first) into every HTTP
request's scope. Only plain HTTP/1.1 requests get it; WebSocket
upgrades do not. Applications read it with `peer_certificate(scope)` and compare the SERIALNUMBER
(`subject_serial_number`) with the portal's registry or bind tokens to `thumbprint_s256` (RFC 8705 `x5t#S256`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import ssl
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from openmydata.kit.pki import subject_serial_number
from openmydata.kit.server import KEEP_ALIVE_S, RunningServer, port_of, reserve_port

__all__ = [
    "TlsFiles",
    "TlsHttpToolsProtocol",
    "TlsIdentity",
    "TlsRunningServer",
    "certificate_fingerprint",
    "client_context",
    "peer_certificate",
    "server_context",
    "start_tls_server",
    "subject_serial_number",
    "thumbprint_s256",
]

TLS_EXTENSION = "tls"
TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def _ca_data(ca_pems: Iterable[bytes]) -> str:
    bundle = "".join(pem.decode("ascii").strip() + "\n" for pem in ca_pems)
    if not bundle:
        raise ValueError("at least one trusted CA certificate is needed")
    return bundle


def _load_cert_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    # `ssl` reads the certificate and key only from files; they live just as long as the call.
    with tempfile.TemporaryDirectory(prefix="openmydata-tls-") as directory:
        cert_file = Path(directory) / "cert.pem"
        key_file = Path(directory) / "key.pem"
        cert_file.write_bytes(cert_pem)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        context.load_cert_chain(cert_file, key_file)


def _tls13_only(context: ssl.SSLContext) -> None:
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.maximum_version = ssl.TLSVersion.TLSv1_3


def server_context(cert_pem: bytes, key_pem: bytes, ca_pems: Iterable[bytes]) -> ssl.SSLContext:
    """A TLS 1.3-only server context that requires a client certificate issued by one of `ca_pems`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _tls13_only(context)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=_ca_data(ca_pems))
    _load_cert_chain(context, cert_pem, key_pem)
    return context


def client_context(cert_pem: bytes, key_pem: bytes, ca_pems: Iterable[bytes]) -> ssl.SSLContext:
    """A TLS 1.3-only client context that presents `cert_pem` and checks the server's certificate and host name
    against `ca_pems` only (no system trust store)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    _tls13_only(context)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    context.load_verify_locations(cadata=_ca_data(ca_pems))
    _load_cert_chain(context, cert_pem, key_pem)
    return context


@dataclass(frozen=True)
class TlsFiles:
    """Where one participant's TLS material lives: its certificate (PEM, leaf first), its private key and the
    CA bundle it trusts for its peers."""

    cert_file: Path
    key_file: Path
    ca_file: Path

    def read(self) -> tuple[bytes, bytes, bytes]:
        return self.cert_file.read_bytes(), self.key_file.read_bytes(), self.ca_file.read_bytes()


class TlsIdentity:
    """A participant's certificate, key and trusted CAs, read from `TlsFiles`, and the SSL contexts built from them.

    `server_context()` is one long-lived context: `reload()` loads a rotated certificate (and CA bundle) into it, so
    a running server presents the new certificate on every new connection without a restart. `client_context()`
    is rebuilt per `generation`; `kit.http.make_client(tls=...)` opens new connections with it after a reload.
    """

    def __init__(self, files: TlsFiles):
        self.files = files
        self.generation = 0
        self._material = files.read()
        self.certificate = x509.load_pem_x509_certificate(self._material[0])
        self._server: ssl.SSLContext | None = None
        self._client: tuple[int, ssl.SSLContext] | None = None

    @property
    def ca_pems(self) -> list[bytes]:
        return [self._material[2]]

    @property
    def ca_certificates(self) -> list[x509.Certificate]:
        """The trusted CAs (the current bundle), e.g. to check a certificate a relay forwards."""
        return x509.load_pem_x509_certificates(self._material[2])

    @property
    def thumbprint(self) -> str:
        return thumbprint_s256(self.certificate)

    def server_context(self) -> ssl.SSLContext:
        if self._server is None:
            cert, key, ca = self._material
            self._server = server_context(cert, key, [ca])
        return self._server

    def client_context(self) -> ssl.SSLContext:
        if self._client is None or self._client[0] != self.generation:
            cert, key, ca = self._material
            self._client = (self.generation, client_context(cert, key, [ca]))
        return self._client[1]

    def reload(self) -> bool:
        """Re-read the files; True when anything changed (the new certificate is then used for new connections)."""
        material = self.files.read()
        if material == self._material:
            return False
        certificate = x509.load_pem_x509_certificate(material[0])
        cert, key, ca = material
        # Check the whole set on a scratch context first: loading a mismatched pair into the live context would
        # leave it with the new certificate and no usable key (every handshake failing until the next reload).
        scratch = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        _load_cert_chain(scratch, cert, key)
        scratch.load_verify_locations(cadata=_ca_data([ca]))
        if self._server is not None:
            # Trusted CAs are only ever added to a live context: removing a CA takes a restart.
            _load_cert_chain(self._server, cert, key)
            self._server.load_verify_locations(cadata=_ca_data([ca]))
        self._material = material
        self.certificate = certificate
        self.generation += 1
        return True

    async def watch(self, interval_s: float, on_change: Callable[[TlsIdentity], None] | None = None) -> None:
        """Reload every `interval_s` seconds until cancelled (a rotation on disk takes effect within that time)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                changed = await asyncio.to_thread(self.reload)
            except (OSError, ValueError, ssl.SSLError):
                continue  # a half-written rotation: the next round reads it whole
            if changed and on_change is not None:
                on_change(self)


def _tls_extension(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> dict[str, Any] | None:
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    chain: list[str] = []
    name: str | None = None
    if der:
        certificate = x509.load_der_x509_certificate(der)
        chain.append(certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"))
        name = certificate.subject.rfc4514_string()
    version = ssl_object.version()
    return {
        "server_cert": None,
        "client_cert_chain": chain,
        "client_cert_name": name,
        "client_cert_error": None,
        "tls_version": TLS_VERSIONS.get(version) if version else None,
        "cipher_suite": None,
    }


class TlsHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (its C parser) that adds the ASGI TLS extension (`client_cert_chain`) to every
    HTTP scope."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tls: dict[str, Any] | None = None
        inner: ASGIApp = self.app

        async def with_tls(scope: Scope, receive: Receive, send: Send) -> None:
            if self._tls is not None:
                extensions = scope.setdefault("extensions", {})
                extensions[TLS_EXTENSION] = {**self._tls, "client_cert_chain": list(self._tls["client_cert_chain"])}
            await inner(scope, receive, send)

        self.app = with_tls

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # asyncio calls this only after the TLS handshake, so the peer certificate is known here.
        self._tls = _tls_extension(transport.get_extra_info("ssl_object"))
        super().connection_made(transport)


@dataclass
class TlsRunningServer(RunningServer):
    watcher: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.cancel()
        await super().stop()


async def start_tls_server(
    name: str,
    app: ASGIApp,
    *,
    cert_pem: bytes = b"",
    key_pem: bytes = b"",
    ca_pems: Iterable[bytes] = (),
    identity: TlsIdentity | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    log_level: str = "warning",
    lifespan: Literal["on", "off"] = "on",
    reload_interval_s: float | None = None,
    sock: socket.socket | None = None,
) -> TlsRunningServer:
    """Like `kit.server.start_server`, but serving HTTPS with TLS 1.3 only and a required client certificate
    issued by one of `ca_pems`; the app finds the client certificate with `peer_certificate(scope)`. With
    `identity`, its material is used and its `reload()` changes what the running server presents; with
    `reload_interval_s` too, the server re-reads the identity's files that often (certificate rotation)."""
    if identity is not None:
        cert_pem, key_pem, ca_bundle = identity.files.read()
        ca_pems = [ca_bundle]
    cas = list(ca_pems)
    if sock is None and port is None:
        sock = reserve_port(host)
    if sock is not None:
        port = port_of(sock)
    assert port is not None
    with tempfile.TemporaryDirectory(prefix="openmydata-tls-") as directory:
        cert_file = Path(directory) / "cert.pem"
        key_file = Path(directory) / "key.pem"
        ca_file = Path(directory) / "ca.pem"
        cert_file.write_bytes(cert_pem)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        ca_file.write_text(_ca_data(cas))
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan=lifespan,
            timeout_keep_alive=KEEP_ALIVE_S,
            http=TlsHttpToolsProtocol,
            ssl_certfile=cert_file,
            ssl_keyfile=key_file,
            ssl_ca_certs=ca_file,
            ssl_cert_reqs=ssl.CERT_REQUIRED,
        )
        config.load()
    # uvicorn's own context allows TLS 1.2; replace it (Server.serve keeps a loaded config as it is).
    config.ssl = identity.server_context() if identity is not None else server_context(cert_pem, key_pem, cas)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock] if sock is not None else None), name=f"server:{name}")
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"{name} stopped during start-up")
        await asyncio.sleep(0.02)
    watcher = None
    if identity is not None and reload_interval_s:
        watcher = asyncio.create_task(identity.watch(reload_interval_s), name=f"tls-reload:{name}")
    return TlsRunningServer(name=name, host=host, port=port, server=server, task=task, watcher=watcher)


def peer_certificate(scope: Mapping[str, Any]) -> x509.Certificate | None:
    """The TLS client certificate of the request (from the ASGI TLS extension), or None without one."""
    tls = scope.get("extensions", {}).get(TLS_EXTENSION)
    if not tls:
        return None
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    pem = chain[0]
    return x509.load_pem_x509_certificate(pem.encode("ascii") if isinstance(pem, str) else pem)


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lowercase hex."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def thumbprint_s256(certificate: x509.Certificate) -> str:
    """RFC 8705 `x5t#S256`: base64url (unpadded) SHA-256 of the DER certificate, as in a token's `cnf` claim."""
    digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
