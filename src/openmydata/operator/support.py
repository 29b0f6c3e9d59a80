"""지원-104 as the operator serves it: the portal asks for the weekly statistics (지원-004) of one week again
(digest §5.2, §10.4). Like 지원-101/103 (operator.endpoints) it is a participant path: mutual TLS with the
portal's certificate (the only entry of the operator's peer registry) and a 지원-101 Bearer token. The catalogue
has 지원-102 served by providers only, so the operator does not serve it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from starlette.responses import JSONResponse

from openmydata.kit import logging as log
from openmydata.kit.clock import today_kst
from openmydata.kit.errors import PeerUnavailable
from openmydata.operator.service import OperatorService
from openmydata.operator.statistics import OperatorStatistics
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.client import ApiCallError
from openmydata.standard.codes import RspCode, StandardError, success_envelope
from openmydata.standard.statistics import ResendQuery, report_types, resend_request

_logger = log.get_logger("openmydata.operator.support")

OPERATOR_ORG_TYPE = "01"  # 지원-104 org_type of a MyData operator
STATE = "operator_statistics"


def statistics_for(app: FastAPI) -> OperatorStatistics:
    """The weekly statistics of a started operator app (built once per start)."""
    found = getattr(app.state, STATE, None)
    if isinstance(found, OperatorStatistics) and found.service is app.state.service and found.db is app.state.db:
        return found
    statistics = OperatorStatistics(app.state.db, app.state.service)
    setattr(app.state, STATE, statistics)
    return statistics


def _service(request: Request) -> OperatorService:
    service: OperatorService = request.app.state.service
    return service


def _portal_caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The portal's client_id from a 지원-101 Bearer token, checked before anything else is read."""
    return _service(request).support_caller(authorization)


router = APIRouter(tags=["지원"])


@router.get(CATALOGUE["지원-104"].path, dependencies=[Depends(_portal_caller)])
async def resend_statistics(request: Request, params: ResendQuery) -> JSONResponse:
    """지원-104: send the weekly statistics (지원-004) of the week before `inquiry_date` (a Sunday) again, then
    answer 00000; 40001 for another organisation, another org_type than 01 (operator), a day that is not a Sunday
    or a week that has not begun; 50002 when the portal did not take the reports."""
    query = resend_request(
        params,
        org_code=_service(request).settings.org_code,
        org_type=OPERATOR_ORG_TYPE,
        today=today_kst(),
    )
    try:
        sent = await statistics_for(request.app).send(query.inquiry_date, report_types(query.type))
    except (ApiCallError, PeerUnavailable) as exc:
        _logger.warning("statistics re-send failed", inquiry_date=query.inquiry_date, reason=str(exc))
        raise StandardError(RspCode.PROCESSING_FAILED, "the portal did not take the statistics") from exc
    _logger.info("statistics re-sent", inquiry_date=query.inquiry_date, reports=sent)
    return JSONResponse(success_envelope())


__all__ = ["router", "statistics_for"]
