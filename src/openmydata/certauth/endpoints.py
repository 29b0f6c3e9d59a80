"""Routes of the CA: admin enrolment, CA token, identity and sign APIs (Bearer, scope ca), the person's approval
page and its JSON twin, and the root certificate."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse, JSONResponse, Response

from openmydata.certauth.models import RegisteredOrg
from openmydata.certauth.repository import CertAuthRepository
from openmydata.certauth.schemas import (
    ApprovalRequest,
    ApprovalResponse,
    EnrolResult,
    IdentityRequest,
    IdentityResultRequest,
    PersonRevocation,
    PersonsEnrolment,
    RevocationResult,
    SignRequest,
    SignResultRequest,
    SignVerificationRequest,
)
from openmydata.certauth.service import CertAuthService, Decision, Outcome
from openmydata.certauth.settings import CertAuthSettings
from openmydata.kit.db import Database
from openmydata.kit.pki import cert_to_pem
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.peers import peer_of
from openmydata.standard.scopes import SCOPE_NAMES

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["SCOPE_LABELS"] = SCOPE_NAMES


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.db
    async with database.transaction() as session:
        yield session


# scope="function": the transaction commits before the response leaves.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]


def _service(request: Request, session: SessionDep) -> CertAuthService:
    return CertAuthService(
        CertAuthRepository(session), request.app.state.runtime, tran_id=getattr(request.state, "tran_id", None)
    )


ServiceDep = Annotated[CertAuthService, Depends(_service)]


def _admin(request: Request, x_admin_key: Annotated[str | None, Header()] = None) -> None:
    settings: CertAuthSettings = request.app.state.settings
    if not settings.admin_key:
        raise StandardError(RspCode.INVALID_CALL, "the admin API is disabled (set OPENMYDATA_CERTAUTH_ADMIN_KEY)")
    if not x_admin_key or not hmac.compare_digest(x_admin_key.encode(), settings.admin_key.encode()):
        raise StandardError(RspCode.INVALID_TOKEN, "x-admin-key missing or wrong")


async def _caller(
    request: Request, service: ServiceDep, authorization: Annotated[str | None, Header()] = None
) -> RegisteredOrg:
    return await service.authenticate(authorization, peer_of(request))


CallerDep = Annotated[RegisteredOrg, Depends(_caller)]

admin = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(_admin)])


@admin.post("/persons")
async def enrol_persons(body: PersonsEnrolment, service: ServiceDep) -> EnrolResult:
    return EnrolResult(enrolled=await service.enrol(body.persons))


@admin.post("/persons/revoke")
async def revoke_person(body: PersonRevocation, service: ServiceDep) -> RevocationResult:
    return RevocationResult(revoked=await service.revoke(body.ci))


ca = APIRouter(tags=["ca"])


@ca.get("/ca/root.pem")
async def root_certificate(request: Request) -> Response:
    """The CA's root certificate (PEM): the trust anchor for verifying signed consents locally."""
    certificate = request.app.state.runtime.authority.certificate
    return Response(cert_to_pem(certificate), media_type="application/x-pem-file")


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


@ca.post("/oauth/2.0/token")
async def ca_token(request: Request, service: ServiceDep) -> JSONResponse:
    """CA token: client_credentials, scope ca (form-encoded; RFC 6749 errors)."""
    form = await request.form()
    body = await service.issue_token(
        _field(form, "grant_type"),
        _field(form, "client_id"),
        _field(form, "client_secret"),
        _field(form, "scope"),
        peer_of(request),
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@ca.post("/v1/ca/identity_request")
async def identity_request(body: IdentityRequest, caller: CallerDep, service: ServiceDep) -> JSONResponse:
    return JSONResponse(await service.identity_request(caller, body))


@ca.post("/v1/ca/identity_result")
async def identity_result(body: IdentityResultRequest, caller: CallerDep, service: ServiceDep) -> JSONResponse:
    return JSONResponse(await service.identity_result(caller, body))


@ca.post("/v1/ca/sign_request")
async def sign_request(body: SignRequest, caller: CallerDep, service: ServiceDep) -> JSONResponse:
    return JSONResponse(await service.sign_request(caller, body))


@ca.post("/v1/ca/sign_result")
async def sign_result(body: SignResultRequest, caller: CallerDep, service: ServiceDep) -> JSONResponse:
    return JSONResponse(await service.sign_result(caller, body))


@ca.post("/v1/ca/sign_verification")
async def sign_verification(body: SignVerificationRequest, caller: CallerDep, service: ServiceDep) -> JSONResponse:
    return JSONResponse(await service.sign_verification(caller, body))


_PIN_ERROR_CODE = "40101"


def _decision_response(decision: Decision) -> JSONResponse:
    """Approved or rejected → 00000; wrong PIN (also the last one) → 401 40101 with how many tries are left;
    no PIN → 40001; a request that is no longer pending → 403 40301. Always with the request's sign_status."""
    codes = {
        Outcome.APPROVED: (200, RspCode.OK.value),
        Outcome.REJECTED: (200, RspCode.OK.value),
        # Not raised: the failed attempt must be committed with the request.
        Outcome.WRONG_PIN: (401, _PIN_ERROR_CODE),
        Outcome.LOCKED: (401, _PIN_ERROR_CODE),
        Outcome.PIN_REQUIRED: (400, RspCode.BAD_PARAMETER.value),
        Outcome.NOT_PENDING: (403, RspCode.INVALID_CALL.value),
    }
    status_code, rsp_code = codes[decision.outcome]
    body = ApprovalResponse(rsp_code=rsp_code, rsp_msg=decision.message, sign_status=decision.status)
    return JSONResponse(body.to_wire(), status_code=status_code)


@ca.post("/v1/ca/approvals/{cert_tx_id}")
async def approve_json(cert_tx_id: str, body: ApprovalRequest, service: ServiceDep) -> JSONResponse:
    """The person's decision for scripts and apps (the page below is the browser's way)."""
    return _decision_response(await service.decide(cert_tx_id, body.pin, body.decision))


pages = APIRouter(tags=["approval"], include_in_schema=False)


@pages.get("/approve/{cert_tx_id}", response_class=HTMLResponse)
async def approval_page(request: Request, cert_tx_id: str, service: ServiceDep) -> Response:
    view = await service.approval_view(cert_tx_id)
    if view is None:
        return templates.TemplateResponse(request, "not_found.html", {}, status_code=404)
    return templates.TemplateResponse(request, "approve.html", {"view": view, "message": None, "ok": False})


@pages.post("/approve/{cert_tx_id}", response_class=HTMLResponse)
async def approval_submit(request: Request, cert_tx_id: str, service: ServiceDep) -> Response:
    if await service.approval_view(cert_tx_id) is None:
        return templates.TemplateResponse(request, "not_found.html", {}, status_code=404)
    form = await request.form()
    decision_value = _field(form, "decision")
    if decision_value not in {"approve", "reject"}:
        decision_value = "approve"
    decision = await service.decide(cert_tx_id, _field(form, "pin"), decision_value)
    view = await service.approval_view(cert_tx_id)
    status_code = {Outcome.WRONG_PIN: 401, Outcome.LOCKED: 401, Outcome.PIN_REQUIRED: 400}.get(decision.outcome, 200)
    ok = decision.outcome in {Outcome.APPROVED, Outcome.REJECTED}
    context = {"view": view, "message": decision.message, "ok": ok}
    return templates.TemplateResponse(request, "approve.html", context, status_code=status_code)
