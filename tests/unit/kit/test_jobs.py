"""The job queue's shared behaviour, through the embedded backend, on both dialects: the outbox (nothing runs before
commit, nothing after a rollback), dedup, priority, retries with back-off, RetryLater, failure, cancellation and
progress, at-least-once with idempotent handlers, shutdown and restart, expired leases, purge, a database that goes
away, and hosting in a FastAPI lifespan and a plain `asyncio.run` program. kit has no migrations of its own, so the
jobs table is built directly (participants create it through their migrations)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI, Request
from sqlalchemy import Column, Integer, MetaData, Row, String, Table, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from openmydata.kit.clock import as_utc, utcnow
from openmydata.kit.db import Database
from openmydata.kit.jobs import EmbeddedQueue, Job, JobOptions, JobQueue, RetryLater, job_table
from openmydata.kit.server import start_server

FAST = JobOptions(
    concurrency=4,
    poll_interval_s=0.05,
    lease_s=1.0,
    max_attempts=3,
    backoff_base_s=0.05,
    backoff_max_s=0.2,
    retention_s=3600,
)
DEADLINE_S = 30.0


@dataclass
class Harness:
    db: Database
    jobs: Table
    effects: Table  # one row per natural key: what an idempotent handler produces
    runs: Table  # one row per handler run: how often it ran

    async def upsert_effect(self, natural_key: str, job_id: int) -> None:
        statement = (postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert)(self.effects)
        async with self.db.transaction() as session:
            await session.execute(
                statement.values(natural_key=natural_key, job_id=job_id).on_conflict_do_nothing(
                    index_elements=["natural_key"]
                )
            )

    async def record_run(self, job: Job) -> None:
        async with self.db.transaction() as session:
            await session.execute(insert(self.runs).values(job_id=job.id, attempt=job.attempts))

    async def rows(self) -> list[Row[Any]]:
        async with self.db.sessions() as session:
            return list((await session.execute(select(self.jobs).order_by(self.jobs.c.id))).all())

    async def row(self, job_id: int) -> Row[Any]:
        async with self.db.sessions() as session:
            return (await session.execute(select(self.jobs).where(self.jobs.c.id == job_id))).one()

    async def count(self, table: Table) -> int:
        async with self.db.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(table))).scalar_one())

    async def insert_job(self, **values: Any) -> int:
        now = utcnow()
        row = {"kind": "collect", "payload": {}, "state": "pending", "max_attempts": 8, "not_before": now}
        row |= {"created_at": now, **values}
        async with self.db.transaction() as session:
            return int((await session.execute(insert(self.jobs).values(**row).returning(self.jobs.c.id))).scalar_one())


async def build_harness(db_url: str) -> Harness:
    metadata = MetaData()
    jobs = job_table(metadata)
    effects = Table(
        "job_effects",
        metadata,
        Column("natural_key", String(64), primary_key=True),
        Column("job_id", Integer, nullable=False),
    )
    runs = Table(
        "job_runs",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("job_id", Integer, nullable=False),
        Column("attempt", Integer, nullable=False),
    )
    db = Database(db_url)
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return Harness(db, jobs, effects, runs)


@pytest.fixture
async def harness(db_url: str) -> AsyncIterator[Harness]:
    built = await build_harness(db_url)
    try:
        yield built
    finally:
        await built.db.dispose()


@asynccontextmanager
async def running(queue: JobQueue) -> AsyncIterator[JobQueue]:
    await queue.start()
    try:
        yield queue
    finally:
        await queue.stop(timeout_s=5)


async def wait_until(condition: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Wait for a condition with a generous deadline (never a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while True:
        outcome = condition()
        if outcome if isinstance(outcome, bool) else await outcome:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still waiting for {what} after {DEADLINE_S} s")
        await asyncio.sleep(0.02)


def recording(calls: list[Job], result: Mapping[str, Any] | None = None) -> Callable[[Job], Awaitable[Any]]:
    async def handler(job: Job) -> Mapping[str, Any] | None:
        calls.append(job)
        return result

    return handler


class ObservedQueue(EmbeddedQueue):
    """Counts the dispatcher's rounds, so a test can let several pass instead of sleeping."""

    rounds = 0

    async def _dispatch(self) -> None:
        await super()._dispatch()
        self.rounds += 1


class TestEnqueue:
    async def test_a_rolled_back_enqueue_leaves_no_job_and_runs_nothing(self, harness: Harness) -> None:
        calls: list[Job] = []
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording(calls)}, FAST)
        async with running(queue):
            enqueued: list[int | None] = []

            async def failing_business_change() -> None:
                async with harness.db.transaction() as session:
                    enqueued.append(await queue.enqueue(session, "collect", {"person": "lost"}))
                    raise RuntimeError("the business change failed")

            with pytest.raises(RuntimeError):
                await failing_business_change()
            async with harness.db.transaction() as session:
                kept = await queue.enqueue(session, "collect", {"person": "kept"})
            await queue.drain(timeout_s=DEADLINE_S)
        assert enqueued[0] is not None
        assert [job.payload for job in calls] == [{"person": "kept"}]
        assert [row.id for row in await harness.rows()] == [kept]

    async def test_a_job_runs_only_after_its_transaction_commits(self, harness: Harness) -> None:
        calls: list[Job] = []
        # Polling is slow here: only the after-commit wake-up can make the job run promptly.
        options = JobOptions(poll_interval_s=DEADLINE_S * 2, lease_s=1.0)
        queue = ObservedQueue(harness.db, harness.jobs, {"collect": recording(calls)}, options)
        async with running(queue):
            async with harness.db.transaction() as session:
                job_id = await queue.enqueue(session, "collect", {"person": 1})
                before = queue.rounds
                for _ in range(3):
                    queue.wake()
                    await wait_until(lambda before=before: queue.rounds > before, "a dispatcher round")
                    before = queue.rounds
                assert calls == []
            await wait_until(lambda: len(calls) == 1, "the job to run after commit")
        assert calls[0].id == job_id
        assert calls[0].attempts == 1

    async def test_an_unknown_kind_is_refused_at_enqueue(self, harness: Harness) -> None:
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording([])}, FAST)
        async with harness.db.transaction() as session:
            with pytest.raises(ValueError, match="no handler"):
                await queue.enqueue(session, "colect", {})
        assert await harness.rows() == []

    async def test_a_live_dedup_key_is_enqueued_once_and_again_after_it_finished(self, harness: Harness) -> None:
        calls: list[Job] = []
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording(calls)}, FAST)
        async with harness.db.transaction() as session:
            first = await queue.enqueue(session, "collect", {"n": 1}, dedup_key="collect:person:17")
            other = await queue.enqueue(session, "collect", {"n": 2}, dedup_key="collect:person:18")
        async with harness.db.transaction() as session:
            duplicate = await queue.enqueue(session, "collect", {"n": 3}, dedup_key="collect:person:17")
        assert first is not None
        assert other is not None
        assert duplicate is None
        async with running(queue):
            await queue.drain(timeout_s=DEADLINE_S)
            async with harness.db.transaction() as session:
                again = await queue.enqueue(session, "collect", {"n": 4}, dedup_key="collect:person:17")
            await queue.drain(timeout_s=DEADLINE_S)
        assert again is not None
        assert again not in (first, other)
        assert sorted(job.payload["n"] for job in calls) == [1, 2, 4]
        assert [row.state for row in await harness.rows()] == ["done"] * 3

    async def test_dedup_holds_across_many_enqueues_on_one_connection(self, harness: Harness) -> None:
        # PostgreSQL switches a prepared statement to a generic plan after a few executions; the ON CONFLICT
        # predicate must still name the partial unique index then (it does, written with literal values).
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording([])}, FAST)
        async with harness.db.transaction() as session:
            ids = [await queue.enqueue(session, "collect", {"n": n}, dedup_key=f"k{n % 10}") for n in range(30)]
        assert len([job_id for job_id in ids if job_id is not None]) == 10
        assert all(job_id is None for job_id in ids[10:])


class TestRunning:
    async def test_due_jobs_run_by_priority_then_age(self, harness: Harness) -> None:
        calls: list[Job] = []
        options = JobOptions(concurrency=1, poll_interval_s=0.05, lease_s=1.0)
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording(calls)}, options)
        async with harness.db.transaction() as session:
            for name, priority in [("routine-1", 100), ("urgent-1", 10), ("normal", 50), ("urgent-2", 10)]:
                await queue.enqueue(session, "collect", {"name": name}, priority=priority)
        async with running(queue):
            await queue.drain(timeout_s=DEADLINE_S)
        assert [job.payload["name"] for job in calls] == ["urgent-1", "urgent-2", "normal", "routine-1"]

    async def test_a_failing_job_is_retried_with_back_off_until_done(self, harness: Harness) -> None:
        async def flaky(job: Job) -> Mapping[str, Any]:
            await harness.record_run(job)
            if job.attempts < 3:
                raise ConnectionError("provider unavailable")
            return {"accounts": 2}

        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": flaky}, FAST)
        async with harness.db.transaction() as session:
            job_id = await queue.enqueue(session, "collect", {"person": 1})
        assert job_id is not None
        async with running(queue):
            await wait_until(lambda: _state_of(harness, job_id, "done"), "the job to succeed")
        row = await harness.row(job_id)
        assert (row.state, row.attempts, row.last_error, row.result) == ("done", 3, "ConnectionError", {"accounts": 2})
        assert (row.lease_owner, row.lease_until) == (None, None)
        assert row.finished_at is not None
        assert await harness.count(harness.runs) == 3

    async def test_a_failed_attempt_is_rescheduled_within_the_back_off_window(self, harness: Harness) -> None:
        async def failing(job: Job) -> None:
            raise ConnectionError

        options = JobOptions(poll_interval_s=0.05, lease_s=1.0, backoff_base_s=600, backoff_max_s=900)
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": failing}, options)
        async with harness.db.transaction() as session:
            job_id = await queue.enqueue(session, "collect", {})
        assert job_id is not None
        async with running(queue):
            await queue.drain(timeout_s=DEADLINE_S)
        row = await harness.row(job_id)
        assert (row.state, row.attempts, row.last_error) == ("pending", 1, "ConnectionError")
        # First retry: uniform(0, min(900, 600 * 2**0)) after the failure, which came after the start.
        delay = as_utc(row.not_before) - as_utc(row.started_at)
        assert timedelta(0) < delay <= timedelta(seconds=600) + (utcnow() - as_utc(row.started_at))

    async def test_retry_later_reschedules_after_its_delay_with_its_reason(self, harness: Harness) -> None:
        async def rate_limited(job: Job) -> Mapping[str, Any]:
            if job.payload["delay_s"] is not None and job.attempts == 1:
                raise RetryLater("rsp_42901", delay_s=job.payload["delay_s"])
            return {"attempt": job.attempts}

        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": rate_limited}, FAST)
        async with harness.db.transaction() as session:
            later = await queue.enqueue(session, "collect", {"delay_s": 3600})
            soon = await queue.enqueue(session, "collect", {"delay_s": 0})
        assert later is not None
        assert soon is not None
        async with running(queue):
            await queue.drain(timeout_s=DEADLINE_S)
            checked = utcnow()
        waiting = await harness.row(later)
        assert (waiting.state, waiting.attempts, waiting.last_error) == ("pending", 1, "rsp_42901")
        assert as_utc(waiting.started_at) + timedelta(seconds=3600) <= as_utc(waiting.not_before)
        assert as_utc(waiting.not_before) <= checked + timedelta(seconds=3600)
        rerun = await harness.row(soon)
        assert (rerun.state, rerun.attempts, rerun.last_error, rerun.result) == ("done", 2, "rsp_42901", {"attempt": 2})

    async def test_a_job_out_of_attempts_fails(self, harness: Harness) -> None:
        async def broken(job: Job) -> None:
            await harness.record_run(job)
            raise KeyError("account")

        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": broken}, FAST)
        async with harness.db.transaction() as session:
            job_id = await queue.enqueue(session, "collect", {}, max_attempts=2)
            default_id = await queue.enqueue(session, "collect", {})
        assert job_id is not None
        assert default_id is not None
        async with running(queue):
            await wait_until(lambda: _states(harness, {"failed": 2}), "both jobs to fail")
        row = await harness.row(job_id)
        assert (row.state, row.attempts, row.last_error) == ("failed", 2, "KeyError")
        assert row.finished_at is not None
        assert row.lease_owner is None
        assert (await harness.row(default_id)).attempts == FAST.max_attempts
        assert await harness.count(harness.runs) == 2 + FAST.max_attempts

    async def test_a_handler_run_twice_has_its_effect_once(self, harness: Harness) -> None:
        async def collect(job: Job) -> Mapping[str, Any]:
            await harness.record_run(job)
            await harness.upsert_effect(job.payload["trans_no"], job.id)
            if job.attempts == 1:
                raise TimeoutError  # the effect is stored, but the attempt fails: the job runs again
            return {"stored": 1}

        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": collect}, FAST)
        async with harness.db.transaction() as session:
            for trans_no in ("T-1", "T-2", "T-3"):
                await queue.enqueue(session, "collect", {"trans_no": trans_no})
        async with running(queue):
            await wait_until(lambda: _states(harness, {"done": 3}), "all jobs to be done")
        assert await harness.count(harness.runs) == 6
        assert await harness.count(harness.effects) == 3
        assert {row.state for row in await harness.rows()} == {"done"}

    async def test_errors_are_recorded_and_logged_by_type_only(self, harness: Harness) -> None:
        personal = "홍길동 900101-1234567"

        async def leaky(job: Job) -> None:
            raise ValueError(f"no account for {job.payload['name']}")

        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": leaky}, FAST)
        with structlog.testing.capture_logs() as logs:
            async with harness.db.transaction() as session:
                job_id = await queue.enqueue(session, "collect", {"name": personal}, max_attempts=2)
            assert job_id is not None
            async with running(queue):
                await wait_until(lambda: _state_of(harness, job_id, "failed"), "the job to fail")
        row = await harness.row(job_id)
        assert (row.state, row.last_error) == ("failed", "ValueError")
        failures = [entry for entry in logs if entry.get("job_id") == job_id]
        assert [entry["event"] for entry in failures] == ["job will run again", "job failed"]
        assert all(entry["error"] == "ValueError" for entry in failures)
        assert personal not in repr(logs)

    async def test_a_result_that_is_not_json_counts_as_an_error(self, harness: Harness) -> None:
        async def odd(job: Job) -> Mapping[str, Any]:
            return {"when": utcnow()}

        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": odd}, FAST)
        async with harness.db.transaction() as session:
            job_id = await queue.enqueue(session, "collect", {}, max_attempts=1)
        assert job_id is not None
        async with running(queue):
            await queue.drain(timeout_s=DEADLINE_S)
        row = await harness.row(job_id)
        assert (row.state, row.last_error, row.result) == ("failed", "TypeError", None)

    async def test_two_queues_share_the_work_and_run_each_job_once(self, harness: Harness) -> None:
        async def collect(job: Job) -> None:
            await harness.record_run(job)

        # Leases far longer than any run here: this is about claiming, not about a late heartbeat under load.
        options = JobOptions(concurrency=4, poll_interval_s=0.05, lease_s=30.0)
        queues = [EmbeddedQueue(harness.db, harness.jobs, {"collect": collect}, options) for _ in range(2)]
        async with harness.db.transaction() as session:
            for index in range(30):
                await queues[0].enqueue(session, "collect", {"n": index})
        async with running(queues[0]), running(queues[1]):
            await queues[0].drain(timeout_s=DEADLINE_S)
        async with harness.db.sessions() as session:
            ran = list((await session.scalars(select(harness.runs.c.job_id))).all())
        assert sorted(ran) == sorted(row.id for row in await harness.rows())


class TestProgress:
    async def test_cancel_group_cancels_the_groups_pending_jobs_of_the_given_kinds(self, harness: Harness) -> None:
        calls: list[Job] = []
        handlers = {"collect": recording(calls), "notify": recording(calls)}
        queue = EmbeddedQueue(harness.db, harness.jobs, handlers, FAST)
        async with harness.db.transaction() as session:
            for kind, group in [("collect", "person:17"), ("collect", "person:17"), ("notify", "person:17")]:
                await queue.enqueue(session, kind, {"group": group}, group_key=group)
            await queue.enqueue(session, "collect", {"group": "person:18"}, group_key="person:18")
        async with harness.db.transaction() as session:
            assert await queue.cancel_group(session, "person:17", kinds={"collect"}) == 2
        async with running(queue):
            await queue.drain(timeout_s=DEADLINE_S)
            async with harness.db.transaction() as session:
                assert await queue.cancel_group(session, "person:18") == 0  # done already
        assert sorted((job.kind, job.payload["group"]) for job in calls) == [
            ("collect", "person:18"),
            ("notify", "person:17"),
        ]
        cancelled = [row for row in await harness.rows() if row.state == "cancelled"]
        assert len(cancelled) == 2
        assert all(row.finished_at is not None for row in cancelled)

    async def test_group_status_and_counts(self, harness: Harness) -> None:
        async def collect(job: Job) -> Mapping[str, Any]:
            if job.payload["ok"]:
                return {"accounts": job.payload["n"]}
            raise ConnectionError

        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": collect, "notify": recording([])}, FAST)
        async with harness.db.transaction() as session:
            await queue.enqueue(session, "collect", {"n": 1, "ok": True}, group_key="person:17")
            await queue.enqueue(session, "collect", {"n": 2, "ok": False}, group_key="person:17", max_attempts=1)
            await queue.enqueue(session, "notify", {"n": 3}, group_key="person:18")
        async with running(queue):
            await queue.drain(timeout_s=DEADLINE_S)
        middle = utcnow()
        async with harness.db.transaction() as session:
            await queue.enqueue(session, "collect", {"n": 4, "ok": True}, group_key="person:17")
        async with harness.db.sessions() as session:
            statuses = await queue.group_status(session, "person:17")
            recent = await queue.group_status(session, "person:17", since=middle)
            everything = await queue.counts(session)
            collects = await queue.counts(session, kinds=["collect"])
            since = await queue.counts(session, since=middle)
        assert [(s.payload["n"], s.state, s.result, s.last_error) for s in statuses] == [
            (1, "done", {"accounts": 1}, None),
            (2, "failed", None, "ConnectionError"),
            (4, "pending", None, None),
        ]
        first = statuses[0]
        assert first.created_at <= first.started_at <= first.finished_at  # type: ignore[operator]
        assert first.created_at.tzinfo is not None
        assert first.not_before.tzinfo is not None
        assert [s.payload["n"] for s in recent] == [4]
        assert everything == {"done": 2, "failed": 1, "pending": 1}
        assert collects == {"done": 1, "failed": 1, "pending": 1}
        assert since == {"pending": 1}


class TestRecovery:
    async def test_a_running_job_keeps_its_lease_by_heartbeat(self, harness: Harness) -> None:
        proceed = asyncio.Event()

        async def long_collect(job: Job) -> Mapping[str, Any]:
            await proceed.wait()
            return {"attempt": job.attempts}

        options = JobOptions(poll_interval_s=0.05, lease_s=0.6)
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": long_collect}, options)
        async with harness.db.transaction() as session:
            job_id = await queue.enqueue(session, "collect", {})
        assert job_id is not None

        async def extended_three_times() -> bool:
            row = await harness.row(job_id)
            return row.state == "running" and as_utc(row.lease_until) > as_utc(row.started_at) + timedelta(seconds=1.8)

        async with running(queue):
            await wait_until(extended_three_times, "the lease to be extended past three lease periods")
            proceed.set()
            await queue.drain(timeout_s=DEADLINE_S)
        row = await harness.row(job_id)
        assert (row.state, row.attempts, row.result) == ("done", 1, {"attempt": 1})

    async def test_stop_lets_running_jobs_finish(self, harness: Harness) -> None:
        started, proceed = asyncio.Event(), asyncio.Event()

        async def collect(job: Job) -> Mapping[str, Any]:
            started.set()
            await proceed.wait()
            return {"ok": True}

        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": collect}, FAST)
        async with harness.db.transaction() as session:
            job_id = await queue.enqueue(session, "collect", {})
        assert job_id is not None
        await queue.start()
        await started.wait()
        stopping = asyncio.create_task(queue.stop(timeout_s=DEADLINE_S))
        await asyncio.sleep(0)
        proceed.set()
        await stopping
        await queue.stop()  # idempotent
        row = await harness.row(job_id)
        assert (row.state, row.result) == ("done", {"ok": True})

    async def test_stop_releases_unfinished_jobs_and_a_new_queue_resumes_them(self, harness: Harness) -> None:
        async def stuck(job: Job) -> None:
            await asyncio.Event().wait()

        async def collect(job: Job) -> Mapping[str, Any]:
            return {"attempt": job.attempts}

        first = EmbeddedQueue(harness.db, harness.jobs, {"collect": stuck}, FAST)
        async with harness.db.transaction() as session:
            ids = [await first.enqueue(session, "collect", {"n": n}) for n in range(3)]
        await first.start()
        await wait_until(lambda: _states(harness, {"running": 3}), "three running jobs")
        await first.stop(timeout_s=0.1)
        released = await harness.rows()
        assert [(row.state, row.lease_owner, row.attempts) for row in released] == [("pending", None, 1)] * 3
        second = EmbeddedQueue(harness.db, harness.jobs, {"collect": collect}, FAST)
        async with running(second):
            await second.drain(timeout_s=DEADLINE_S)
        assert [(row.id, row.state, row.result) for row in await harness.rows()] == [
            (job_id, "done", {"attempt": 2}) for job_id in ids
        ]

    async def test_a_job_whose_worker_died_is_taken_over_when_its_lease_expires(self, harness: Harness) -> None:
        calls: list[Job] = []
        past = utcnow() - timedelta(seconds=5)
        job_id = await harness.insert_job(
            state="running", attempts=1, lease_owner="dead-host:4242:0000", lease_until=past, started_at=past
        )
        live_id = await harness.insert_job(
            state="running",
            attempts=1,
            lease_owner="live-host:1:0000",
            lease_until=utcnow() + timedelta(hours=1),
            started_at=past,
        )
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording(calls, {"ok": 1})}, FAST)
        async with running(queue):
            await wait_until(lambda: _state_of(harness, job_id, "done"), "the dead worker's job to be done")
        row = await harness.row(job_id)
        assert (row.attempts, row.lease_owner, row.result) == (2, None, {"ok": 1})
        assert [job.id for job in calls] == [job_id]
        assert (await harness.row(live_id)).state == "running"  # a live lease is left alone

    async def test_a_dead_workers_job_out_of_attempts_fails(self, harness: Harness) -> None:
        calls: list[Job] = []
        past = utcnow() - timedelta(seconds=5)
        job_id = await harness.insert_job(
            state="running", attempts=3, max_attempts=3, lease_owner="dead:1:0", lease_until=past, started_at=past
        )
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording(calls)}, FAST)
        async with running(queue):
            await wait_until(lambda: _state_of(harness, job_id, "failed"), "the job to fail")
        row = await harness.row(job_id)
        assert (row.last_error, row.attempts, calls) == ("LeaseExpired", 3, [])

    async def test_old_finished_jobs_are_purged(self, harness: Harness) -> None:
        old = utcnow() - timedelta(seconds=FAST.retention_s + 60)
        recent = utcnow() - timedelta(seconds=FAST.retention_s - 600)
        old_rows = [
            {"state": state, "created_at": old, "finished_at": old} for state in ("done", "failed", "cancelled")
        ]
        async with harness.db.transaction() as session:
            # More than one purge batch.
            await session.execute(
                insert(harness.jobs),
                [
                    {"kind": "collect", "payload": {}, "max_attempts": 8, "not_before": old, **row}
                    for row in old_rows * 200
                ],
            )
        kept = [
            await harness.insert_job(state="done", created_at=old, finished_at=recent),
            await harness.insert_job(state="pending", created_at=old, not_before=utcnow() + timedelta(days=30)),
        ]
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording([])}, FAST)
        async with running(queue):
            await wait_until(lambda: _count_is(harness, 2), "old finished jobs to be purged")
        assert [row.id for row in await harness.rows()] == kept

    async def test_the_loops_survive_the_database_going_away(self, harness: Harness) -> None:
        calls: list[Job] = []
        queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording(calls)}, FAST)
        with structlog.testing.capture_logs() as logs:
            async with running(queue):
                async with harness.db.transaction() as session:
                    await session.execute(text("ALTER TABLE jobs RENAME TO jobs_away"))

                def failed_loops() -> set[str]:
                    return {entry["loop"] for entry in logs if entry["event"] == "job loop round failed"}

                await wait_until(lambda: failed_loops() == {"dispatch", "maintenance"}, "both loops to fail")
                async with harness.db.transaction() as session:
                    await session.execute(text("ALTER TABLE jobs_away RENAME TO jobs"))
                async with harness.db.transaction() as session:
                    job_id = await queue.enqueue(session, "collect", {})
                await wait_until(lambda: len(calls) == 1, "the job to run once the table is back")
        assert calls[0].id == job_id
        assert all(entry["error"].isidentifier() for entry in logs if "loop" in entry)  # an error type, no message


class TestHosting:
    async def test_runs_inside_a_fastapi_lifespan(self, harness: Harness) -> None:
        async def collect(job: Job) -> Mapping[str, Any]:
            return {"person": job.payload["person"]}

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            app.state.jobs = EmbeddedQueue(harness.db, harness.jobs, {"collect": collect}, FAST)
            await app.state.jobs.start()
            yield
            await app.state.jobs.stop()

        app = FastAPI(lifespan=lifespan)

        @app.post("/people/{person}/collect")
        async def request_collection(person: int, request: Request) -> dict[str, Any]:
            async with harness.db.transaction() as session:
                job_id = await request.app.state.jobs.enqueue(session, "collect", {"person": person})
            return {"job_id": job_id}

        server = await start_server("jobs-lifespan", app)
        try:
            async with httpx.AsyncClient(base_url=server.url) as client:
                answer = await client.post("/people/17/collect")
            assert answer.status_code == 200
            job_id = answer.json()["job_id"]
            await wait_until(lambda: _state_of(harness, job_id, "done"), "the job enqueued by the endpoint")
        finally:
            await server.stop()
        assert (await harness.row(job_id)).result == {"person": 17}

    def test_runs_in_a_plain_asyncio_run_program(self, db_url: str) -> None:
        async def program() -> list[tuple[str, Any]]:
            harness = await build_harness(db_url)
            try:
                queue = EmbeddedQueue(harness.db, harness.jobs, {"collect": recording([], {"ok": True})}, FAST)
                await queue.start()
                async with harness.db.transaction() as session:
                    await queue.enqueue(session, "collect", {})
                await queue.drain(timeout_s=DEADLINE_S)
                await queue.stop()
                return [(row.state, row.result) for row in await harness.rows()]
            finally:
                await harness.db.dispose()

        assert asyncio.run(program()) == [("done", {"ok": True})]


async def _states(harness: Harness, expected: dict[str, int]) -> bool:
    counts: dict[str, int] = {}
    for row in await harness.rows():
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts == expected


async def _state_of(harness: Harness, job_id: int, state: str) -> bool:
    return bool((await harness.row(job_id)).state == state)


async def _count_is(harness: Harness, number: int) -> bool:
    return await harness.count(harness.jobs) == number
