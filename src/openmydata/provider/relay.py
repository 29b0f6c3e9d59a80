"""Relay mode (중계기관): one instance fronts several institutions' org_codes.

Institutions that do not build the standard's APIs themselves are registered at the portal behind a relay (지원-002
`org_type` 02, `relay_org_code` = the relay, `domain` = the relay's). An operator calls the relay exactly as it would
call the institution; the relay reads the call's `org_code` (query string, JSON body or form), and forwards it over
its own mutual-TLS link to that institution's system (`RelaySettings.fronted`: org_code → base URL), which is a
provider started with `relay_org_codes` naming this relay. The operator's certificate travels along in RFC 9440
`Client-Cert` (the relay terminated its handshake), so the institution checks credentials and binds tokens to the
operator exactly as on a direct call (`standard.peers.PeerCheckMiddleware`).

What only a relay answers (digest §2.7 and §1):

- `40303` (403): the org_code is not one this relay fronts (or no org_code was sent);
- `50005` (500, 정보제공자 서비스 불가): the fronted institution did not answer (connection refused or reset, timeout,
  or an HTTP 5xx that is not a standard answer), or its link is closed at the relay (`RelaySettings.closed`, e.g.
  during its maintenance);
- `50006` (500, 정보수신자 서비스 불가): the calling operator's service through this relay is suspended
  (`RelaySettings.closed_clients`);
- `50007` (500): the institution answered something that cannot be relayed (not a JSON object).

The digest gives the codes' names only; which situation maps to which code is this project's reading
(docs/decisions.md, "Relay"). The person-facing pages of 개별인증-001 are not relayed: a browser cannot reach a
relay's mutual-TLS listener, and a fronted institution serves its own login page.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import httpx
from fastapi import FastAPI, Request
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict
from starlette.responses import JSONResponse, Response

from openmydata.kit import logging as log
from openmydata.kit.http import make_client
from openmydata.kit.settings import ServiceSettings
from openmydata.kit.tls import peer_certificate
from openmydata.provider.clients import PortalClient
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.peers import (
    CLIENT_CERT_HEADER,
    PeerCheckMiddleware,
    PeerRegistry,
    client_cert_header,
    peer_of,
)
from openmydata.standard.service import install_standard_errors, install_tran_id

_logger = log.get_logger("openmydata.relay")

# Request headers a relayed call keeps (everything else, hop-by-hop or not, is dropped); response headers likewise.
FORWARDED_REQUEST_HEADERS = ("authorization", "content-type", "x-api-tran-id", "x-api-type", "x-user-ci", "accept")
FORWARDED_RESPONSE_HEADERS = ("retry-after", "cache-control", "pragma")
OPEN_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/health"})


class RelaySettings(ServiceSettings):
    """One relay (중계기관): its own org_code (registered at the portal with org_type 04), the 지원-001/002 pair it
    reads the registry with, and the institutions it fronts."""

    model_config = SettingsConfigDict(env_prefix="OPENMYDATA_RELAY_", extra="ignore")

    org_code: str = "RELAY00001"
    public_url: str = "http://127.0.0.1:8010"
    portal_url: str = ""
    support_client_id: str = ""
    support_client_secret: str = ""
    registry_resync_interval_s: float = Field(default=5.0, ge=0)
    # org_code → base URL of the institution's own system, reached with this relay's certificate. From the
    # environment as JSON: {"D1AAAA0000": "https://bank-a.internal:8443"}.
    fronted: dict[str, str] = Field(default_factory=dict)
    # Fronted org_codes whose link is closed for now (answered 50005 without a call), and operators' org_codes
    # whose service through this relay is suspended (answered 50006).
    closed: list[str] = Field(default_factory=list)
    closed_clients: list[str] = Field(default_factory=list)
    backend_timeout_s: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)

    @field_validator("fronted")
    @classmethod
    def _urls(cls, value: dict[str, str]) -> dict[str, str]:
        for org_code, url in value.items():
            if not url.startswith(("https://", "http://")):
                raise ValueError(f"fronted[{org_code}] is not an http(s) URL: {url!r}")
        return {org_code: url.rstrip("/") for org_code, url in value.items()}


def is_relayed_path(path: str) -> bool:
    """Everything a relay serves is for operators (mutual TLS), except its OpenAPI description and health."""
    return path not in OPEN_PATHS


def _error(code: RspCode, detail: str) -> JSONResponse:
    error = StandardError(code, detail)
    return JSONResponse(error.body(), status_code=error.status_code)


def _org_code_of(request: Request, body: bytes) -> str | None:
    """The call's org_code: the query string for GET, else the JSON or form body (OAuth endpoints use forms)."""
    if request.method == "GET":
        return request.query_params.get("org_code")
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("utf-8", "replace")).get("org_code")
        return values[0] if values else None
    try:
        parsed = json.loads(body) if body else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    value = parsed.get("org_code") if isinstance(parsed, dict) else None
    return value if isinstance(value, str) else None


class Relay:
    """Forwards one call to the institution it names and judges the answer."""

    def __init__(self, settings: RelaySettings, http: httpx.AsyncClient):
        self.settings = settings
        self.http = http

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > self.settings.max_body_bytes:
            return _error(RspCode.BAD_PARAMETER, "the request body is too large")
        org_code = _org_code_of(request, body)
        base = self.settings.fronted.get(org_code or "")
        if org_code is None or base is None:
            return _error(RspCode.ORG_NOT_RECOGNISED, "this relay does not front the org_code of the request")
        peer = peer_of(request)
        if peer is not None and peer.org_codes & set(self.settings.closed_clients):
            return _error(
                RspCode.CLIENT_ORG_UNAVAILABLE, "the calling operator's service through this relay is suspended"
            )
        if org_code in self.settings.closed:
            return _error(RspCode.PROVIDER_UNAVAILABLE, f"the link to {org_code} is closed at the relay")
        headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
        certificate = peer_certificate(request.scope)
        if certificate is not None:
            headers[CLIENT_CERT_HEADER.decode("ascii")] = client_cert_header(certificate)
        url = base + request.url.path
        try:
            answer = await self.http.request(
                request.method, url, params=list(request.query_params.multi_items()), content=body, headers=headers
            )
        except (TimeoutError, httpx.TransportError) as exc:
            _logger.warning("fronted institution unavailable", org_code=org_code, error=type(exc).__name__)
            return _error(RspCode.PROVIDER_UNAVAILABLE, f"{org_code} did not answer the relay")
        return self._relayed(org_code, answer)

    def _relayed(self, org_code: str, answer: httpx.Response) -> Response:
        try:
            parsed: Any = answer.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
        if not isinstance(parsed, dict):
            if answer.status_code >= 500:
                _logger.warning("fronted institution failed", org_code=org_code, status=answer.status_code)
                return _error(RspCode.PROVIDER_UNAVAILABLE, f"{org_code} failed to answer (HTTP {answer.status_code})")
            _logger.warning("unrelayable answer", org_code=org_code, status=answer.status_code)
            return _error(RspCode.CONVERSION_ERROR, f"the answer of {org_code} is not a JSON object")
        headers = {name: answer.headers[name] for name in FORWARDED_RESPONSE_HEADERS if name in answer.headers}
        return JSONResponse(parsed, status_code=answer.status_code, headers=headers)


def create_relay_app(settings: RelaySettings | None = None, *, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    """The relay (중계기관). `http_client` reaches the portal and the fronted institutions (tests may hand in one;
    it is not closed here); by default one with this relay's certificate is made at start-up."""
    settings = settings or RelaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tls = settings.tls_identity()
        http = http_client or make_client(timeout_s=settings.backend_timeout_s, tls=tls)
        watcher = asyncio.create_task(tls.watch(settings.tls_reload_interval_s)) if tls is not None else None
        try:
            portal = PortalClient(http, settings) if settings.portal_url else None
            app.state.relay = Relay(settings, http)
            app.state.peers = PeerRegistry(
                portal.orgs if portal is not None else None,
                mode=settings.peer_check,
                max_age_s=settings.peer_registry_max_age_s,
                min_refetch_s=settings.registry_resync_interval_s,
            )
            await app.state.peers.refresh(force=True)
            _logger.info("relay started", org_code=settings.org_code, fronted=len(settings.fronted))
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            if http_client is None:
                await http.aclose()

    app = FastAPI(title=f"openmydata relay {settings.org_code}", lifespan=lifespan)
    app.state.peers = None
    install_standard_errors(app)
    install_tran_id(app, new_tran_id=lambda: new_tran_id(settings.org_code, Party.RELAY))

    @app.get("/health", include_in_schema=False)
    async def health() -> Mapping[str, Any]:
        return {"status": "ok", "fronted": len(settings.fronted)}

    @app.api_route("/{path:path}", methods=["GET", "POST"], include_in_schema=False)
    async def relayed(request: Request, path: str) -> Response:
        relay: Relay = request.app.state.relay
        return await relay.forward(request)

    app.add_middleware(
        PeerCheckMiddleware,
        registry=lambda: app.state.peers,
        is_peer_path=is_relayed_path,
        allow_plain_http=settings.insecure_plain_http,
    )
    return app
