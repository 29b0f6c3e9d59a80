"""The operator's application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
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
from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database
from openmydata.kit.errors import PeerUnavailable, ServiceError
from openmydata.operator.endpoints import render, router
from openmydata.operator.i18n import N_, request_language, translations
from openmydata.operator.individual import router as individual_router
from openmydata.operator.insights.endpoints import router as insights_router
from openmydata.operator.insights.view import CreditView
from openmydata.operator.runtime import OperatorRuntime, cancel_task
from openmydata.operator.service import OperatorService
from openmydata.operator.settings import OperatorSettings
from openmydata.operator.statistics import start_weekly_statistics
from openmydata.operator.support import router as support_router
from openmydata.operator.support import statistics_for
from openmydata.operator.tasks import schedule_due
from openmydata.standard.client import ApiCallError
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.formats import Party, new_tran_id
from openmydata.standard.peers import PeerCheckMiddleware, PeerRegistry, RegisteredOrg
from openmydata.standard.service import install_standard_errors, install_tran_id

HERE = Path(__file__).parent
_logger = log.get_logger("openmydata.operator")

Handler = Callable[[Request, Exception], Awaitable[Response]]

_PAGE_MESSAGES = {
    401: N_("로그인이 필요합니다."),
    403: N_("요청을 처리할 수 없습니다."),
    404: N_("페이지를 찾을 수 없습니다."),
    405: N_("허용되지 않는 요청입니다."),
}


def create_app(settings: OperatorSettings | None = None, *, http_client: httpx.AsyncClient | None = None) -> FastAPI:
    """The operator app. `http_client` (optional) carries every outbound call, e.g. to in-process peers."""
    settings = settings or OperatorSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with OperatorRuntime(settings, http_client=http_client) as runtime:
            service, db = runtime.service, runtime.db
            app.state.db = db
            app.state.service = service
            app.state.runtime = runtime
            try:
                async with db.transaction() as session:
                    await service.sync_registry(session, force=True)
            except ServiceError as exc:
                _logger.warning("provider registry not loaded at start-up", rsp_code=exc.rsp_code)
            if settings.jobs_run_in_app:
                await runtime.queue.start()
            runtime.run_in_background(
                "housekeeping", settings.housekeeping_interval_s, lambda: _housekeeping(db, service)
            )
            runtime.run_in_background("scheduler", settings.schedule_interval_s, lambda: _schedule(db, service))
            reporter = start_weekly_statistics(statistics_for(app))
            try:
                yield
            finally:
                if reporter is not None:
                    await cancel_task(reporter)

    app = FastAPI(title=f"openmydata operator ({settings.org_name})", lifespan=lifespan)
    app.state.settings = settings
    app.state.credit = CreditView(Path(settings.credit_model_path))
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
    app.include_router(insights_router)
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


async def _housekeeping(db: Database, service: OperatorService) -> None:
    """`service.housekeeping` in its own transaction (the app runs it every `housekeeping_interval_s`)."""
    async with db.transaction() as session:
        report = await service.housekeeping(session, utcnow())
    if report.consents_ended or report.purged:
        _logger.info(
            "housekeeping done",
            consents_ended=report.consents_ended,
            purged=report.purged,
            rows_deleted=report.rows_deleted,
        )


async def _schedule(db: Database, service: OperatorService) -> None:
    """One scheduler pass (정기적 전송), after bringing the provider registry (and its windows) up to date."""
    async with db.transaction() as session:
        await service.sync_registry(session)
    await schedule_due(service, db)


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
        """The error page in the person's language (a message the catalogue does not know is shown as it is)."""
        settings: OperatorSettings = request.app.state.settings
        tr = translations(request_language(request))
        return render(
            request,
            "error.html",
            {
                "title": tr.gettext("오류"),
                "org_name": settings.org_name,
                "signed_in": False,
                "csrf": "",
                "message": tr.gettext(message) if message else message,
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
        return page(request, exc.status_code, _PAGE_MESSAGES.get(exc.status_code, N_("요청을 처리할 수 없습니다.")))

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        if not _wants_page(request):
            return await json_validation_error(request, exc)
        return page(request, 400, N_("입력값을 확인해 주세요."))

    async def on_peer_error(request: Request, exc: Exception) -> Response:
        _logger.warning("peer failure", error=str(exc))
        return await on_service_error(request, StandardError(RspCode.PROCESSING_FAILED, "peer failure"))

    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(PeerUnavailable, on_peer_error)
    app.add_exception_handler(ApiCallError, on_peer_error)
