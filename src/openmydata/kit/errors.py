"""One error base class, one envelope, one exception handler.

A `ServiceError` carries an HTTP status and a response code; `standard.codes` builds the standard's errors on
it. OAuth endpoints raise `OAuthError`, which renders an RFC 6749 error body instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

TRAN_ID_HEADER = "x-api-tran-id"


class ServiceError(Exception):
    """A business error: rendered as `{"rsp_code", "rsp_msg"}` with its HTTP status."""

    def __init__(self, status_code: int, rsp_code: str, rsp_msg: str, headers: Mapping[str, str] | None = None):
        super().__init__(f"{rsp_code} {rsp_msg}")
        self.status_code = status_code
        self.rsp_code = rsp_code
        self.rsp_msg = rsp_msg
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"rsp_code": self.rsp_code, "rsp_msg": self.rsp_msg}


class OAuthError(Exception):
    """An RFC 6749 §5.2 error (`error`, `error_description`)."""

    def __init__(
        self,
        error: str,
        description: str = "",
        status_code: int = 400,
        extra: Mapping[str, str] | None = None,
    ):
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status_code = status_code
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        body.update(self.extra)
        return body


class PeerUnavailable(Exception):
    """Another participant could not be reached or answered with a server error."""

    def __init__(self, peer: str, reason: str):
        super().__init__(f"{peer}: {reason}")
        self.peer = peer
        self.reason = reason


class PeerError(Exception):
    """Another participant answered with an error envelope."""

    def __init__(self, peer: str, status_code: int, body: Mapping[str, Any], *, retry_after_s: float | None = None):
        code = body.get("rsp_code") or body.get("error") or ""
        super().__init__(f"{peer}: HTTP {status_code} {code}")
        self.peer = peer
        self.status_code = status_code
        self.body = dict(body)
        # What the peer's Retry-After header asked for (429, 503), in seconds; None when it sent none.
        self.retry_after_s = retry_after_s

    @property
    def code(self) -> str:
        return str(self.body.get("rsp_code") or self.body.get("error") or "")


def _tran_id_headers(request: Request) -> dict[str, str]:
    tran_id = getattr(request.state, "tran_id", None) or request.headers.get(TRAN_ID_HEADER)
    return {TRAN_ID_HEADER: tran_id} if tran_id else {}


ErrorMapper = Callable[[Request, int], ServiceError | None]


def install_error_handlers(
    app: FastAPI,
    *,
    validation_error: Callable[[Request], ServiceError],
    http_error: Callable[[Request, int], ServiceError],
    internal_error: Callable[[Request], ServiceError],
) -> None:
    """Render every error in the service's envelope; nothing escapes as a bare 500 page."""

    async def on_service_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ServiceError)
        headers = {**_tran_id_headers(request), **exc.headers}
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

    async def on_oauth_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OAuthError)
        headers = _tran_id_headers(request)
        headers["Cache-Control"] = "no-store"
        if exc.status_code == 401:
            headers["WWW-Authenticate"] = f'Bearer error="{exc.error}"'
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        return await on_service_error(request, validation_error(request))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return await on_service_error(request, http_error(request, exc.status_code))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return await on_service_error(request, internal_error(request))

    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(OAuthError, on_oauth_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
