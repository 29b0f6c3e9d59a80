"""Routes: the token and revoke endpoints (통합인증-002, 개별인증-003/004), 정보제공-공통-001, and one route per
(method, path) of the catalogue for the provider's industries, all served by one generic handler."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from openmydata.kit import logging as log
from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database
from openmydata.kit.errors import TRAN_ID_HEADER, OAuthError, PeerError, PeerUnavailable, ServiceError
from openmydata.provider import authorize, repository
from openmydata.provider.models import AccessRecord, RegistryService
from openmydata.provider.registry import RegistrySynchroniser
from openmydata.provider.service import (
    InfoCall,
    InfoService,
    IntegratedAuthGrant,
    TokenIssuer,
    check_client_secret,
    parse_form,
    refresh_access_token,
    revoke_token,
)
from openmydata.provider.settings import ProviderSettings
from openmydata.provider.tokens import TokenCodec
from openmydata.standard.apis.auth import RefreshRequest, RevokeRequest
from openmydata.standard.apis.common import ApiListRequest
from openmydata.standard.catalogue import ApiSpec, Catalogue, Kind, Sector
from openmydata.standard.client import API_TYPE
from openmydata.standard.codes import RspCode, StandardError, success_envelope
from openmydata.standard.formats import is_valid_tran_id
from openmydata.standard.peers import Peer, peer_of
from openmydata.standard.profiles import response_codes

_logger = log.get_logger("openmydata.provider")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
AUTH_APIS = ("개별인증-001", "개별인증-002", "개별인증-003", "개별인증-004", "통합인증-002")


@dataclass
class ProviderContext:
    """What the routes need, built by the app's lifespan and kept in `app.state.provider`."""

    settings: ProviderSettings
    db: Database
    catalogue: Catalogue
    codec: TokenCodec
    issuer: TokenIssuer
    grant: IntegratedAuthGrant
    info: InfoService
    registry: RegistrySynchroniser


def context(request: Request) -> ProviderContext:
    provider: ProviderContext = request.app.state.provider
    return provider


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request boundary: commit on success, roll back on error."""
    async with context(request).db.transaction() as session:
        yield session


@dataclass(frozen=True)
class Route:
    spec: ApiSpec
    industry: str
    path: str


def info_routes(settings: ProviderSettings, catalogue: Catalogue) -> list[Route]:
    """One route per (method, path) of the provider's industries, plus 정보제공-공통-002 under each."""
    routes: list[Route] = []
    seen: dict[tuple[str, str], str] = {}
    consent_specs = [spec for spec in catalogue if spec.kind is Kind.CONSENT]
    for industry in settings.industries:
        sector = Sector(industry)
        candidates = [Route(spec, industry, spec.path) for spec in catalogue.info_apis([sector])] + [
            Route(spec, industry, spec.path.replace("{industry}", industry)) for spec in consent_specs
        ]
        for route in candidates:
            where = (route.spec.method, route.path)
            if where in seen:
                raise ValueError(f"{route.spec.id} and {seen[where]} share {route.spec.method} {route.path}")
            seen[where] = route.spec.id
            routes.append(route)
    return routes


def api_list_entries(settings: ProviderSettings, catalogue: Catalogue) -> list[dict[str, str]]:
    """정보제공-공통-001 entries: every API this provider serves, with the path it is served at."""
    entries: dict[tuple[str, str], None] = {}
    for api_id in AUTH_APIS:
        if api_id in catalogue:
            entries.setdefault((catalogue[api_id].api_code, catalogue[api_id].path), None)
    for spec in catalogue:
        if spec.kind is Kind.API_LIST:
            entries.setdefault((spec.api_code, spec.path), None)
    for route in info_routes(settings, catalogue):
        entries.setdefault((route.spec.api_code, route.path), None)
    return [{"api_code": code, "api_uri": uri} for code, uri in entries]


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than `limit` bytes (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _form(request: Request) -> dict[str, str]:
    """The OAuth endpoints' form (application/x-www-form-urlencoded, RFC 6749 §3.2), bounded in size."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ("", "application/x-www-form-urlencoded"):
        raise OAuthError("invalid_request", "the body is not application/x-www-form-urlencoded")
    raw = await _bounded_body(request, context(request).settings.max_body_bytes)
    if raw is None:
        raise OAuthError("invalid_request", "the body is too large")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise OAuthError("invalid_request", "the body is not UTF-8") from exc
    return dict(pairs)


async def _request_data(request: Request, spec: ApiSpec, max_body_bytes: int) -> dict[str, Any] | None:
    """The request's fields (query for GET, JSON body for POST) with the path parameters; None if unreadable
    (not a JSON object, nested too deeply, or larger than `max_body_bytes`)."""
    if spec.method == "GET":
        data: dict[str, Any] = dict(request.query_params)
    else:
        raw = await _bounded_body(request, max_body_bytes)
        if raw is None:
            return None
        try:
            parsed = json.loads(raw) if raw else {}
        except (ValueError, RecursionError):
            return None
        if not isinstance(parsed, dict):
            return None
        data = parsed
    data.update(request.path_params)
    return data


def _loggable_tran_id(value: str | None) -> str | None:
    """The caller's x-api-tran-id as stored in the access record: printable ASCII only (a NUL byte or other
    control character would make PostgreSQL refuse the row), at most 64 characters."""
    text = (value or "")[:64]
    return text if text and text.isascii() and text.isprintable() else None


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.perf_counter() - started) * 1000))


def _access_record(call: InfoCall, status_code: int, rsp_code: str, rsp_ms: int | None = None) -> AccessRecord:
    trail = call.trail
    return AccessRecord(
        at=utcnow(),
        tran_id=_loggable_tran_id(call.tran_id),
        api_id=call.spec.id,
        api_type=trail.api_type,
        rcv_org_code=trail.rcv_org_code,
        consent_id=trail.consent_id,
        key=trail.key,
        status_code=status_code,
        rsp_code=rsp_code,
        rsp_ms=rsp_ms,
    )


def _info_endpoint(route: Route) -> Callable[..., Awaitable[Response]]:
    spec, industry = route.spec, route.industry

    async def endpoint(request: Request, session: AsyncSession = Depends(db_session, scope="function")) -> Response:
        started = time.perf_counter()  # rsp_ms: from reading the request to the answer (weekly statistics)
        provider = context(request)
        peer = peer_of(request)
        call = InfoCall(
            spec=spec,
            industry=industry,
            tran_id=request.headers.get(TRAN_ID_HEADER),
            api_type=request.headers.get(API_TYPE),
            authorization=request.headers.get("authorization"),
            data=await _request_data(request, spec, provider.settings.max_body_bytes),
            content_type=request.headers.get("content-type"),
            peer_org_codes=peer.org_codes if peer is not None else None,
            peer_thumbprint=peer.thumbprint if peer is not None else None,
        )
        try:
            body = await provider.info.serve(session, call)
        except ServiceError as exc:
            # The request's transaction rolls back (taking back a scheduled transmission it counted) before the
            # access record of the refusal is kept in its own: the request's locks must not outlive it (SQLite has
            # one writer, so writing the record while the request still held its write lock would wait on itself).
            await session.rollback()
            async with provider.db.transaction() as audit:
                await repository.add_access_record(
                    audit, _access_record(call, exc.status_code, exc.rsp_code, _elapsed_ms(started))
                )
            raise
        await repository.add_access_record(
            session, _access_record(call, 200, str(body.get("rsp_code", "")), _elapsed_ms(started))
        )
        # The access record keeps the situation's financial code (the statistics read it); the answer is in the
        # provider's profile's code set (20001/20002 for a nationwide-profile provider).
        return JSONResponse(response_codes(provider.settings.standard_profile).answer(body))

    endpoint.__name__ = f"api_{spec.api_code.lower()}_{industry}"
    return endpoint


async def _client(
    provider: ProviderContext,
    client_id: str,
    client_secret: str,
    extra: Mapping[str, str] | None = None,
    peer: Peer | None = None,
) -> RegistryService:
    """The operator service behind client_id/secret (지원-003); an unknown id triggers one registry re-sync. Over
    mutual TLS the client certificate must be registered for the service's operator."""
    async with provider.db.transaction() as session:
        service = await repository.get_service(session, client_id)
    if service is None and await provider.registry.resync_for_unknown_client():
        async with provider.db.transaction() as session:
            service = await repository.get_service(session, client_id)
    if service is None or not check_client_secret(service, client_secret):
        raise OAuthError("invalid_client", "unknown client or wrong secret", status_code=401, extra=extra)
    if peer is not None and service.org_code not in peer.org_codes:
        raise OAuthError(
            "unauthorized_client",
            "the client certificate is not registered for this client's organisation",
            status_code=401,
            extra=extra,
        )
    return service


async def _integrated_auth(provider: ProviderContext, form: Mapping[str, str], peer: Peer | None) -> dict[str, Any]:
    grant = provider.grant
    request = grant.parse(form)
    extra = {"tx_id": request.tx_id}
    client = await _client(provider, request.client_id, request.client_secret, extra, peer)
    signed = grant.read(request, client)
    async with provider.db.transaction() as session:
        replayed = await grant.replayed(session, request)
    if replayed:
        raise OAuthError("invalid_grant", replayed, extra=extra)
    try:
        await grant.verify(signed)
    except (PeerUnavailable, PeerError) as exc:
        _logger.warning("sign verification unavailable", peer="certauth", reason=str(exc))
        raise OAuthError(
            "temporarily_unavailable", "the certification authority cannot be reached", status_code=503, extra=extra
        ) from exc
    async with provider.db.transaction() as session:
        body = await grant.record(session, signed, peer.thumbprint if peer is not None else None)
    _logger.info("integrated auth granted", operator=client.org_code)
    return body


def _check_org(provider: ProviderContext, org_code: str) -> None:
    if org_code != provider.settings.org_code:
        raise OAuthError("invalid_request", "org_code is not this provider's")


async def _refresh(provider: ProviderContext, form: Mapping[str, str], peer: Peer | None) -> dict[str, Any]:
    request: RefreshRequest = parse_form(RefreshRequest, form)
    _check_org(provider, request.org_code)
    client = await _client(provider, request.client_id, request.client_secret, peer=peer)
    async with provider.db.transaction() as session:
        return await refresh_access_token(
            session, request, client, provider.codec, provider.issuer, peer.thumbprint if peer is not None else None
        )


def build_router(settings: ProviderSettings, catalogue: Catalogue) -> APIRouter:
    router = APIRouter()

    @router.post("/oauth/2.0/token")
    async def token(request: Request) -> Response:
        """통합인증-002 (grant_type=password), 개별인증-002 (grant_type=authorization_code, `provider.authorize`) and
        개별인증-003 (grant_type=refresh_token)."""
        provider = context(request)
        form = await _form(request)
        grant_type = form.get("grant_type")
        if grant_type == "password":
            body = await _integrated_auth(provider, form, peer_of(request))
        elif grant_type == "refresh_token":
            body = await _refresh(provider, form, peer_of(request))
        elif grant_type == "authorization_code":
            code_request = authorize.parse_code_request(provider.settings.org_code, form)
            client = await _client(provider, code_request.client_id, code_request.client_secret, peer=peer_of(request))
            body = await authorize.redeem_code(request, provider, code_request, client, peer_of(request))
        elif not grant_type:
            raise OAuthError("invalid_request", "grant_type is missing")
        else:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type[:30]} is not supported")
        return JSONResponse(body, headers=NO_STORE)

    @router.post("/oauth/2.0/revoke")
    async def revoke(request: Request) -> Response:
        """개별인증-004: always HTTP 200 once the client is known; 99999 when the token was not valid."""
        provider = context(request)
        revoke_request: RevokeRequest = parse_form(RevokeRequest, await _form(request))
        _check_org(provider, revoke_request.org_code)
        client = await _client(provider, revoke_request.client_id, revoke_request.client_secret, peer=peer_of(request))
        async with provider.db.transaction() as session:
            body = await revoke_token(session, revoke_request, client, provider.codec)
        return JSONResponse(response_codes(provider.settings.standard_profile).answer(body), headers=NO_STORE)

    entries = api_list_entries(settings, catalogue)

    @router.get("/apis")
    async def api_list(request: Request) -> Response:
        """정보제공-공통-001: the APIs and versions this provider serves."""
        provider = context(request)
        if not is_valid_tran_id(request.headers.get(TRAN_ID_HEADER)):
            raise StandardError(RspCode.BAD_HEADER, "x-api-tran-id")
        try:
            query = ApiListRequest.model_validate(dict(request.query_params))
        except ValidationError as exc:
            raise StandardError(RspCode.BAD_PARAMETER, "org_code") from exc
        if query.org_code != provider.settings.org_code:
            raise StandardError(RspCode.BAD_PARAMETER, "org_code")
        spec = next(spec for spec in provider.catalogue if spec.kind is Kind.API_LIST)
        body = {
            **response_codes(provider.settings.standard_profile).answer(success_envelope()),
            "version": provider.settings.api_version,
            "min_version": provider.settings.api_min_version,
            "api_cnt": len(entries),
            "api_list": entries,
        }
        return JSONResponse(spec.response.model_validate(body).to_wire())

    for route in info_routes(settings, catalogue):
        router.add_api_route(
            route.path,
            _info_endpoint(route),
            methods=[route.spec.method],
            name=f"{route.spec.id} ({route.industry})",
            summary=f"{route.spec.id} {route.spec.title}",
            include_in_schema=True,
        )
    return router
