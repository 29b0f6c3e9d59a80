"""Who is on the other end of a mutual-TLS connection: the peer's client certificate checked against the portal's
registry (지원-002), and the ASGI middleware that refuses participant API calls from unregistered peers (40103).

The financial standard compares the certificate's subject SERIALNUMBER (the business registration number) with
the registered `serial_num`, so a re-issued certificate with the same SERIALNUMBER needs no re-registration; the
nationwide standard compares the certificate's fingerprint with the (at most three) registered fingerprints.
`PeerRegistry(mode=...)` does either (digest §2.1, §8). One business registration number may hold several
org_codes (one per industry), so a peer is a set of org_codes; the application then checks that the org_code
behind the credentials or token is one of them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from openmydata.kit import logging as log
from openmydata.kit.errors import PeerError, PeerUnavailable
from openmydata.kit.tls import certificate_fingerprint, peer_certificate, subject_serial_number, thumbprint_s256
from openmydata.standard.codes import CODES, RspCode

CheckMode = Literal["serial", "fingerprint"]
# Reads 지원-002 since a search_timestamp (None: everything); returns the response body.
FetchOrgs = Callable[[str | None], Awaitable[Mapping[str, Any]]]

_logger = log.get_logger("openmydata.peers")
PEER_STATE = "peer"


@dataclass(frozen=True)
class RegisteredOrg:
    """What the registry says about one org_code (industries merged)."""

    org_code: str
    org_type: str = ""
    serial_num: str | None = None
    fingerprints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Peer:
    """A verified caller: its certificate's identifiers and the org_codes registered for it."""

    serial_num: str | None
    fingerprint: str
    thumbprint: str
    org_codes: frozenset[str]
    org_types: frozenset[str] = field(default_factory=frozenset)


class PeerRefused(Exception):
    """The peer's certificate does not match the registry; `reason` says why in plain words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _fingerprints(entry: Mapping[str, Any]) -> tuple[str, ...]:
    items = entry.get("cert_fingerprint_list") or []
    return tuple(str(item.get("cert_fingerprint", "")).lower() for item in items if item.get("cert_fingerprint"))


class PeerRegistry:
    """The organisations' registered certificate data, kept from 지원-002 (deltas by search_timestamp).

    Re-read when older than `max_age_s`, and on an unknown certificate at most every `min_refetch_s` (a newly
    registered or rotated certificate is recognised without waiting). `fixed` entries are known out of band
    (an operator knows the portal's certificate this way: the portal is not in its own registry).
    """

    def __init__(
        self,
        fetch: FetchOrgs | None,
        *,
        mode: CheckMode = "serial",
        max_age_s: float = 300.0,
        min_refetch_s: float = 2.0,
        fixed: Iterable[RegisteredOrg] = (),
        clock: Callable[[], float] = time.monotonic,
    ):
        self.fetch = fetch
        self.mode = mode
        self.max_age_s = max_age_s
        self.min_refetch_s = min_refetch_s
        self.clock = clock
        self._fixed = {org.org_code: org for org in fixed}
        self._rows: dict[tuple[str, str], RegisteredOrg] = {}
        self._search_timestamp: str | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    def orgs(self) -> dict[str, RegisteredOrg]:
        """org_code → what is registered for it (fixed entries included)."""
        merged: dict[str, RegisteredOrg] = {}
        for (org_code, _industry), row in self._rows.items():
            merged.setdefault(org_code, row)
        merged.update(self._fixed)
        return merged

    def apply(self, body: Mapping[str, Any], *, full: bool = False) -> None:
        """Apply one 지원-002 answer; a `full` answer (asked without search_timestamp) replaces the whole view, so
        organisations no longer listed are forgotten."""
        if full:
            self._rows = {}
        for entry in body.get("org_list") or []:
            org_code = str(entry.get("org_code") or "")
            if not org_code:
                continue
            key = (org_code, str(entry.get("industry") or ""))
            if entry.get("op_type") == "D":
                self._rows.pop(key, None)
                continue
            self._rows[key] = RegisteredOrg(
                org_code=org_code,
                org_type=str(entry.get("org_type") or ""),
                serial_num=str(entry["serial_num"]) if entry.get("serial_num") else None,
                fingerprints=_fingerprints(entry),
            )
        if body.get("search_timestamp"):
            self._search_timestamp = str(body["search_timestamp"])

    async def refresh(self, *, force: bool = False) -> bool:
        """Read the changes since the last read; False when the portal could not be reached (the cached view stays)."""
        if self.fetch is None:
            return False
        async with self._lock:
            now = self.clock()
            if not force and now - self._fetched_at < self.min_refetch_s:
                return False
            self._fetched_at = now
            since = self._search_timestamp
            try:
                body = await self.fetch(since)
            except (PeerUnavailable, PeerError) as exc:
                _logger.warning("peer registry refresh failed", peer="portal", reason=str(exc))
                return False
            self.apply(body, full=since is None)
            return True

    def _match(self, serial: str | None, fingerprint: str) -> list[RegisteredOrg]:
        """Registry entries by the mode's rule; fixed entries (configured, without registered fingerprints) match
        by SERIALNUMBER in either mode."""
        found: dict[str, RegisteredOrg] = {}
        # Every (org, industry) row counts: rows of one org_code could carry different certificate data.
        for org in [*self._rows.values(), *self._fixed.values()]:
            by_serial = bool(serial) and org.serial_num == serial
            if self.mode == "fingerprint" and org.org_code not in self._fixed:
                matched = fingerprint in org.fingerprints
            else:
                matched = by_serial
            if matched:
                found[org.org_code] = org
        return list(found.values())

    async def identify(self, certificate: x509.Certificate) -> Peer:
        """The registered peer holding `certificate`, or `PeerRefused`."""
        serial = subject_serial_number(certificate)
        fingerprint = certificate_fingerprint(certificate)
        if self.clock() - self._fetched_at > self.max_age_s:
            await self.refresh()
        matches = self._match(serial, fingerprint)
        if not matches and await self.refresh():
            matches = self._match(serial, fingerprint)
        if not matches:
            raise PeerRefused(self._explain(serial, fingerprint))
        return Peer(
            serial_num=serial,
            fingerprint=fingerprint,
            thumbprint=thumbprint_s256(certificate),
            org_codes=frozenset(org.org_code for org in matches),
            org_types=frozenset(org.org_type for org in matches if org.org_type),
        )

    def _explain(self, serial: str | None, fingerprint: str) -> str:
        if self.mode == "fingerprint":
            holders = [org.org_code for org in self.orgs().values() if serial and org.serial_num == serial]
            if holders:
                return (
                    f"certificate fingerprint {fingerprint[:16]}… is not among those registered for "
                    f"{', '.join(sorted(holders))} (SERIALNUMBER {serial}); register the new certificate at the portal"
                )
            return f"certificate fingerprint {fingerprint[:16]}… is not registered at the portal"
        if not serial:
            return "the client certificate has no subject SERIALNUMBER (business registration number)"
        return f"SERIALNUMBER {serial} is not registered at the portal (or the organisation was deregistered)"


def peer_of(request: Request) -> Peer | None:
    """The verified peer of this request; None on a development plain-HTTP call."""
    peer = getattr(request.state, PEER_STATE, None)
    return peer if isinstance(peer, Peer) else None


def peer_allows(request: Request, org_code: str) -> bool:
    """Whether the request's peer certificate is registered for `org_code` (always true without mutual TLS, which
    only the development setting allows)."""
    peer = peer_of(request)
    return peer is None or org_code in peer.org_codes


CLIENT_CERT_HEADER = b"client-cert"  # RFC 9440: the client certificate a TLS-terminating relay forwards


def client_cert_header(certificate: x509.Certificate) -> str:
    """The RFC 9440 `Client-Cert` field value of `certificate`: its DER as a structured-field byte sequence."""
    return ":" + base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii") + ":"


def _parse_client_cert(value: str) -> x509.Certificate:
    text = value.strip()
    if len(text) < 3 or not (text.startswith(":") and text.endswith(":")):
        raise PeerRefused("the Client-Cert header is not an RFC 9440 byte sequence")
    try:
        return x509.load_der_x509_certificate(base64.b64decode(text[1:-1], validate=True))
    except (ValueError, binascii.Error) as exc:
        raise PeerRefused("the Client-Cert header does not hold a DER certificate") from exc


def _check_forwarded(certificate: x509.Certificate, issuers: Iterable[x509.Certificate], now: datetime) -> None:
    """The relay checked the chain in its own handshake; the certificate it forwards is checked again here: issued
    by one of this participant's trusted CAs, and valid now."""
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise PeerRefused("the forwarded client certificate is not valid now")
    for issuer in issuers:
        if issuer.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return
    raise PeerRefused("the forwarded client certificate is not issued by a trusted CA")


class PeerCheckMiddleware:
    """Participant API paths (`is_peer_path`) need a client certificate registered at the portal: the connection's
    certificate (ASGI TLS extension, see `kit.tls`) is identified with `registry`; a refused or missing one gets
    401 40103 and a log line saying why. With `allow_plain_http` (development only), a request that came without
    TLS passes unidentified. Other paths (the person's pages, admin) pass untouched.

    Behind a relay (중계기관, `provider.relay`) the connection is the relay's: when the connection's peer holds one
    of the `relays` org_codes, the certificate the relay forwards in RFC 9440 `Client-Cert` (the operator's, whose
    handshake the relay terminated) is checked against `trusted_cas()` and identified instead, so credentials and
    token binding (`cnf.x5t#S256`) are those of the operator. The header from any other peer is refused.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        registry: Callable[[], PeerRegistry | None],
        is_peer_path: Callable[[str], bool],
        allow_plain_http: bool,
        relays: frozenset[str] = frozenset(),
        trusted_cas: Callable[[], Iterable[x509.Certificate]] = tuple,
    ):
        self.app = app
        self.registry = registry
        self.is_peer_path = is_peer_path
        self.allow_plain_http = allow_plain_http
        self.relays = relays
        self.trusted_cas = trusted_cas

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.is_peer_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        over_tls = bool(scope.get("extensions", {}).get("tls"))
        certificate = peer_certificate(scope)
        registry = self.registry()
        if certificate is None:
            if not over_tls and self.allow_plain_http:
                await self.app(scope, receive, send)
                return
            await self._refuse(scope, send, "participant APIs need a client certificate (mutual TLS)")
            return
        if registry is None:
            await self._refuse(scope, send, "the registry of organisations is not available yet")
            return
        try:
            peer = await registry.identify(certificate)
            forwarded = _header(scope, CLIENT_CERT_HEADER)
            if forwarded is not None:
                if not peer.org_codes & self.relays:
                    raise PeerRefused("Client-Cert is accepted only from a relay this institution is behind")
                original = _parse_client_cert(forwarded)
                _check_forwarded(original, self.trusted_cas(), datetime.now(UTC))
                peer = await registry.identify(original)
        except PeerRefused as exc:
            await self._refuse(scope, send, exc.reason)
            return
        scope.setdefault("state", {})[PEER_STATE] = peer
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, reason: str) -> None:
        _logger.warning("peer certificate refused", path=scope["path"], reason=reason)
        info = CODES[RspCode.CERT_CHECK_FAILED]
        body = json.dumps(
            {"rsp_code": RspCode.CERT_CHECK_FAILED.value, "rsp_msg": f"{info.message}: {reason}"}, ensure_ascii=False
        ).encode("utf-8")
        headers = [(b"content-type", b"application/json; charset=UTF-8"), (b"content-length", str(len(body)).encode())]
        tran_id = _header(scope, b"x-api-tran-id")
        if tran_id is not None and tran_id.isascii() and tran_id.isprintable() and 0 < len(tran_id) <= 64:
            headers.append((b"x-api-tran-id", tran_id.encode("ascii")))
        await send({"type": "http.response.start", "status": info.http_status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None
