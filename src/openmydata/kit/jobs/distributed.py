"""The distributed backend: Dramatiq over RabbitMQ, any number of worker processes.

The job table stays the truth; a RabbitMQ message only carries a job id and says "look at this job". API processes
run a `DramatiqQueue` (publisher and maintenance, no consuming); worker processes run `run_worker`. A worker claims
the job under a lease exactly as the embedded backend does, so a duplicate or stale message finds the job done,
cancelled or held by a live lease and is dropped. Messages are acknowledged only when the job's run is over: a
worker killed mid-job leaves its message unacked and RabbitMQ delivers it again. A message lost with a connection is
made good by the job table: a job published `republish_after_s` ago and still pending is published again once no
message waits in the queue (during a backlog its message is most likely still there), and a job whose holder's lease
expired becomes pending and unpublished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from dramatiq import Actor, Message, Worker
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.middleware import Retries
from sqlalchemy import Table, and_, select, update
from sqlalchemy.sql.elements import ColumnElement

from openmydata.kit.clock import utcnow
from openmydata.kit.db import Database
from openmydata.kit.jobs.queue import Handler, JobOptions, JobQueue
from openmydata.kit.jobs.table import PENDING
from openmydata.kit.logging import get_logger

_logger = get_logger("openmydata.kit.jobs")

ACTOR_NAME = "openmydata_job"
PUBLISH_BATCH = 500


def make_broker(url: str) -> RabbitmqBroker:
    """A broker of our own, never Dramatiq's global one, so that several can exist in one process (tests).

    Only the Retries middleware, with max_retries=0 on the actor: retries are the job table's. Dramatiq's TimeLimit
    would interrupt the bridging thread of a long job while the job itself went on running on the loop; the lease
    and its heartbeat bound a job instead. confirm_delivery: a published message is on the broker, durable."""
    logging.getLogger("pika").setLevel(logging.WARNING)
    return RabbitmqBroker(url=url, confirm_delivery=True, middleware=[Retries()])


class DramatiqQueue(JobQueue):
    """The queue as an API process (or `run_worker`) uses it: `start()` runs the publisher and the maintenance loop.

    The publisher sends one message per due job, then marks it published; pika's blocking calls run on one
    dedicated thread, because a pika connection belongs to the thread that opened it. Publishing twice is harmless.
    """

    def __init__(
        self,
        db: Database,
        table: Table,
        handlers: Mapping[str, Handler],
        options: JobOptions = JobOptions(),
        *,
        owner: str | None = None,
        broker_url: str,
        queue_name: str,
    ):
        super().__init__(db, table, handlers, options, owner=owner)
        self.broker_url = broker_url
        self.queue_name = queue_name
        self.broker: RabbitmqBroker | None = None
        self._publisher: ThreadPoolExecutor | None = None

    def _steps(self) -> list[tuple[str, Callable[[], Awaitable[None]], bool]]:
        return [("publish", self._publish, True), *super()._steps()]

    async def _open(self) -> None:
        self._publisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jobs-publisher")
        self.broker = make_broker(self.broker_url)
        # Registers the queue only; it is declared on RabbitMQ at the first publish or consume (no network here).
        self.broker.declare_queue(self.queue_name)

    async def _close(self) -> None:
        broker, publisher = self.broker, self._publisher
        self.broker, self._publisher = None, None
        if publisher is None:
            return
        if broker is not None:
            await asyncio.get_running_loop().run_in_executor(publisher, broker.close)
        publisher.shutdown(wait=True)

    async def _publish(self) -> None:
        t = self.table
        now = utcnow()
        due = and_(t.c.state == PENDING, t.c.not_before <= now)
        await self._publish_batch(and_(due, t.c.published_at.is_(None)), now)
        # A job published long ago and still pending may have lost its message (with a connection, or a broker that
        # lost its queue). While messages wait in the queue (a backlog), it is most likely among them: republishing
        # then would only add a duplicate per job every republish_after_s for as long as the backlog lasts.
        stale = and_(due, t.c.published_at < now - timedelta(seconds=self.options.republish_after_s))
        async with self.db.sessions() as session:
            if (await session.execute(select(t.c.id).where(stale).limit(1))).first() is None:
                return
        if await asyncio.get_running_loop().run_in_executor(self._publisher, self._waiting_messages) == 0:
            await self._publish_batch(stale, now)

    async def _publish_batch(self, selected: ColumnElement[bool], now: datetime) -> None:
        t = self.table
        async with self.db.transaction() as session:
            candidates = select(t.c.id).where(selected).order_by(t.c.priority, t.c.id).limit(PUBLISH_BATCH)
            ids = list((await session.scalars(candidates.with_for_update(skip_locked=True))).all())
            if not ids:
                return
            # Stamped before sending: a worker may claim the job, fail and clear published_at (so that the retry is
            # published) before a stamp written after sending would land and hide the retry.
            stamp = update(t).where(t.c.id.in_(ids), selected).values(published_at=now).returning(t.c.id)
            stamped = set((await session.scalars(stamp)).all())
        batch = [job_id for job_id in ids if job_id in stamped]
        sent: list[int] = []
        try:
            await asyncio.get_running_loop().run_in_executor(self._publisher, self._send, batch, sent)
        finally:
            unsent = [job_id for job_id in batch if job_id not in set(sent)]
            if unsent:
                async with self.db.transaction() as session:
                    await session.execute(
                        update(t)
                        .where(t.c.id.in_(unsent), t.c.state == PENDING, t.c.published_at == now)
                        .values(published_at=None)
                    )

    def _waiting_messages(self) -> int:
        """Messages ready in the queue (not those consumers hold), on the publisher thread. Declaring is idempotent
        and recreates a queue the broker lost."""
        assert self.broker is not None
        try:
            return self.broker.get_queue_message_counts(self.queue_name)[0]
        except Exception:
            del self.broker.connection  # a lost connection or channel: the next call opens fresh ones, as enqueue does
            raise

    def _send(self, job_ids: list[int], sent: list[int]) -> None:
        """On the publisher thread. Dramatiq's enqueue retries on a fresh connection when the old one was lost."""
        assert self.broker is not None
        for job_id in job_ids:
            message: Message[None] = Message(
                queue_name=self.queue_name, actor_name=ACTOR_NAME, args=(job_id,), kwargs={}, options={}
            )
            self.broker.enqueue(message)
            sent.append(job_id)

    async def _deliver(self, job_id: int) -> None:
        """A message arrived: run the job if it can be claimed; otherwise there is nothing to do."""
        if self._stopping:
            # Shutting down: this message is acknowledged anyway, so hand the job to the next publisher round.
            t = self.table
            async with self.db.transaction() as session:
                await session.execute(update(t).where(t.c.id == job_id, t.c.state == PENDING).values(published_at=None))
            return
        if job_id in self._running:
            return
        tasks = await self._claim_and_spawn(job_id=job_id)
        if tasks:
            await asyncio.wait(tasks)


async def run_worker(
    db: Database,
    table: Table,
    handlers: Mapping[str, Handler],
    *,
    broker_url: str,
    queue_name: str,
    options: JobOptions = JobOptions(),
    threads: int = 8,
    stop: asyncio.Event,
) -> None:
    """The body of a worker process's asyncio main, until `stop` is set.

    Dramatiq's worker threads consume `queue_name`; each message is bridged to this loop, where the job runs with
    the Database and whatever clients the handlers hold. Also runs the publisher and maintenance loop, so retries
    scheduled here and jobs of dead workers get published."""
    queue = DramatiqQueue(db, table, handlers, options, broker_url=broker_url, queue_name=queue_name)
    await queue.start()
    assert queue.broker is not None
    loop = asyncio.get_running_loop()

    def run_job(job_id: int) -> None:
        try:
            asyncio.run_coroutine_threadsafe(queue._deliver(job_id), loop).result()
        except Exception as exc:
            # Never raise: the message is acknowledged when this returns, and the job table keeps the truth.
            _logger.warning("job message not handled", job_id=job_id, error=type(exc).__name__)

    Actor(
        run_job,
        broker=queue.broker,
        actor_name=ACTOR_NAME,
        queue_name=queue_name,
        priority=0,
        options={"max_retries": 0},
    )
    # Idle worker threads look at the stop flag this often; shutdown waits about that long.
    worker_timeout_ms = max(10, int(min(options.poll_interval_s, 1.0) * 1000))
    worker = Worker(queue.broker, worker_threads=threads, worker_timeout=worker_timeout_ms)
    worker.start()
    _logger.info("job worker started", queue=queue_name, threads=threads)
    try:
        await stop.wait()
    finally:
        # Jobs first (finished or released while the consumers still hold their messages), then the consumers:
        # closing them returns the prefetched, unprocessed messages to RabbitMQ.
        await queue.stop()
        await asyncio.to_thread(worker.stop)
        _logger.info("job worker stopped", queue=queue_name)
