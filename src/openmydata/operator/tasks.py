"""The operator's jobs (kit.jobs): one person's collection at one provider, the scheduler of 정기적 전송 that
enqueues them when due, and the commands that run them outside the web app (`openmydata operator worker`,
`openmydata operator collect --all`).

A collection job is safe to run twice (at-least-once delivery): it reads, fetches and upserts by the standard's
natural keys, and a scheduled one asks only for what is still due in the cycle (see `service.scheduled_due`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from openmydata.kit.clock import as_utc, utcnow
from openmydata.kit.db import Database
from openmydata.kit.jobs import (
    DramatiqQueue,
    EmbeddedQueue,
    Handler,
    Job,
    JobOptions,
    JobQueue,
    RetryLater,
)
from openmydata.kit.logging import get_logger
from openmydata.operator import repository as repo
from openmydata.operator.models import jobs
from openmydata.operator.service import COLLECT_JOB, OperatorService, consent_slot, provider_windows
from openmydata.operator.settings import OperatorSettings

_logger = get_logger("openmydata.operator.tasks")


def job_handlers(service: OperatorService, db: Database) -> dict[str, Handler]:
    async def collect(job: Job) -> Mapping[str, Any]:
        payload = job.payload
        run = await service.collect_institution(
            db, int(payload["person_id"]), str(payload["org_code"]), api_type=str(payload["api_type"])
        )
        if run.retry_after_s is not None:
            # The provider was unreachable, answered 5xx/429/503, its circuit is open or its windows are closed:
            # what came back is stored; the rest is asked again later (Retry-After, else the queue's back-off).
            raise RetryLater(run.error_code or run.state, delay_s=run.retry_after_s or None)
        return {"state": run.state, "records": run.records, "fetched": run.fetched, "error": run.error_code}

    return {COLLECT_JOB: collect}


def job_options(settings: OperatorSettings) -> JobOptions:
    return JobOptions(
        concurrency=settings.jobs_concurrency,
        poll_interval_s=settings.jobs_poll_interval_s,
        lease_s=settings.jobs_lease_s,
        max_attempts=settings.jobs_max_attempts,
        backoff_base_s=settings.jobs_backoff_base_s,
        backoff_max_s=settings.jobs_backoff_max_s,
        retention_s=settings.jobs_retention_s,
    )


def make_queue(settings: OperatorSettings, db: Database, handlers: Mapping[str, Handler]) -> JobQueue:
    """The configured backend: the embedded pool, or Dramatiq over RabbitMQ (this process then only publishes)."""
    if settings.jobs_backend == "dramatiq":
        return DramatiqQueue(
            db,
            jobs,
            handlers,
            job_options(settings),
            broker_url=settings.jobs_broker_url,
            queue_name=settings.jobs_queue,
        )
    return EmbeddedQueue(db, jobs, handlers, job_options(settings))


async def schedule_due(service: OperatorService, db: Database, now: datetime | None = None) -> int:
    """One pass of the scheduler (정기적 전송): for every live consent with scheduled transmission whose current
    cycle slot has no scheduled collection yet, and whose provider's registered windows are open now, enqueue one
    (x-api-type scheduled) and remember the slot — in one transaction per page of consents, so a crash never
    loses or doubles a slot. Returns the jobs enqueued."""
    moment = as_utc(now) if now is not None else utcnow()
    enqueued = 0
    after = 0
    batch = service.settings.schedule_batch
    while True:
        async with db.transaction() as session:
            page = await repo.scheduled_consents(session, moment, after_id=after, limit=batch)
            if not page:
                break
            after = page[-1].id
            windows = {
                choice.org_code: provider_windows(choice.np_times) for choice in await service.provider_choices(session)
            }
            by_slot: dict[datetime, list[int]] = {}
            for consent in page:
                terms = consent.consent if isinstance(consent.consent, dict) else {}
                slot = consent_slot(terms, moment)
                done = consent.scheduled_through
                if done is not None and as_utc(done) >= slot:
                    continue
                open_now = windows.get(consent.org_code)
                if open_now is None or not open_now.contains(moment):
                    continue  # unknown provider, or outside its windows: a later pass inside them enqueues it
                assert consent.person_id is not None
                ids = await service.enqueue_collections(
                    session, consent.person_id, [consent.org_code], api_type="scheduled"
                )
                enqueued += len(ids)
                by_slot.setdefault(slot, []).append(consent.id)
            for slot, consent_ids in by_slot.items():
                await repo.set_scheduled_through(session, consent_ids, slot)
    if enqueued:
        _logger.info("scheduled collections enqueued", jobs=enqueued)
    return enqueued


async def run_periodically(name: str, interval_s: float, step: Callable[[], Awaitable[Any]]) -> None:
    """`step` every `interval_s` seconds (first one interval after start). A failure is logged (its type only) and
    the loop carries on; only cancellation ends it."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the background loop must outlive any one failure (e.g. the database restarting)
            _logger.error(f"{name} failed", error=type(exc).__name__)


async def enqueue_all(service: OperatorService, db: Database, *, api_type: str, now: datetime | None = None) -> int:
    """One collection job per live consent of every person (`openmydata operator collect --all`)."""
    moment = as_utc(now) if now is not None else utcnow()
    enqueued = 0
    after = 0
    while True:
        async with db.transaction() as session:
            page = await repo.live_consents(session, moment, after_id=after, limit=service.settings.schedule_batch)
            if not page:
                break
            after = page[-1].id
            for consent in page:
                assert consent.person_id is not None
                enqueued += len(
                    await service.enqueue_collections(session, consent.person_id, [consent.org_code], api_type=api_type)
                )
    return enqueued
