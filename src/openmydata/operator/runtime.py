"""A running operator process: the database, TLS identity, outbound HTTP client, key manager, keyring, service and
collection job queue, built the same way by the web app's lifespan, the worker processes (`openmydata operator
worker`) and the commands (`openmydata operator collect --all`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import event

from openmydata.kit.audit import AuditChain
from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database, is_sqlite
from openmydata.kit.http import ClientsByOrigin, make_client
from openmydata.kit.jobs import run_worker
from openmydata.kit.logging import get_logger
from openmydata.kit.resilience import RateLimiter, RedisTokenBucket
from openmydata.operator.keyring import Keyring
from openmydata.operator.models import audit_head, audit_log, jobs
from openmydata.operator.personal import key_manager_for
from openmydata.operator.service import COLLECT_JOB, OperatorService, Peers
from openmydata.operator.settings import OperatorSettings
from openmydata.operator.tasks import enqueue_all, job_handlers, job_options, make_queue, run_periodically

HERE = Path(__file__).parent
_logger = get_logger("openmydata.operator.runtime")

Progress = Callable[[str, int, int], None]


class OperatorRuntime:
    """What a running operator process holds: its database (migrated), TLS identity, outbound HTTP client, key
    manager, keyring, the service and the collection job queue. The web app's lifespan, the workers and the
    commands build it the same way; `async with OperatorRuntime(settings) as runtime: ...`."""

    def __init__(self, settings: OperatorSettings, *, http_client: httpx.AsyncClient | None = None):
        self.settings = settings
        self._http_client = http_client
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> OperatorRuntime:
        settings = self.settings
        stack = self._stack
        try:
            self.db = Database(settings.database_url)
            stack.push_async_callback(self.db.dispose)
            if is_sqlite(settings.database_url):
                _secure_delete(self.db)
            await self.db.upgrade(HERE / "migrations")
            self.tls = settings.tls_identity()
            self.http = self._http_client or make_client(timeout_s=settings.http_timeout_s, tls=self.tls)
            provider_http: ClientsByOrigin | None = None
            if self._http_client is None:
                stack.push_async_callback(self.http.aclose)
                # a pool per provider, big enough for one person's calls to it and a few people at once
                provider_http = ClientsByOrigin(
                    lambda: make_client(
                        timeout_s=settings.http_timeout_s,
                        tls=self.tls,
                        max_connections=settings.collection_concurrency * 8,
                        keepalive_s=settings.provider_keepalive_s,
                    )
                )
                stack.push_async_callback(provider_http.aclose)
            manager = key_manager_for(settings, http=self.http)
            stack.push_async_callback(manager.aclose)
            if self.tls is not None:
                watcher = asyncio.create_task(self.tls.watch(settings.tls_reload_interval_s))
                stack.push_async_callback(cancel_task, watcher)
            async with self.db.transaction() as session:
                keyring = await Keyring.load(session, manager)
            assert keyring is not None
            limiter: RateLimiter | None = None
            if settings.rate_limit_redis_url:
                redis = Redis.from_url(settings.rate_limit_redis_url)
                stack.push_async_callback(redis.aclose)
                limiter = RedisTokenBucket(
                    redis, settings.provider_rate_per_s, settings.provider_burst, rates=settings.provider_rates
                )
            self.service = OperatorService(
                settings,
                Peers(self.http, settings, provider_http),
                keyring=keyring,
                audit=AuditChain(audit_log, audit_head),
                tls=self.tls,
                limiter=limiter,
            )
            self.queue = make_queue(settings, self.db, job_handlers(self.service, self.db))
            self.service.jobs = self.queue
            stack.push_async_callback(self.queue.stop)
        except BaseException:
            await stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    def run_in_background(self, name: str, interval_s: float, step: Callable[[], Awaitable[Any]]) -> None:
        """`step` every `interval_s` seconds while the runtime lives (0 disables)."""
        if interval_s > 0:
            task = asyncio.create_task(run_periodically(name, interval_s, step), name=f"operator-{name}")
            self._stack.push_async_callback(cancel_task, task)


async def cancel_task(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


def _secure_delete(db: Database) -> None:
    """SQLite overwrites deleted content with zeros, so a withdrawn person's ciphertext and wrapped data key do
    not linger in the database file's free pages."""

    @event.listens_for(db.engine.sync_engine, "connect")
    def _pragma(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()


async def serve_worker(settings: OperatorSettings, *, threads: int, stop: asyncio.Event) -> None:
    """A worker process (`openmydata operator worker`): runs collection jobs until `stop` is set — Dramatiq over
    RabbitMQ with `jobs_backend=dramatiq`, else the embedded pool over the operator's own database."""
    async with OperatorRuntime(settings) as runtime:
        async with runtime.db.transaction() as session:
            await runtime.service.sync_registry(session, force=True)
        if settings.jobs_backend == "dramatiq":
            await run_worker(
                runtime.db,
                jobs,
                job_handlers(runtime.service, runtime.db),
                broker_url=settings.jobs_broker_url,
                queue_name=settings.jobs_queue,
                options=job_options(settings),
                threads=threads,
                stop=stop,
            )
            return
        await runtime.queue.start()
        await stop.wait()


async def collect_all(
    settings: OperatorSettings, *, progress: Progress | None = None, wait: bool = True
) -> dict[str, Any]:
    """`openmydata operator collect --all`: a scheduled collection (x-api-type scheduled) for every live consent,
    each only for what is due in its cycle. With the embedded backend this process runs the jobs; with Dramatiq it
    publishes them and the workers run them. With `wait`, reports progress until every job has finished."""
    report = progress or (lambda _d, _c, _t: None)
    started = time.perf_counter()
    async with OperatorRuntime(settings) as runtime:
        service, db, queue = runtime.service, runtime.db, runtime.queue
        async with db.transaction() as session:
            await service.sync_registry(session, force=True)
        since = utcnow()
        enqueued = await enqueue_all(service, db, api_type="scheduled")
        await queue.start()
        counts: dict[str, int] = {}
        while wait:
            async with db.transaction() as session:
                counts = await queue.counts(session, kinds=[COLLECT_JOB], since=since)
            total = sum(counts.values())
            finished = sum(counts.get(state, 0) for state in ("done", "failed", "cancelled"))
            report("collections", finished, total)
            if finished >= total:
                break
            await asyncio.sleep(0.5)
        return {
            "enqueued": enqueued,
            "done": counts.get("done", 0),
            "failed": counts.get("failed", 0),
            "seconds": round(time.perf_counter() - started, 1),
        }
