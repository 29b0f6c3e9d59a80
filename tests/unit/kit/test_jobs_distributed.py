"""The distributed backend against the real RabbitMQ (127.0.0.1:5672), on both dialects: jobs enqueued by an API
process run in a worker and reach done; duplicate messages change nothing; a RabbitMQ connection drop while jobs
flow loses none and repeats no effect; a job whose message was lost is published again; a worker process killed
with SIGKILL mid-job is replaced by another that does the job once."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pika
import pytest
from dramatiq import Message
from sqlalchemy import Column, Integer, MetaData, Row, String, Table, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from tests.conftest import REQUIRE_SERVICES, require_service

from openmydata.kit.clock import as_utc, utcnow
from openmydata.kit.db import Database
from openmydata.kit.jobs import DramatiqQueue, Handler, Job, JobOptions, job_table, run_worker
from openmydata.kit.jobs.distributed import ACTOR_NAME

BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
# The API-side queue and the worker share this process but not their leases: a lease long enough that a heartbeat
# made late by a loaded machine does not hand a live job over (the killed-process test has leases of 1 s).
OPTIONS = JobOptions(poll_interval_s=0.05, lease_s=5.0, backoff_base_s=0.05, backoff_max_s=0.2, republish_after_s=1.0)
DEADLINE_S = 60.0
WORKER_SCRIPT = Path(__file__).with_name("jobs_worker_process.py")


@dataclass
class Harness:
    db: Database
    jobs: Table
    effects: Table  # one row per natural key: what an idempotent handler produces
    runs: Table  # one row per handler run

    async def upsert_effect(self, natural_key: str, job_id: int) -> None:
        statement = (postgresql.insert if self.db.dialect == "postgresql" else sqlite.insert)(self.effects)
        async with self.db.transaction() as session:
            await session.execute(
                statement.values(natural_key=natural_key, job_id=job_id, pid=os.getpid()).on_conflict_do_nothing(
                    index_elements=["natural_key"]
                )
            )

    async def record_run(self, job: Job) -> None:
        async with self.db.transaction() as session:
            await session.execute(insert(self.runs).values(job_id=job.id, attempt=job.attempts, pid=os.getpid()))

    async def all(self, table: Table) -> list[Row[Any]]:
        async with self.db.sessions() as session:
            return list((await session.execute(select(table).order_by(*table.primary_key.columns))).all())

    async def count(self, table: Table, *where: Any) -> int:
        async with self.db.sessions() as session:
            statement = select(func.count()).select_from(table).where(*where)
            return int((await session.execute(statement)).scalar_one())


@pytest.fixture
async def harness(db_url: str) -> AsyncIterator[Harness]:
    metadata = MetaData()
    jobs = job_table(metadata)
    effects = Table(
        "job_effects",
        metadata,
        Column("natural_key", String(64), primary_key=True),
        Column("job_id", Integer, nullable=False),
        Column("pid", Integer, nullable=False),
    )
    runs = Table(
        "job_runs",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("job_id", Integer, nullable=False),
        Column("attempt", Integer, nullable=False),
        Column("pid", Integer, nullable=False),
    )
    db = Database(db_url)
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    try:
        yield Harness(db, jobs, effects, runs)
    finally:
        await db.dispose()


def _rabbitmq_channel_do(action: Callable[[Any], None]) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(BROKER_URL))
    try:
        action(connection.channel())
    finally:
        connection.close()


@pytest.fixture
def queue_name() -> Iterator[str]:
    """A queue of this test's own on the real RabbitMQ, deleted afterwards with its delay and dead-letter queues."""
    require_service("RabbitMQ", "127.0.0.1", 5672)
    name = f"omd-test-{secrets.token_hex(4)}"
    yield name

    def delete(channel: Any) -> None:
        for queue in (name, f"{name}.DQ", f"{name}.XQ"):
            channel.queue_delete(queue)

    _rabbitmq_channel_do(delete)


@asynccontextmanager
async def api_queue(
    harness: Harness, queue_name: str, handlers: Mapping[str, Handler], **options: Any
) -> AsyncIterator[DramatiqQueue]:
    """The queue as an API process holds it: publisher and maintenance, no consuming."""
    queue = DramatiqQueue(
        harness.db, harness.jobs, handlers, _options(**options), broker_url=BROKER_URL, queue_name=queue_name
    )
    await queue.start()
    try:
        yield queue
    finally:
        await queue.stop(timeout_s=5)


@asynccontextmanager
async def worker(
    harness: Harness, queue_name: str, handlers: Mapping[str, Handler], *, threads: int = 4, **options: Any
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_worker(
            harness.db,
            harness.jobs,
            handlers,
            broker_url=BROKER_URL,
            queue_name=queue_name,
            options=_options(**options),
            threads=threads,
            stop=stop,
        )
    )
    try:
        yield
    finally:
        stop.set()
        await task


class ObservedQueue(DramatiqQueue):
    """Counts the publisher's rounds, so a test can let several pass instead of sleeping."""

    rounds = 0

    async def _publish(self) -> None:
        await super()._publish()
        self.rounds += 1


def _options(**changes: Any) -> JobOptions:
    return JobOptions(**{**OPTIONS.__dict__, **changes})


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for a condition with a generous deadline (never a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_S
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still waiting for {what} after {DEADLINE_S} s")
        await asyncio.sleep(0.05)


def collecting(harness: Harness, gate: asyncio.Event | None = None, gated_from: int = 0) -> Handler:
    """An idempotent handler: records its run, then upserts its effect keyed by the job's natural key. Jobs numbered
    `gated_from` or more wait for `gate` first."""

    async def collect(job: Job) -> Mapping[str, Any]:
        await harness.record_run(job)
        if gate is not None and job.payload["n"] >= gated_from:
            await gate.wait()
        await harness.upsert_effect(job.payload["natural_key"], job.id)
        return {"stored": job.payload["natural_key"]}

    return collect


async def refuse(job: Job) -> None:
    raise AssertionError("an API process never runs jobs")


class TestDramatiqQueue:
    async def test_jobs_enqueued_by_an_api_process_run_in_a_worker(self, harness: Harness, queue_name: str) -> None:
        async with (
            api_queue(harness, queue_name, {"collect": refuse}) as api,
            worker(harness, queue_name, {"collect": collecting(harness)}),
        ):
            async with harness.db.transaction() as session:
                for n in range(10):
                    await api.enqueue(session, "collect", {"n": n, "natural_key": f"T-{n}"}, group_key="person:17")
            await api.drain(timeout_s=DEADLINE_S)
            async with harness.db.sessions() as session:
                statuses = await api.group_status(session, "person:17")
        assert [(s.state, s.attempts, s.result) for s in statuses] == [
            ("done", 1, {"stored": f"T-{n}"}) for n in range(10)
        ]
        assert await harness.count(harness.effects) == 10
        assert await harness.count(harness.runs) == 10

    async def test_a_message_for_a_finished_job_changes_nothing(self, harness: Harness, queue_name: str) -> None:
        async with (
            api_queue(harness, queue_name, {"collect": refuse}) as api,
            worker(harness, queue_name, {"collect": collecting(harness)}, threads=1),
        ):
            async with harness.db.transaction() as session:
                first = await api.enqueue(session, "collect", {"n": 1, "natural_key": "T-1"})
            await api.drain(timeout_s=DEADLINE_S)
            assert api.broker is not None
            duplicate = Message(queue_name=queue_name, actor_name=ACTOR_NAME, args=(first,), kwargs={}, options={})
            for _ in range(3):
                await asyncio.get_running_loop().run_in_executor(api._publisher, api.broker.enqueue, duplicate)
            # One worker thread takes messages in order: once the next job is done, the duplicates were handled.
            async with harness.db.transaction() as session:
                await api.enqueue(session, "collect", {"n": 2, "natural_key": "T-2"})
            await api.drain(timeout_s=DEADLINE_S)
        assert await harness.count(harness.runs, harness.runs.c.job_id == first) == 1
        assert await harness.count(harness.effects) == 2

    @pytest.mark.disruptive
    async def test_a_rabbitmq_connection_drop_loses_no_job_and_repeats_no_effect(
        self, harness: Harness, queue_name: str
    ) -> None:
        rabbitmqctl = shutil.which("rabbitmqctl")
        if rabbitmqctl is None:
            message = "rabbitmqctl is not installed (needed to close RabbitMQ's connections)"
            if REQUIRE_SERVICES:
                pytest.fail(message)
            pytest.skip(message)
        gate = asyncio.Event()
        async with (
            api_queue(harness, queue_name, {"collect": refuse}) as api,
            worker(harness, queue_name, {"collect": collecting(harness, gate, gated_from=20)}),
        ):
            async with harness.db.transaction() as session:
                for n in range(40):
                    await api.enqueue(session, "collect", {"n": n, "natural_key": f"T-{n}"})
            # Jobs 0-19 are done; four of the others are running (held by the gate) and more are prefetched.
            await wait_until(lambda: _at_least(harness, harness.effects, 20), "the first twenty jobs")
            await wait_until(lambda: _running(harness, 4), "four jobs in flight")
            closing = await asyncio.create_subprocess_exec(
                rabbitmqctl, "close_all_connections", "test", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            _, errors = await closing.communicate()
            assert closing.returncode == 0, errors.decode()
            gate.set()
            # Published after the drop: the API process's publisher reconnects.
            async with harness.db.transaction() as session:
                for n in range(40, 50):
                    await api.enqueue(session, "collect", {"n": n, "natural_key": f"T-{n}"})
            await api.drain(timeout_s=DEADLINE_S)
            async with harness.db.sessions() as session:
                counts = await api.counts(session)
        assert counts == {"done": 50}
        effects = await harness.all(harness.effects)
        assert sorted(row.natural_key for row in effects) == sorted(f"T-{n}" for n in range(50))
        assert await harness.count(harness.runs) >= 50

    async def test_a_pending_job_whose_message_was_lost_is_published_again(
        self, harness: Harness, queue_name: str
    ) -> None:
        async with api_queue(harness, queue_name, {"collect": refuse}, republish_after_s=0.5) as api:
            async with harness.db.transaction() as session:
                job_id = await api.enqueue(session, "collect", {"n": 1, "natural_key": "T-1"})
            await wait_until(lambda: _messages_on(queue_name, 1), "the job's message on the queue")
            first_published = await _published_at(harness, job_id)
            # The message is lost (as with a broker that lost an unreplicated queue): purge it.
            _rabbitmq_channel_do(lambda channel: channel.queue_purge(queue_name))
            async with worker(harness, queue_name, {"collect": collecting(harness)}, republish_after_s=0.5):
                await api.drain(timeout_s=DEADLINE_S)
        assert await harness.count(harness.effects) == 1
        assert await harness.count(harness.jobs, harness.jobs.c.state == "done") == 1
        assert await _published_at(harness, job_id) > first_published

    async def test_a_job_waiting_in_a_backlog_is_not_published_again(self, harness: Harness, queue_name: str) -> None:
        queue = ObservedQueue(
            harness.db,
            harness.jobs,
            {"collect": refuse},
            _options(republish_after_s=0.1),
            broker_url=BROKER_URL,
            queue_name=queue_name,
        )
        await queue.start()
        try:
            async with harness.db.transaction() as session:
                for n in range(3):
                    await queue.enqueue(session, "collect", {"n": n, "natural_key": f"T-{n}"})
            await wait_until(lambda: _messages_on(queue_name, 3), "three messages on the queue")
            stamps = await _published_stamps(harness)
            rounds = queue.rounds

            async def republishing_was_due_for_several_rounds() -> bool:
                overdue = utcnow() - max(stamps) > timedelta(seconds=0.5)
                return overdue and queue.rounds > rounds + 5

            await wait_until(republishing_was_due_for_several_rounds, "several publisher rounds past republish_after_s")
            assert await _messages_on(queue_name, 3)
            assert await _published_stamps(harness) == stamps
            # The messages are lost (the queue is purged): now the jobs are published again.
            _rabbitmq_channel_do(lambda channel: channel.queue_purge(queue_name))
            await wait_until(lambda: _messages_on(queue_name, 3), "the jobs to be published again")
        finally:
            await queue.stop()
        assert all(later > before for later, before in zip(await _published_stamps(harness), stamps, strict=True))

    async def test_a_killed_worker_process_is_replaced_and_the_job_done_once(
        self, harness: Harness, queue_name: str, tmp_path: Path
    ) -> None:
        processes: list[subprocess.Popen[bytes]] = []

        def start_worker(name: str, hold_s: float) -> subprocess.Popen[bytes]:
            log = (tmp_path / f"{name}.log").open("wb")
            command = [sys.executable, str(WORKER_SCRIPT), str(harness.db.url), BROKER_URL, queue_name, str(hold_s)]
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            log.close()
            processes.append(process)
            return process

        def logs() -> str:
            return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(tmp_path.glob("*.log")))

        try:
            async with api_queue(harness, queue_name, {"slow_collect": refuse}) as api:
                async with harness.db.transaction() as session:
                    job_id = await api.enqueue(session, "slow_collect", {"natural_key": "A-17:T-0001"})
                doomed = start_worker("doomed", hold_s=DEADLINE_S * 2)
                await wait_until(lambda: _at_least(harness, harness.runs, 1), "the first worker to start the job")
                doomed.kill()  # SIGKILL: no clean-up, the lease is left to expire and the message unacked
                assert await asyncio.to_thread(doomed.wait, DEADLINE_S) == -signal.SIGKILL
                survivor = start_worker("survivor", hold_s=0)
                await wait_until(lambda: _done(harness, job_id), "the second worker to finish the job")
                survivor.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(survivor.wait, DEADLINE_S) == 0, logs()
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        runs = [(row.attempt, row.pid) for row in await harness.all(harness.runs)]
        assert runs == [(1, doomed.pid), (2, survivor.pid)], logs()
        effects = [(row.natural_key, row.pid) for row in await harness.all(harness.effects)]
        assert effects == [("A-17:T-0001", survivor.pid)]
        async with harness.db.sessions() as session:
            row = (await session.execute(select(harness.jobs).where(harness.jobs.c.id == job_id))).one()
        assert (row.state, row.attempts, row.result) == ("done", 2, {"pid": survivor.pid})


async def _at_least(harness: Harness, table: Table, number: int) -> bool:
    return await harness.count(table) >= number


async def _running(harness: Harness, number: int) -> bool:
    return await harness.count(harness.jobs, harness.jobs.c.state == "running") >= number


async def _done(harness: Harness, job_id: int | None) -> bool:
    return await harness.count(harness.jobs, harness.jobs.c.id == job_id, harness.jobs.c.state == "done") == 1


async def _messages_on(queue_name: str, number: int) -> bool:
    counted: list[int] = []

    def count(channel: Any) -> None:
        counted.append(channel.queue_declare(queue_name, passive=True).method.message_count)

    try:
        _rabbitmq_channel_do(count)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code != 404:  # not declared yet: the first publish declares it
            raise
    return counted == [number]


async def _published_at(harness: Harness, job_id: int | None) -> datetime:
    async with harness.db.sessions() as session:
        statement = select(harness.jobs.c.published_at).where(harness.jobs.c.id == job_id)
        return as_utc((await session.execute(statement)).scalar_one())


async def _published_stamps(harness: Harness) -> list[datetime]:
    async with harness.db.sessions() as session:
        statement = select(harness.jobs.c.published_at).order_by(harness.jobs.c.id)
        return [as_utc(stamp) for stamp in (await session.scalars(statement)).all()]
