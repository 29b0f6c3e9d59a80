"""What both backends share: the outbox enqueue, claiming under a lease, heartbeats, outcomes with retries and
back-off, progress queries and the maintenance loop. A backend only decides how due jobs reach `_claim_and_spawn`."""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, and_, delete, event, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from openmydata.kit.clock import as_utc, utcnow
from openmydata.kit.db import Database
from openmydata.kit.jobs.table import CANCELLED, DONE, FAILED, FINISHED_STATES, PENDING, RUNNING, live_predicate
from openmydata.kit.logging import get_logger

_logger = get_logger("openmydata.kit.jobs")

PURGE_BATCH = 500
EXPIRE_BATCH = 500
DRAIN_POLL_S = 0.1


@dataclass(frozen=True)
class Job:
    """What a handler receives. `attempts` counts this run (1 on the first)."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    group_key: str | None


Handler = Callable[[Job], Awaitable[Mapping[str, Any] | None]]


class RetryLater(Exception):
    """Raised by a handler to run the job again: after `delay_s` when given, else after the back-off. It counts as
    an attempt. `reason` is stored as the job's last_error, so it must be a code (`rate_limited`), never personal
    data."""

    def __init__(self, reason: str, delay_s: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.delay_s = delay_s


@dataclass(frozen=True)
class JobOptions:
    concurrency: int = 8
    poll_interval_s: float = 1.0
    lease_s: float = 30.0
    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    republish_after_s: float = 60.0
    retention_s: float = 7 * 86400


@dataclass(frozen=True)
class JobStatus:
    id: int
    kind: str
    state: str
    attempts: int
    not_before: datetime
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_error: str | None
    result: dict[str, Any] | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class _Claimed:
    job: Job
    max_attempts: int


def default_owner() -> str:
    """host:pid:random — unique per queue instance, so a restarted process never mistakes old leases for its own."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def _status(row: Row[Any]) -> JobStatus:
    return JobStatus(
        id=row.id,
        kind=row.kind,
        state=row.state,
        attempts=row.attempts,
        not_before=as_utc(row.not_before),
        created_at=as_utc(row.created_at),
        started_at=_aware(row.started_at),
        finished_at=_aware(row.finished_at),
        last_error=row.last_error,
        result=None if row.result is None else dict(row.result),
        payload=dict(row.payload),
    )


class JobQueue:
    """Base of both backends. Jobs run at least once: a handler may run again after a crash, a lost lease or a
    lost acknowledgement, so every handler must be safe to run twice."""

    def __init__(
        self,
        db: Database,
        table: Table,
        handlers: Mapping[str, Handler],
        options: JobOptions = JobOptions(),
        *,
        owner: str | None = None,
    ):
        self.db = db
        self.table = table
        self.handlers = dict(handlers)
        self.options = options
        self.owner = owner or default_owner()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._claims: set[asyncio.Future[list[asyncio.Task[None]]]] = set()
        self._running: dict[int, asyncio.Task[None]] = {}
        self._stopping = False
        self._stopped: asyncio.Event | None = None

    # -- enqueue and progress (in the caller's transaction) -------------------------------------------------------

    async def enqueue(
        self,
        session: AsyncSession,
        kind: str,
        payload: Mapping[str, Any],
        *,
        group_key: str | None = None,
        dedup_key: str | None = None,
        not_before: datetime | None = None,
        priority: int = 100,
        max_attempts: int | None = None,
    ) -> int | None:
        """Insert a job in the caller's transaction (never commits). Returns its id, or None when a live job with
        the same dedup_key exists. Nothing runs or is published before the transaction commits."""
        if kind not in self.handlers:
            raise ValueError(f"no handler for job kind {kind!r}")
        t = self.table
        now = utcnow()
        statement: postgresql.Insert | sqlite.Insert
        statement = postgresql.insert(t) if self.db.dialect == "postgresql" else sqlite.insert(t)
        statement = statement.values(
            kind=kind,
            payload=dict(payload),
            group_key=group_key,
            dedup_key=dedup_key,
            priority=priority,
            state=PENDING,
            attempts=0,
            max_attempts=max_attempts or self.options.max_attempts,
            not_before=as_utc(not_before) if not_before else now,
            created_at=now,
        )
        if dedup_key is not None:
            statement = statement.on_conflict_do_nothing(index_elements=[t.c.dedup_key], index_where=live_predicate(t))
        job_id = (await session.execute(statement.returning(t.c.id))).scalar_one_or_none()
        if job_id is not None:
            self._wake_after_commit(session)
        return None if job_id is None else int(job_id)

    def _wake_after_commit(self, session: AsyncSession) -> None:
        key = ("openmydata.kit.jobs.wake", id(self))
        if key in session.info:
            return
        session.info[key] = True

        def committed(_session: Session) -> None:
            session.info.pop(key, None)
            self.wake()

        # After a rollback the listener stays for the session's next commit, where an extra wake-up is harmless.
        event.listen(session.sync_session, "after_commit", committed, once=True)

    def wake(self) -> None:
        """Look for due jobs now instead of at the next poll (callable from any thread)."""
        loop, wakeup = self._loop, self._wakeup
        if loop is None or wakeup is None or loop.is_closed():
            return
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            wakeup.set()
        else:
            loop.call_soon_threadsafe(wakeup.set)

    async def cancel_group(self, session: AsyncSession, group_key: str, kinds: Collection[str] | None = None) -> int:
        """Cancel the group's pending jobs in the caller's transaction; running ones finish. Returns how many."""
        t = self.table
        statement = (
            update(t)
            .where(t.c.group_key == group_key, t.c.state == PENDING)
            .values(state=CANCELLED, finished_at=utcnow())
            .returning(t.c.id)
        )
        if kinds is not None:
            statement = statement.where(t.c.kind.in_(list(kinds)))
        return len((await session.execute(statement)).all())

    async def group_status(
        self, session: AsyncSession, group_key: str, *, since: datetime | None = None
    ) -> list[JobStatus]:
        t = self.table
        statement = select(t).where(t.c.group_key == group_key).order_by(t.c.created_at, t.c.id)
        if since is not None:
            statement = statement.where(t.c.created_at >= as_utc(since))
        return [_status(row) for row in (await session.execute(statement)).all()]

    async def counts(
        self, session: AsyncSession, *, kinds: Collection[str] | None = None, since: datetime | None = None
    ) -> dict[str, int]:
        t = self.table
        statement = select(t.c.state, func.count()).group_by(t.c.state)
        if kinds is not None:
            statement = statement.where(t.c.kind.in_(list(kinds)))
        if since is not None:
            statement = statement.where(t.c.created_at >= as_utc(since))
        return {state: int(number) for state, number in (await session.execute(statement)).all()}

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def _steps(self) -> list[tuple[str, Callable[[], Awaitable[None]], bool]]:
        """The background loops: (name, one round, woken by `wake()` rather than only polling)."""
        return [("maintenance", self._maintain, False)]

    async def _open(self) -> None:
        """Backend resources acquired by `start()` on the running loop."""

    async def _close(self) -> None:
        """Backend resources released at the end of `stop()`."""

    async def start(self) -> None:
        if self._loops:
            return
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopping = False
        await self._open()
        for name, step, woken in self._steps():
            self._loops.append(asyncio.create_task(self._repeat(name, step, woken=woken), name=f"jobs-{name}"))

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop claiming; running jobs get `timeout_s` to finish, then are cancelled and released (pending again)."""
        self._stopping = True
        loops, self._loops = self._loops, []
        if self._stopped is not None:
            self._stopped.set()
        if self._wakeup is not None:
            self._wakeup.set()
        # The loops end at their next pause. Cancelling one in the middle of a statement could leave its SQLite
        # connection holding the write lock (its rollback never runs), so cancellation is only the last resort.
        if loops:
            _done, late = await asyncio.wait(loops, timeout=max(timeout_s, self.options.poll_interval_s * 2))
            for task in late:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
        if self._claims:
            # A claim committed while its loop was cancelled still hands its jobs over, to finish or be released.
            await asyncio.wait(set(self._claims))
        await self._finish_running(timeout_s)
        await self._close()

    async def _finish_running(self, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._running:
            tasks = set(self._running.values())
            remaining = deadline - loop.time()
            if remaining > 0:
                await asyncio.wait(tasks, timeout=remaining)
                continue
            ids = list(self._running)
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            for job_id in ids:
                self._running.pop(job_id, None)
            try:
                await self._release(ids)
                _logger.info("jobs released at shutdown", jobs=len(ids))
            except Exception as exc:
                _logger.warning("jobs not released at shutdown; their leases expire", error=type(exc).__name__)

    async def drain(self, *, timeout_s: float) -> None:
        """Wait until no job is pending-and-due or running (in any process); TimeoutError after `timeout_s`."""
        t = self.table
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            now = utcnow()
            busy_rows = or_(and_(t.c.state == PENDING, t.c.not_before <= now), t.c.state == RUNNING)
            async with self.db.sessions() as session:
                busy = (await session.execute(select(func.count()).select_from(t).where(busy_rows))).scalar_one()
            if busy == 0 and not self._running:
                return
            if loop.time() >= deadline:
                raise TimeoutError(f"{busy} jobs still due or running after {timeout_s} s")
            await asyncio.sleep(min(self.options.poll_interval_s, DRAIN_POLL_S))

    async def _repeat(self, name: str, step: Callable[[], Awaitable[None]], *, woken: bool) -> None:
        assert self._wakeup is not None
        while not self._stopping:
            if woken:
                self._wakeup.clear()
            try:
                await step()
            except Exception as exc:
                # The database or the broker may be away (a restart): the loop outlives it and tries again.
                _logger.warning("job loop round failed", loop=name, error=type(exc).__name__)
                await self._pause(self.options.poll_interval_s)
                continue
            await self._pause(self.options.poll_interval_s, self._wakeup if woken else None)

    async def _pause(self, seconds: float, wakeup: asyncio.Event | None = None) -> None:
        """Sleep `seconds`, or less when stopping (or when `wakeup` is set)."""
        events = [event for event in (self._stopped, wakeup) if event is not None]
        waiters = [asyncio.ensure_future(event.wait()) for event in events]
        try:
            # asyncio.wait, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives as the
            # wake-up does, and the loop would never end.
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # -- claiming and running -------------------------------------------------------------------------------------

    def _claimable(self, now: datetime) -> ColumnElement[bool]:
        t = self.table
        return and_(
            # Only kinds this process can run: another process (a newer release) may know more kinds.
            t.c.kind.in_(list(self.handlers)),
            or_(
                and_(t.c.state == PENDING, t.c.not_before <= now),
                # A dead worker's job; one out of attempts is failed by maintenance instead of running forever.
                and_(t.c.state == RUNNING, t.c.lease_until < now, t.c.attempts < t.c.max_attempts),
            ),
        )

    async def _claim(self, *, limit: int | None = None, job_id: int | None = None) -> list[_Claimed]:
        """Take due jobs (up to `limit`, by priority then id) or the one `job_id`, each by a conditional UPDATE:
        a row comes back only to the one process whose update matched it."""
        t = self.table
        now = utcnow()
        claimable = self._claimable(now)
        async with self.db.transaction() as session:
            if job_id is None:
                candidates = select(t.c.id).where(claimable).order_by(t.c.priority, t.c.id).limit(limit)
                if self._running:
                    candidates = candidates.where(t.c.id.not_in(list(self._running)))
                # PostgreSQL: concurrent claimers skip each other's candidates (SQLite has one writer: no-op).
                ids = list((await session.scalars(candidates.with_for_update(skip_locked=True))).all())
            else:
                ids = [job_id]
            if not ids:
                return []
            claim = (
                update(t)
                .where(t.c.id.in_(ids), claimable)
                .values(
                    state=RUNNING,
                    attempts=t.c.attempts + 1,
                    lease_until=now + timedelta(seconds=self.options.lease_s),
                    lease_owner=self.owner,
                    started_at=now,
                )
                .returning(t.c.id, t.c.kind, t.c.payload, t.c.attempts, t.c.group_key, t.c.max_attempts, t.c.priority)
            )
            rows = sorted((await session.execute(claim)).all(), key=lambda row: (row.priority, row.id))
        return [
            _Claimed(Job(row.id, row.kind, dict(row.payload), row.attempts, row.group_key), row.max_attempts)
            for row in rows
        ]

    async def _claim_and_spawn(
        self, *, limit: int | None = None, job_id: int | None = None
    ) -> list[asyncio.Task[None]]:
        """Claim and start running; tracked and shielded, so `stop()` sees every job a committed claim took."""
        claim = asyncio.ensure_future(self._claim_then_spawn(limit, job_id))
        self._claims.add(claim)
        claim.add_done_callback(self._forget_claim)
        return await asyncio.shield(claim)

    def _forget_claim(self, claim: asyncio.Future[list[asyncio.Task[None]]]) -> None:
        self._claims.discard(claim)
        if not claim.cancelled():
            claim.exception()  # retrieved: when its caller was cancelled meanwhile, nobody else would

    async def _claim_then_spawn(self, limit: int | None, job_id: int | None) -> list[asyncio.Task[None]]:
        return [self._spawn(claimed) for claimed in await self._claim(limit=limit, job_id=job_id)]

    def _spawn(self, claimed: _Claimed) -> asyncio.Task[None]:
        job_id = claimed.job.id
        task = asyncio.create_task(self._execute(claimed), name=f"job-{job_id}")
        self._running[job_id] = task

        def finished(done: asyncio.Task[None]) -> None:
            self._running.pop(job_id, None)
            if not done.cancelled() and done.exception() is not None:
                _logger.error("job runner failed", job_id=job_id, error=type(done.exception()).__name__)
            if self._wakeup is not None:
                self._wakeup.set()  # a slot is free

        task.add_done_callback(finished)
        return task

    async def _execute(self, claimed: _Claimed) -> None:
        job = claimed.job
        finished = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(job.id, finished), name=f"job-{job.id}-heartbeat")
        failure: tuple[str, float | None] | None = None
        result: dict[str, Any] | None = None
        try:
            returned = await self.handlers[job.kind](job)
            # Stored as JSON: a result that is not JSON is the handler's error, found here rather than at the update.
            result = None if returned is None else json.loads(json.dumps(dict(returned)))
        except RetryLater as exc:
            failure = (exc.reason or type(exc).__name__, exc.delay_s)
        except Exception as exc:
            failure = (type(exc).__name__, None)
        finally:
            # The heartbeat ends between its updates, never inside one (a cancelled SQLite statement can leave its
            # connection holding the write lock).
            finished.set()
            await asyncio.wait({heartbeat})
        try:
            if failure is None:
                await self._record_done(job, result)
            else:
                await self._record_failure(claimed, *failure)
        except Exception as exc:
            _logger.warning(
                "job outcome not recorded; it runs again when its lease expires",
                job_id=job.id,
                kind=job.kind,
                error=type(exc).__name__,
            )

    def _owned(self, job_id: int) -> ColumnElement[bool]:
        t = self.table
        return and_(t.c.id == job_id, t.c.state == RUNNING, t.c.lease_owner == self.owner)

    async def _heartbeat(self, job_id: int, finished: asyncio.Event) -> None:
        t = self.table
        while True:
            with suppress(TimeoutError):
                async with asyncio.timeout(self.options.lease_s / 3):
                    await finished.wait()
            if finished.is_set():
                return
            try:
                async with self.db.transaction() as session:
                    extend = (
                        update(t)
                        .where(self._owned(job_id))
                        .values(lease_until=utcnow() + timedelta(seconds=self.options.lease_s))
                        .returning(t.c.id)
                    )
                    kept = (await session.execute(extend)).first()
            except Exception as exc:
                _logger.warning("job lease not extended", job_id=job_id, error=type(exc).__name__)
                continue
            if kept is None:
                _logger.warning("job lease lost to another worker", job_id=job_id)
                return

    async def _record_done(self, job: Job, result: dict[str, Any] | None) -> None:
        t = self.table
        done = (
            update(t)
            .where(self._owned(job.id))
            .values(state=DONE, finished_at=utcnow(), result=result, lease_until=None, lease_owner=None)
            .returning(t.c.id)
        )
        async with self.db.transaction() as session:
            recorded = (await session.execute(done)).first()
        if recorded is None:
            _logger.warning(
                "job finished after its lease was lost; left to its new holder", job_id=job.id, kind=job.kind
            )

    async def _record_failure(self, claimed: _Claimed, reason: str, delay_s: float | None) -> None:
        t = self.table
        job = claimed.job
        now = utcnow()
        values: dict[str, Any]
        if job.attempts < claimed.max_attempts:
            wait_s = delay_s if delay_s is not None else self._backoff(job.attempts)
            values = {"state": PENDING, "not_before": now + timedelta(seconds=wait_s), "published_at": None}
        else:
            values = {"state": FAILED, "finished_at": now}
        failed = (
            update(t)
            .where(self._owned(job.id))
            .values(last_error=reason[:200], lease_until=None, lease_owner=None, **values)
            .returning(t.c.id)
        )
        async with self.db.transaction() as session:
            recorded = (await session.execute(failed)).first()
        if recorded is None:
            _logger.warning("job failed after its lease was lost; left to its new holder", job_id=job.id, kind=job.kind)
        elif values["state"] == FAILED:
            _logger.error("job failed", job_id=job.id, kind=job.kind, attempts=job.attempts, error=reason[:200])
        else:
            _logger.warning(
                "job will run again", job_id=job.id, kind=job.kind, attempts=job.attempts, error=reason[:200]
            )

    def _backoff(self, attempt: int) -> float:
        """Exponential back-off with full jitter, so that jobs failing together do not come back together."""
        ceiling = min(self.options.backoff_max_s, self.options.backoff_base_s * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    async def _release(self, ids: list[int]) -> None:
        t = self.table
        release = (
            update(t)
            .where(t.c.id.in_(ids), t.c.state == RUNNING, t.c.lease_owner == self.owner)
            .values(state=PENDING, lease_until=None, lease_owner=None, published_at=None)
        )
        async with self.db.transaction() as session:
            await session.execute(release)

    # -- maintenance ----------------------------------------------------------------------------------------------

    async def _maintain(self) -> None:
        await self._expire_leases()
        await self._purge()

    async def _expire_leases(self) -> None:
        """Running jobs whose holder stopped extending the lease (it died) become pending again, unpublished so the
        distributed publisher sends them again; those out of attempts fail."""
        t = self.table
        now = utcnow()
        expired = and_(t.c.state == RUNNING, t.c.lease_until < now)
        released = {"lease_until": None, "lease_owner": None}
        candidates = select(t.c.id).where(expired).limit(EXPIRE_BATCH)
        if self._running:
            # Alive here, only late to extend (a busy loop or a slow write lock): its heartbeat renews the lease.
            candidates = candidates.where(t.c.id.not_in(list(self._running)))
        async with self.db.transaction() as session:
            ids = list((await session.scalars(candidates)).all())
            if not ids:
                return
            exhausted = and_(t.c.id.in_(ids), expired, t.c.attempts >= t.c.max_attempts)
            await session.execute(
                update(t).where(exhausted).values(state=FAILED, finished_at=now, last_error="LeaseExpired", **released)
            )
            await session.execute(
                update(t).where(t.c.id.in_(ids), expired).values(state=PENDING, published_at=None, **released)
            )
        _logger.warning("job leases expired; the jobs run again", jobs=len(ids))

    async def _purge(self) -> None:
        t = self.table
        cutoff = utcnow() - timedelta(seconds=self.options.retention_s)
        old = and_(t.c.state.in_(FINISHED_STATES), t.c.finished_at < cutoff)
        while True:
            async with self.db.transaction() as session:
                # Select first: on SQLite a DELETE takes the write lock even when nothing matches.
                ids = list((await session.scalars(select(t.c.id).where(old).limit(PURGE_BATCH))).all())
                if ids:
                    await session.execute(delete(t).where(t.c.id.in_(ids)))
            if len(ids) < PURGE_BATCH:
                return
