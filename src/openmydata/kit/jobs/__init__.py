"""Durable, idempotent jobs behind one interface, with two backends.

- `EmbeddedQueue`: an in-process asyncio worker pool; the job records live in the participant's own database
  (SQLite or PostgreSQL), so a restart resumes unfinished work.
- `DramatiqQueue` / `run_worker`: Dramatiq over RabbitMQ, any number of worker processes; the job table stays the
  truth and a message only carries a job id.

Enqueueing is an outbox: `enqueue` inserts the job in the caller's transaction and the queue is woken after that
transaction commits, so no job refers to rolled-back state. A job is claimed under a lease that a heartbeat extends
while it runs; a job whose worker died is claimed again when the lease expires.

Delivery is AT LEAST ONCE, nothing stronger: a handler may run again after a crash, a lost lease, a lost broker
acknowledgement or a restart. Every handler must be safe to run twice — upserts keyed by natural keys, cursors
stored with the data they produced. Handlers return a small JSON summary (stored as the job's `result`) or None;
they raise `RetryLater` to be run again later. Errors are recorded as their type name (or RetryLater's code), never
their message, so no personal data reaches the job table or the logs.
"""

from __future__ import annotations

from openmydata.kit.jobs.distributed import DramatiqQueue, run_worker
from openmydata.kit.jobs.embedded import EmbeddedQueue
from openmydata.kit.jobs.queue import Handler, Job, JobOptions, JobQueue, JobStatus, RetryLater
from openmydata.kit.jobs.table import job_table

__all__ = [
    "DramatiqQueue",
    "EmbeddedQueue",
    "Handler",
    "Job",
    "JobOptions",
    "JobQueue",
    "JobStatus",
    "RetryLater",
    "job_table",
    "run_worker",
]
