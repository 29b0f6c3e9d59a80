"""The support APIs a provider serves the portal (digest §5.2, §10.4): 지원-101 (a `manage` token for the pair the
portal was issued for calling this provider), 지원-102 (availability) and 지원-104 (re-send the weekly statistics,
지원-005, of one week).

Only the portal may call them: over mutual TLS its certificate is recognised from the settings (`portal_org_code`,
`portal_serial_num`, a fixed entry of the peer registry, as at the operator) and any other registered
organisation is refused with 40103; 지원-102/104 also need a 지원-101 Bearer token.

지원-102 `availability`: 03 when the provider is configured as under maintenance; 02 when its database does not
answer, or when more than `availability_max_error_rate` of the information API calls of the last
`availability_window_s` seconds failed on this side (HTTP 5xx; judged from `availability_min_calls` calls on);
01 otherwise. Refusals of the caller's own making (4xx) say nothing about the provider's health.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import JSONResponse

from openmydata.kit import logging as log
from openmydata.kit.clock import today_kst, utcnow
from openmydata.kit.errors import PeerError, PeerUnavailable
from openmydata.provider import repository
from openmydata.provider.endpoints import NO_STORE, ProviderContext, _form, context
from openmydata.provider.statistics import ProviderStatistics
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.apis.support import Availability, StatusRequest, StatusResponse
from openmydata.standard.codes import RspCode, StandardError, success_envelope
from openmydata.standard.peers import peer_of
from openmydata.standard.statistics import ResendQuery, report_types, resend_request
from openmydata.standard.support_tokens import SupportDesk, SupportTokens

_logger = log.get_logger("openmydata.provider.support")

PROVIDER_ORG_TYPE = "03"  # 지원-104 org_type of a provider
STATE = "provider_support"


@dataclass
class SupportContext:
    provider: ProviderContext  # what it was built from (a restarted app gets a new one)
    desk: SupportDesk
    statistics: ProviderStatistics


def support_for(app: FastAPI) -> SupportContext:
    """The support desk and the statistics of a started provider app (built once per start, from its
    ProviderContext)."""
    provider = app.state.provider
    found = getattr(app.state, STATE, None)
    if isinstance(found, SupportContext) and found.provider is provider:
        return found
    settings = provider.settings
    support = SupportContext(
        provider=provider,
        desk=SupportDesk(
            SupportTokens(settings.token_secret, settings.org_code, participant="provider"),
            client_id=settings.portal_client_id,
            client_secret=settings.portal_client_secret,
            lifetime=timedelta(seconds=settings.portal_token_lifetime_s),
        ),
        statistics=ProviderStatistics(settings, provider.db, provider.registry.portal, provider.catalogue),
    )
    setattr(app.state, STATE, support)
    return support


def _portal_only(request: Request) -> None:
    """Over mutual TLS, only the portal's certificate (40103 for any other registered organisation)."""
    peer = peer_of(request)
    if peer is not None and context(request).settings.portal_org_code not in peer.org_codes:
        raise StandardError(RspCode.CERT_CHECK_FAILED, "only the portal calls the support APIs")


def _portal_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The portal's client_id from a 지원-101 Bearer token, checked before anything else is read."""
    return support_for(request.app).desk.caller(authorization, utcnow())


router = APIRouter(tags=["지원"], dependencies=[Depends(_portal_only)])
Portal = [Depends(_portal_caller)]


@router.post(CATALOGUE["지원-101"].path)
async def support_token(request: Request) -> JSONResponse:
    """지원-101: client_credentials, scope manage, with the portal's pair (form-encoded; RFC 6749 errors)."""
    form = await _form(request)
    body = support_for(request.app).desk.issue(
        form.get("grant_type"), form.get("client_id"), form.get("client_secret"), form.get("scope"), utcnow()
    )
    return JSONResponse(body, headers=NO_STORE)


async def availability(request: Request) -> Availability:
    provider = context(request)
    settings = provider.settings
    if settings.maintenance:
        return Availability.MAINTENANCE
    since = utcnow() - timedelta(seconds=settings.availability_window_s)
    try:
        async with provider.db.transaction() as session:
            calls, failed = await repository.call_outcomes_since(session, since)
    except (SQLAlchemyError, OSError) as exc:
        _logger.warning("status: the database does not answer", error=type(exc).__name__)
        return Availability.FAILURE
    if calls >= settings.availability_min_calls and failed > calls * settings.availability_max_error_rate:
        return Availability.FAILURE
    return Availability.UP


@router.get(CATALOGUE["지원-102"].path, dependencies=Portal)
async def status(request: Request, org_code: Annotated[str, Query()]) -> JSONResponse:
    """지원-102: this provider's availability (01 up, 02 failure, 03 maintenance)."""
    try:
        query = StatusRequest.model_validate({"org_code": org_code})
    except ValidationError as exc:
        raise StandardError(RspCode.BAD_PARAMETER, "org_code") from exc
    if query.org_code != context(request).settings.org_code:
        raise StandardError(RspCode.BAD_PARAMETER, "org_code names another organisation")
    answer = StatusResponse(**success_envelope(), availability=(await availability(request)).value)
    return JSONResponse(answer.to_wire())


@router.get(CATALOGUE["지원-104"].path, dependencies=Portal)
async def resend_statistics(request: Request, params: ResendQuery) -> JSONResponse:
    """지원-104: send the weekly statistics (지원-005) of the week before `inquiry_date` (a Sunday) again, then
    answer 00000; 40001 for another organisation, another org_type than 03 (provider), a day that is not a Sunday
    or a week that has not begun; 50002 when the portal did not take the reports."""
    settings = context(request).settings
    query = resend_request(params, org_code=settings.org_code, org_type=PROVIDER_ORG_TYPE, today=today_kst())
    statistics = support_for(request.app).statistics
    try:
        sent = await statistics.send(query.inquiry_date, report_types(query.type))
    except (PeerError, PeerUnavailable) as exc:
        _logger.warning("statistics re-send failed", inquiry_date=query.inquiry_date, reason=str(exc))
        raise StandardError(RspCode.PROCESSING_FAILED, "the portal did not take the statistics") from exc
    _logger.info("statistics re-sent", inquiry_date=query.inquiry_date, reports=sent)
    return JSONResponse(success_envelope())


__all__ = ["SupportContext", "availability", "router", "support_for"]
