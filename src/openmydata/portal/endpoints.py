"""Routes of the portal: the admin registration API and the support APIs 지원-001…006 (paths from the
catalogue)."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse

from openmydata.kit.db import Database
from openmydata.portal.clients import OperatorSupportClient
from openmydata.portal.repository import PortalRepository
from openmydata.portal.schemas import (
    CertificateRegistration,
    ConsentLookup,
    ConsentLookupResult,
    OrgCredentials,
    OrgRegistration,
    OrgUpdate,
    OrgView,
    ServiceCredentials,
    ServiceRegistration,
    ServiceUpdate,
    ServiceView,
)
from openmydata.portal.service import Caller, PortalService
from openmydata.portal.settings import PortalSettings
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.support import OperatorStatisticsRequest, ProviderStatisticsRequest
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.peers import peer_of


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.db
    async with database.transaction() as session:
        yield session


# scope="function": the transaction commits before the response leaves, so a caller never reads stale state.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


def _service(request: Request, session: SessionDep) -> PortalService:
    state = request.app.state
    settings: PortalSettings = state.settings
    return PortalService(
        PortalRepository(session),
        signer=state.signer,
        box=state.box,
        token_lifetime=timedelta(seconds=settings.token_lifetime_s),
        clock=state.clock,
        audit=state.audit,
        tran_id=getattr(request.state, "tran_id", None),
    )


ServiceDep = Annotated[PortalService, Depends(_service)]


def _admin(request: Request, x_admin_key: Annotated[str | None, Header()] = None) -> None:
    settings: PortalSettings = request.app.state.settings
    if not settings.admin_key:
        raise StandardError(RspCode.INVALID_CALL, "the admin API is disabled (set OPENMYDATA_PORTAL_ADMIN_KEY)")
    if not x_admin_key or not hmac.compare_digest(x_admin_key.encode(), settings.admin_key.encode()):
        raise StandardError(RspCode.INVALID_TOKEN, "x-admin-key missing or wrong")


async def _caller(
    request: Request, service: ServiceDep, authorization: Annotated[str | None, Header()] = None
) -> Caller:
    return await service.authenticate(authorization, peer_of(request))


CallerDep = Annotated[Caller, Depends(_caller)]

admin = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(_admin)])


@admin.post("/orgs", response_model_exclude_none=True)
async def register_org(body: OrgRegistration, service: ServiceDep) -> OrgCredentials:
    return await service.register_org(body)


@admin.get("/orgs/{org_code}")
async def get_org(org_code: str, service: ServiceDep) -> OrgView:
    return await service.org_view(org_code)


@admin.post("/orgs/{org_code}")
async def update_org(org_code: str, body: OrgUpdate, service: ServiceDep) -> OrgView:
    return await service.update_org(org_code, body)


@admin.post("/orgs/{org_code}/deregister")
async def deregister_org(org_code: str, service: ServiceDep) -> OrgView:
    return await service.deregister_org(org_code)


@admin.post("/orgs/{org_code}/certificates")
async def register_certificate(org_code: str, body: CertificateRegistration, service: ServiceDep) -> OrgView:
    return await service.register_certificate(org_code, body)


@admin.post("/services")
async def register_service(body: ServiceRegistration, service: ServiceDep) -> ServiceCredentials:
    return await service.register_service(body)


@admin.post("/services/{client_id}")
async def update_service(client_id: str, body: ServiceUpdate, service: ServiceDep) -> ServiceView:
    return await service.update_service(client_id, body)


@admin.post("/services/{client_id}/deregister")
async def deregister_service(client_id: str, service: ServiceDep) -> ServiceView:
    return await service.deregister_service(client_id)


@admin.post("/consents", response_model_exclude_none=True)
async def member_consents(body: ConsentLookup, request: Request, service: ServiceDep) -> ConsentLookupResult:
    """A person's currently valid consents at every registered operator (지원-101 then 지원-103 at each)."""
    settings: PortalSettings = request.app.state.settings
    client = OperatorSupportClient(request.app.state.http, settings.org_code)
    return await service.member_consents(body.user_ci, client)


support = APIRouter(tags=["지원"])


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


@support.post(CATALOGUE["지원-001"].path)
async def support_token(request: Request, service: ServiceDep) -> JSONResponse:
    """지원-001: client_credentials, scope manage (form-encoded; RFC 6749 errors)."""
    form = await request.form()
    body = await service.issue_token(
        _field(form, "grant_type"),
        _field(form, "client_id"),
        _field(form, "client_secret"),
        _field(form, "scope"),
        peer_of(request),
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@support.get(CATALOGUE["지원-002"].path)
async def org_list(caller: CallerDep, service: ServiceDep, search_timestamp: str | None = None) -> JSONResponse:
    return JSONResponse(await service.org_list(search_timestamp))


@support.get(CATALOGUE["지원-003"].path)
async def service_list(caller: CallerDep, service: ServiceDep, search_timestamp: str | None = None) -> JSONResponse:
    return JSONResponse(await service.service_list(search_timestamp))


@support.post(CATALOGUE["지원-004"].path)
async def operator_statistics(caller: CallerDep, service: ServiceDep, body: OperatorStatisticsRequest) -> JSONResponse:
    return JSONResponse(await service.record_operator_statistics(caller, body))


@support.post(CATALOGUE["지원-005"].path)
async def provider_statistics(caller: CallerDep, service: ServiceDep, body: ProviderStatisticsRequest) -> JSONResponse:
    return JSONResponse(await service.record_provider_statistics(caller, body))


@support.get(CATALOGUE["지원-006"].path)
async def orgs_for_ca(caller: CallerDep, service: ServiceDep) -> JSONResponse:
    return JSONResponse(await service.orgs_for_ca(caller))
