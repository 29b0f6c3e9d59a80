"""What every service speaking the standard installs: the error envelope with the standard's codes, and the
x-api-tran-id echo."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.responses import Response

from openmydata.kit import logging as log
from openmydata.kit.errors import TRAN_ID_HEADER, ServiceError, install_error_handlers
from openmydata.standard.codes import RspCode, StandardError

_HTTP_CODES = {
    404: RspCode.NOT_FOUND,
    405: RspCode.METHOD_NOT_ALLOWED,
    401: RspCode.INVALID_TOKEN,
    403: RspCode.INVALID_CALL,
    429: RspCode.LIMIT_EXCEEDED,
}

_logger = log.get_logger("openmydata.http")


def install_standard_errors(app: FastAPI) -> None:
    """Validation errors → 40001; unknown path → 40401; wrong method → 40501; anything unexpected → 50001."""

    def validation_error(_request: Request) -> ServiceError:
        return StandardError(RspCode.BAD_PARAMETER)

    def http_error(_request: Request, status: int) -> ServiceError:
        return StandardError(_HTTP_CODES.get(status, RspCode.BAD_PARAMETER if status < 500 else RspCode.SYSTEM_FAILURE))

    def internal_error(request: Request) -> ServiceError:
        _logger.error("unhandled error", path=request.url.path)
        return StandardError(RspCode.SYSTEM_FAILURE)

    install_error_handlers(app, validation_error=validation_error, http_error=http_error, internal_error=internal_error)


# What may be echoed: visible ASCII of a sane length. Anything else (CR/LF, controls, huge values) is never
# reflected into a response header or the log; a new id is issued instead.
_ECHOABLE = re.compile(r"[\x21-\x7e]{1,64}")


def install_tran_id(app: FastAPI, *, new_tran_id: Callable[[], str]) -> None:
    """Echo the request's x-api-tran-id in every response (a new one when the caller sent none or one that
    cannot be echoed safely), and bind it to the log context."""

    @app.middleware("http")
    async def tran_id_middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        sent = request.headers.get(TRAN_ID_HEADER)
        tran_id = sent if sent and _ECHOABLE.fullmatch(sent) else new_tran_id()
        request.state.tran_id = tran_id
        log.clear()
        log.bind(tran_id=tran_id)
        response = await call_next(request)
        response.headers[TRAN_ID_HEADER] = tran_id
        return response
