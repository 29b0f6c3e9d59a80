"""A real job worker process for test_jobs_distributed.py (the SIGKILL test):

    python jobs_worker_process.py DB_URL BROKER_URL QUEUE_NAME HOLD_S

Its `slow_collect` handler records the run, holds for HOLD_S seconds (so that the test can kill the process
mid-job), then stores its effect with an idempotent upsert keyed by the job's natural key. SIGTERM stops it
gracefully. The test creates the tables."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from sqlalchemy import MetaData, text

from openmydata.kit.db import Database
from openmydata.kit.jobs import Job, JobOptions, job_table, run_worker

OPTIONS = JobOptions(poll_interval_s=0.05, lease_s=1.0, backoff_base_s=0.05, backoff_max_s=0.2, republish_after_s=1.0)


async def main(db_url: str, broker_url: str, queue_name: str, hold_s: float) -> None:
    db = Database(db_url)

    async def slow_collect(job: Job) -> Mapping[str, Any]:
        async with db.transaction() as session:
            await session.execute(
                text("INSERT INTO job_runs (job_id, attempt, pid) VALUES (:job_id, :attempt, :pid)"),
                {"job_id": job.id, "attempt": job.attempts, "pid": os.getpid()},
            )
        await asyncio.sleep(hold_s)
        async with db.transaction() as session:
            await session.execute(
                text(
                    "INSERT INTO job_effects (natural_key, job_id, pid) VALUES (:key, :job_id, :pid) "
                    "ON CONFLICT (natural_key) DO NOTHING"
                ),
                {"key": job.payload["natural_key"], "job_id": job.id, "pid": os.getpid()},
            )
        return {"pid": os.getpid()}

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await run_worker(
            db,
            job_table(MetaData()),
            {"slow_collect": slow_collect},
            broker_url=broker_url,
            queue_name=queue_name,
            options=OPTIONS,
            threads=2,
            stop=stop,
        )
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
