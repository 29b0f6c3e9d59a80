"""The operator's application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy import event
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from openmydata.kit import logging as log
from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database, is_sqlite
from openmydata.kit.errors import PeerUnavailable, ServiceError
from openmydata.kit.http import make_client
from openmydata.operator.endpoints import TEMPLATES, router
from openmydata.operator.individual import router as individual_router
from openmydata.operator.keyring import Keyring
from openmydata.operator.models import audit_head, audit_log
from openmydata.operator.personal import key_manager_for
from openmydata.operator.service import OperatorService, Peers
from openmydata.operator.settings import OperatorSettings
from openmydata.operator.statistics import start_weekly_statistics
from openmydata.operator.support import router as support_router
from openmydata.operator.support import statistics_for
from openmydata.standard.client import ApiCallError
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.peers import PeerCheckMiddleware, PeerRegistry, RegisteredOrg
from openmydata.standard.service import install_standard_errors, install_tran_id

HERE = Path(__file__).parent
_logger = log.get_logger("openmydata.operator")

Handler = Callable[[Request, Exception], Awaitable[Response]]

_PAGE_MESSAGES = {
    401: "로그인이 필요합니다.",
    403: "요청을 처리할 수 없습니다.",
    404: "페이지를 찾을 수 없습니다.",
    405: "허용되지 않는 요청입니다.",
}


def create_app(settings: OperatorSettings | None = None, *, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    """The operator app. `http_client` (optional) carries every outbound call, e.g. to in-process peers."""
    settings = settings or OperatorSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        if is_sqlite(settings.database_url):
            _secure_delete(db)
        await db.upgrade(HERE / "migrations")
        tls = settings.tls_identity()
        http = http_client or make_client(timeout_s=settings.http_timeout_s, tls=tls)
        manager = key_manager_for(settings, http=http)
        watcher = asyncio.create_task(tls.watch(settings.tls_reload_interval_s)) if tls is not None else None
        housekeeping: asyncio.Task[None] | None = None
        reporter: asyncio.Task[None] | None = None
        try:
            async with db.transaction() as session:
                keyring = await Keyring.load(session, manager)
            assert keyring is not None
            service = OperatorService(
                settings, Peers(http, settings), keyring=keyring, audit=AuditChain(audit_log, audit_head), tls=tls
            )
            app.state.db = db
            app.state.service = service
            try:
                async with db.transaction() as session:
                    await service.sync_registry(session, force=True)
            except ServiceError as exc:
                _logger.warning("provider registry not loaded at start-up", rsp_code=exc.rsp_code)
            if settings.housekeeping_interval_s > 0:
                housekeeping = asyncio.create_task(
                    run_housekeeping(db, service, settings.housekeeping_interval_s), name="operator-housekeeping"
                )
            reporter = start_weekly_statistics(statistics_for(app))
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            if reporter is not None:
                reporter.cancel()
                with suppress(asyncio.CancelledError):
                    await reporter
            if housekeeping is not None:
                housekeeping.cancel()
                with suppress(asyncio.CancelledError):
                    await housekeeping
            await manager.aclose()
            if http_client is None:
                await http.aclose()
            await db.dispose()

    app = FastAPI(title=f"openmydata operator ({settings.org_name})", lifespan=lifespan)
    app.state.settings = settings
    install_standard_errors(app)
    _install_page_errors(app)
    install_tran_id(app, new_tran_id=lambda: new_tran_id(settings.org_code, Party.OPERATOR))

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if not request.url.path.startswith("/api"):
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault(
                "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'"
            )
        return response

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)
    app.include_router(individual_router)
    app.include_router(support_router)
    # Only the portal calls the operator's participant APIs (지원-101/103/104); its certificate is known from settings.
    portal = RegisteredOrg(org_code=settings.portal_org_code, org_type="07", serial_num=settings.portal_serial_num)
    portal_registry = PeerRegistry(None, mode="serial", fixed=[portal] if settings.portal_serial_num else [])
    app.add_middleware(
        PeerCheckMiddleware,
        registry=lambda: portal_registry,
        is_peer_path=is_participant_path,
        allow_plain_http=settings.insecure_plain_http,
    )
    return app


def is_participant_path(path: str) -> bool:
    """지원-101/103/104 (the portal's calls): mutual TLS with the portal's certificate. The person's pages and JSON API
    are not participant APIs."""
    return path.startswith(("/mgmts/", "/v1/mgmts/"))


async def run_housekeeping(db: Database, service: OperatorService, interval_s: float) -> None:
    """Every `interval_s` seconds (first one interval after start), `service.housekeeping` in its own transaction.
    A failure is logged (its type only, never personal data) and the loop carries on; only cancellation ends it."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            async with db.transaction() as session:
                report = await service.housekeeping(session, utcnow())
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the background loop must outlive any one failure
            _logger.error("housekeeping failed", error=type(exc).__name__)
        else:
            if report.consents_ended or report.purged:
                _logger.info(
                    "housekeeping done",
                    consents_ended=report.consents_ended,
                    purged=report.purged,
                    rows_deleted=report.rows_deleted,
                )


def _secure_delete(db: Database) -> None:
    """SQLite overwrites deleted content with zeros, so a withdrawn person's ciphertext and wrapped data key do
    not linger in the database file's free pages."""

    @event.listens_for(db.engine.sync_engine, "connect")
    def _pragma(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


def _wants_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith(("/api", "/static", "/mgmts", "/v1/")) or path in {"/openapi.json", "/docs"})


def _install_page_errors(app: FastAPI) -> None:
    """Pages get an HTML error page; the JSON API keeps the {rsp_code, rsp_msg} envelope."""
    json_service_error: Handler = app.exception_handlers[ServiceError]  # type: ignore[assignment]
    json_http_error: Handler = app.exception_handlers[StarletteHTTPException]  # type: ignore[assignment]
    json_validation_error: Handler = app.exception_handlers[RequestValidationError]  # type: ignore[assignment]

    def page(request: Request, status: int, message: str) -> Response:
        settings: OperatorSettings = request.app.state.settings
        return TEMPLATES.TemplateResponse(
            request,
            "error.html",
            {
                "title": "오류",
                "org_name": settings.org_name,
                "signed_in": False,
                "csrf": "",
                "message": message,
                "status": status,
            },
            status_code=status,
        )

    async def on_service_error(request: Request, exc: Exception) -> Response:
        if not _wants_page(request):
            return await json_service_error(request, exc)
        assert isinstance(exc, ServiceError)
        if exc.status_code == 401:
            return Response(status_code=303, headers={"Location": "/"})
        return page(request, exc.status_code, exc.rsp_msg)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        if not _wants_page(request):
            return await json_http_error(request, exc)
        assert isinstance(exc, StarletteHTTPException)
        return page(request, exc.status_code, _PAGE_MESSAGES.get(exc.status_code, "요청을 처리할 수 없습니다."))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        if not _wants_page(request):
            return await json_validation_error(request, exc)
        return page(request, 400, "입력값을 확인해 주세요.")

    async def on_peer_error(request: Request, exc: Exception) -> Response:
        _logger.warning("peer failure", error=str(exc))
        return await on_service_error(request, StandardError(RspCode.PROCESSING_FAILED, "peer failure"))

    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(PeerUnavailable, on_peer_error)
    app.add_exception_handler(ApiCallError, on_peer_error)
