"""What every service speaking the standard installs: the error envelope with the standard's codes, and the
x-api-tran-id echo."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import FastAPI, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openmydata.kit import logging as log
from openmydata.kit.errors import TRAN_ID_HEADER, ServiceError, install_error_handlers
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.profiles import FINANCIAL_RESPONSE_CODES, ResponseCodes

_HTTP_CODES = {
    404: RspCode.NOT_FOUND,
    405: RspCode.METHOD_NOT_ALLOWED,
    401: RspCode.INVALID_TOKEN,
    403: RspCode.INVALID_CALL,
    429: RspCode.LIMIT_EXCEEDED,
}

_logger = log.get_logger("openmydata.http")


def install_standard_errors(
    app: FastAPI,
    *,
    codes: ResponseCodes = FINANCIAL_RESPONSE_CODES,
    applies: Callable[[str], bool] = lambda _path: True,
) -> None:
    """Validation errors → 40001; unknown path → 40401; wrong method → 40501; anything unexpected → 50001.

    Errors on paths that `applies` accepts are answered in `codes` (a nationwide-profile provider answers in the
    nationwide code set, `standard.profiles`); the others in the financial codes."""

    def translated(request: Request, error: StandardError) -> ServiceError:
        return codes.error(error) if applies(request.url.path) else error

    def validation_error(request: Request) -> ServiceError:
        return translated(request, StandardError(RspCode.BAD_PARAMETER))

    def http_error(request: Request, status: int) -> ServiceError:
        code = _HTTP_CODES.get(status, RspCode.BAD_PARAMETER if status < 500 else RspCode.SYSTEM_FAILURE)
        return translated(request, StandardError(code))

    def internal_error(request: Request) -> ServiceError:
        _logger.error("unhandled error", path=request.url.path)
        return translated(request, StandardError(RspCode.SYSTEM_FAILURE))

    install_error_handlers(app, validation_error=validation_error, http_error=http_error, internal_error=internal_error)
    if codes is FINANCIAL_RESPONSE_CODES:
        return

    async def on_standard_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StandardError)
        error = translated(request, exc)
        tran_id = getattr(request.state, "tran_id", None) or request.headers.get(TRAN_ID_HEADER)
        headers = {**({TRAN_ID_HEADER: tran_id} if tran_id else {}), **error.headers}
        return JSONResponse(error.body(), status_code=error.status_code, headers=headers)

    # More specific than the ServiceError handler, so every StandardError raised by a route comes here.
    app.add_exception_handler(StandardError, on_standard_error)


# What may be echoed: visible ASCII of a sane length. Anything else (CR/LF, controls, huge values) is never
# reflected into a response header or the log; a new id is issued instead.
_ECHOABLE = re.compile(r"[\x21-\x7e]{1,64}")


def echoed_tran_id(sent: str | None, new_tran_id: Callable[[], str]) -> str:
    """The x-api-tran-id to answer with: the caller's when it can be echoed safely, else a new one."""
    return sent if sent and _ECHOABLE.fullmatch(sent) else new_tran_id()


def install_tran_id(app: FastAPI, *, new_tran_id: Callable[[], str]) -> None:
    """Echo the request's x-api-tran-id in every response (a new one when the caller sent none or one that
    cannot be echoed safely), and bind it to the log context."""
    app.add_middleware(TranIdMiddleware, new_tran_id=new_tran_id)


class TranIdMiddleware:
    """`install_tran_id`'s middleware, as plain ASGI: every information API call passes it, and Starlette's
    `BaseHTTPMiddleware` (what `@app.middleware` builds) runs the rest of the app in a task of its own with memory
    streams between them, which cost a provider more per call than many of its checks."""

    def __init__(self, app: ASGIApp, *, new_tran_id: Callable[[], str]):
        self.app = app
        self.new_tran_id = new_tran_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tran_id = echoed_tran_id(Headers(scope=scope).get(TRAN_ID_HEADER), self.new_tran_id)
        scope.setdefault("state", {})["tran_id"] = tran_id  # request.state.tran_id
        log.clear()
        log.bind(tran_id=tran_id)

        async def send_with_tran_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[TRAN_ID_HEADER] = tran_id
            await send(message)

        await self.app(scope, receive, send_with_tran_id)
