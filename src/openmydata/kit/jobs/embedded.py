"""The embedded backend: jobs run on the process's own event loop, their records in the participant's database.

Works wherever a loop runs (a FastAPI lifespan, a plain `asyncio.run` program): `start()` on that loop, `stop()`
before it ends. A restart resumes unfinished work: pending jobs are still there, and a job that was running when
the process died is claimed again once its lease expires."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from openmydata.kit.jobs.queue import JobQueue


class EmbeddedQueue(JobQueue):
    """Up to `concurrency` jobs at once on the running loop: a dispatcher claims due jobs by priority then id into
    the free slots whenever an enqueue commits or a job finishes, and at least every `poll_interval_s`."""

    def _steps(self) -> list[tuple[str, Callable[[], Awaitable[None]], bool]]:
        return [("dispatch", self._dispatch, True), *super()._steps()]

    async def _dispatch(self) -> None:
        free = self.options.concurrency - len(self._running)
        if free > 0:
            await self._claim_and_spawn(limit=free)
