"""Collection survives faults (issue 5), on the embedded and the distributed (Dramatiq over RabbitMQ) backend.

A whole ecosystem runs on loopback (portal, certauth, a bank, a card company and a telecom operator, each adding
latency to every call); the operator's web app only enqueues (`jobs_run_in_app=False`) and collection jobs run in
separate worker processes (`openmydata operator worker`). Each test connects a few new people, lets the workers
collect under one fault, and then compares what the operator holds for every person with each provider's own
data, record by record: nothing lost, nothing duplicated, nothing unexpected.

- a worker killed with SIGKILL in the middle of the collection, then a new one started;
- one institution down for the whole run: the others complete, it is retried (and shown as stale, with why)
  until it is back, and then completes;
- PostgreSQL (the operator's database) restarted during the collection;
- every RabbitMQ connection dropped during the collection.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from openmydata.demo import (
    CORE_INSTITUTIONS,
    DEMO_TLS_RELOAD_S,
    Ecosystem,
    ProviderHandle,
    connect_person,
    expect_json,
    expected_record_keys,
    held_record_keys,
    settings_environment,
    start_ecosystem,
)
from openmydata.kit.db import Database, sqlite_url
from openmydata.kit.http import make_client
from openmydata.kit.server import RunningServer
from openmydata.kit.tls import TlsIdentity, start_tls_server
from openmydata.operator.models import jobs
from openmydata.sandbox.institutions import is_customer
from openmydata.sandbox.population import Person
from tests.conftest import PG_HOST, PG_PORT, REQUIRE_SERVICES, drop_pg_database, make_pg_database, require_service
from tests.integration.conftest import off_loop

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

PEOPLE = 40
SEED = 20261206
DEADLINE_S = 180.0
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@dataclass
class Rig:
    """One ecosystem whose operator runs `backend` on `dialect`, and the worker environment to go with it."""

    eco: Ecosystem
    backend: str
    dialect: str
    logs: Path
    used: set[str] = field(default_factory=set)

    @property
    def db_url(self) -> str:
        return self.eco.operator_settings.database_url

    def people(self, count: int, including: str | None = None) -> list[tuple[Person, list[str]]]:
        """`count` people not connected yet, each with the providers they are a customer of (at least two, and
        `including` among them when given)."""
        chosen = []
        for person in self.eco.people:
            if person.ci in self.used:
                continue
            org_codes = [
                p.org_code
                for p in self.eco.providers
                if is_customer(person, p.sector, p.org_code, self.eco.seed)  # type: ignore[arg-type]
            ]
            if len(org_codes) < 2 or (including is not None and including not in org_codes):
                continue
            self.used.add(person.ci)
            chosen.append((person, org_codes))
            if len(chosen) == count:
                return chosen
        raise AssertionError("not enough unconnected people in the population")


CONFIGS = {
    "embedded-sqlite": ("embedded", "sqlite"),
    "embedded-postgresql": ("embedded", "postgresql"),
    "dramatiq-postgresql": ("dramatiq", "postgresql"),
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    backend, dialect = CONFIGS[request.param]
    folder = tmp_path_factory.mktemp(f"faults-{request.param}")
    created: list[str] = []
    if dialect == "postgresql":
        require_service("PostgreSQL", PG_HOST, PG_PORT)
    if backend == "dramatiq":
        require_service("RabbitMQ", "127.0.0.1", 5672)

    def database_url(name: str) -> str:
        if name != "operator" or dialect == "sqlite":
            return sqlite_url(folder / f"{name}.db")
        url, database = off_loop(make_pg_database)
        created.append(database)
        return url

    queue = f"omd-faults-{secrets.token_hex(4)}"
    eco = await start_ecosystem(
        folder,
        people=PEOPLE,
        seed=SEED,
        pin_kdf_cost=2**4,
        institutions=CORE_INSTITUTIONS,
        database_url=database_url,
        provider_overrides={"fault_latency_ms": 40},
        operator_overrides={
            "jobs_backend": backend,
            "jobs_broker_url": RABBITMQ_URL,
            "jobs_queue": queue,
            "jobs_run_in_app": False,  # the web app only enqueues: the workers under test do the collecting
            "jobs_concurrency": 3,
            "jobs_lease_s": 2.0,
            "jobs_poll_interval_s": 0.2,
            "jobs_backoff_base_s": 0.3,
            "jobs_backoff_max_s": 1.5,
            "jobs_max_attempts": 100,
            "breaker_failures": 3,
            "breaker_reset_s": 1.0,
            "retry_base_s": 0.05,
            "retry_max_s": 0.3,
            "schedule_interval_s": 0,
        },
    )
    try:
        yield Rig(eco, backend, dialect, folder / "worker-logs")
    finally:
        await eco.stop()
        if backend == "dramatiq":
            _delete_queues(queue)
        for database in created:
            off_loop(lambda database=database: drop_pg_database(database))


def _delete_queues(queue: str) -> None:
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel.queue_delete(queue=name)
    finally:
        connection.close()


class Worker:
    """`openmydata operator worker` in a process of its own, configured like the rig's operator."""

    def __init__(self, rig: Rig, process: asyncio.subprocess.Process, log: Path):
        self.rig = rig
        self.process = process
        self.log = log

    @classmethod
    async def start(cls, rig: Rig) -> Worker:
        rig.logs.mkdir(exist_ok=True)
        log = rig.logs / f"worker-{secrets.token_hex(3)}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENMYDATA_OPERATOR_")}
        env.update(settings_environment(rig.eco.operator_settings))
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "openmydata.cli",
                "operator",
                "worker",
                "--threads",
                "3",
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
            )
        return cls(rig, process, log)

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


async def _job_states(rig: Rig, job_ids: set[int]) -> list[tuple[int, str, int]]:
    db = Database(rig.db_url)
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(jobs.c.id, jobs.c.state, jobs.c.attempts))).all()
    finally:
        await db.dispose()
    return [(row.id, row.state, row.attempts) for row in rows if row.id in job_ids]


async def _wait_for(
    what: str, condition: Callable[[], Awaitable[bool]], workers: list[Worker], timeout_s: float = DEADLINE_S
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await condition():
        for worker in workers:
            if worker.process.returncode not in (None, -signal.SIGKILL):
                raise AssertionError(f"a worker exited ({worker.process.returncode}):\n{worker.tail()}")
        if loop.time() > deadline:
            tails = "\n".join(worker.tail() for worker in workers)
            raise AssertionError(f"timed out waiting for {what}\n{tails}")
        await asyncio.sleep(0.1)


@dataclass
class Connected:
    person: Person
    auth: dict[str, str]
    org_codes: list[str]


async def _connect(
    rig: Rig, http: httpx.AsyncClient, count: int, including: str | None = None
) -> tuple[list[Connected], set[int]]:
    """New people sign up and consent; their first collections are only enqueued (no worker runs yet). Returns
    them and the ids of those collection jobs (one per person and provider)."""
    before = {job_id for job_id, _state, _attempts in await _all_jobs(rig)}
    connected = []
    for person, org_codes in rig.people(count, including):
        auth, completed = await connect_person(http, rig.eco, person, org_codes, wait=False)
        assert all(entry["ok"] for entry in completed["providers"]), completed
        connected.append(Connected(person, auth, org_codes))
    new = [row for row in await _all_jobs(rig) if row[0] not in before]
    assert all(state == "pending" for _id, state, _attempts in new), new
    assert len(new) == sum(len(item.org_codes) for item in connected)
    return connected, {job_id for job_id, _state, _attempts in new}


async def _all_jobs(rig: Rig) -> list[tuple[int, str, int]]:
    db = Database(rig.db_url)
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(jobs.c.id, jobs.c.state, jobs.c.attempts))).all()
    finally:
        await db.dispose()
    return [(row.id, row.state, row.attempts) for row in rows]


async def _all_done(rig: Rig, job_ids: set[int]) -> bool:
    states = await _job_states(rig, job_ids)
    return len(states) == len(job_ids) and all(state == "done" for _id, state, _attempts in states)


async def _assert_complete(rig: Rig, http: httpx.AsyncClient, connected: list[Connected]) -> int:
    """Every person's records at the operator equal the providers' own data; returns the records compared."""
    compared = 0
    for item in connected:
        held = expect_json(await http.get(f"{rig.eco.operator.url}/api/me/records", headers=item.auth), "records")
        keys = held_record_keys(held["records"])
        expected = await expected_record_keys(rig.eco, item.person, item.org_codes)
        assert len(keys) == len(set(keys)), "duplicated records"
        assert expected - set(keys) == set(), "lost records"
        assert set(keys) - expected == set(), "unexpected records"
        compared += len(expected)
    assert compared > 0
    return compared


@pytest.mark.parametrize("rig", ["embedded-sqlite", "dramatiq-postgresql"], indirect=True)
async def test_a_worker_killed_mid_collection_resumes_without_loss_or_duplicates(rig: Rig) -> None:
    async with make_client(timeout_s=120) as http:
        connected, job_ids = await _connect(rig, http, 5)
        first = await Worker.start(rig)

        async def some_done_some_running() -> bool:
            states = [state for _id, state, _attempts in await _job_states(rig, job_ids)]
            return "done" in states and "running" in states

        await _wait_for("a collection in progress", some_done_some_running, [first])
        await first.kill()
        interrupted = {job_id for job_id, state, _ in await _job_states(rig, job_ids) if state == "running"}
        assert interrupted, "the worker was killed while collecting"
        second = await Worker.start(rig)
        try:
            await _wait_for("every collection done", lambda: _all_done(rig, job_ids), [second])
        finally:
            await second.stop()
        attempts = {job_id: tries for job_id, _state, tries in await _job_states(rig, job_ids)}
        assert all(attempts[job_id] >= 2 for job_id in interrupted)  # taken over after the lease ran out
        await _assert_complete(rig, http, connected)


@pytest.mark.parametrize("rig", ["embedded-sqlite", "dramatiq-postgresql"], indirect=True)
async def test_an_institution_down_for_the_whole_run_is_retried_until_complete(rig: Rig) -> None:
    async with make_client(timeout_s=120) as http:
        down = rig.eco.providers[0]
        connected, job_ids = await _connect(rig, http, 3, including=down.org_code)
        stopped = down.server
        assert isinstance(stopped, RunningServer)
        await stopped.stop()
        worker = await Worker.start(rig)
        try:

            async def others_done_down_retried() -> bool:
                states = await _job_states(rig, job_ids)
                retried = [tries for _id, state, tries in states if state == "pending" and tries >= 2]
                done = [state for _id, state, _tries in states if state == "done"]
                return len(done) == len(job_ids) - len(connected) and len(retried) == len(connected)

            await _wait_for("the other institutions done, the one down retried", others_done_down_retried, [worker])
            # The person sees which institution is stale and why, and that it is being retried.
            progress = expect_json(
                await http.get(f"{rig.eco.operator.url}/api/me/collection", headers=connected[0].auth), "progress"
            )
            rows = {row["org_code"]: row for row in progress["institutions"]}
            assert rows[down.org_code]["fresh"] is False
            assert rows[down.org_code]["phase"] in ("retrying", "running", "queued")
            assert rows[down.org_code]["reason"] in (
                "기관 서버에 연결할 수 없습니다",
                "기관 서버 장애가 계속되어 잠시 연결을 멈췄습니다",
            )
            assert all(row["fresh"] for org, row in rows.items() if org != down.org_code)
            await _restart(rig.eco, down, stopped)
            await _wait_for("every collection done", lambda: _all_done(rig, job_ids), [worker])
        finally:
            await worker.stop()
        await _assert_complete(rig, http, connected)
        progress = expect_json(
            await http.get(f"{rig.eco.operator.url}/api/me/collection", headers=connected[0].auth), "progress"
        )
        assert all(row["fresh"] and row["phase"] == "done" for row in progress["institutions"])


@pytest.mark.disruptive
@pytest.mark.parametrize("rig", ["embedded-postgresql", "dramatiq-postgresql"], indirect=True)
async def test_a_postgresql_restart_during_collection_is_survived(rig: Rig) -> None:
    cluster = _postgresql_cluster()
    async with make_client(timeout_s=120) as http:
        connected, job_ids = await _connect(rig, http, 5)
        worker = await Worker.start(rig)
        try:

            async def under_way() -> bool:
                states = [state for _id, state, _ in await _job_states(rig, job_ids)]
                return "done" in states and any(state != "done" for state in states)

            await _wait_for("a collection in progress", under_way, [worker])
            await asyncio.to_thread(
                subprocess.run,
                ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, "restart"],
                check=True,
                capture_output=True,
            )
            await _wait_for("every collection done", lambda: _survives(_all_done(rig, job_ids)), [worker])
        finally:
            await worker.stop()
        await _assert_complete(rig, http, connected)


@pytest.mark.disruptive
@pytest.mark.parametrize("rig", ["dramatiq-postgresql"], indirect=True)
async def test_dropped_rabbitmq_connections_during_collection_are_survived(rig: Rig) -> None:
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        message = "rabbitmqctl is not installed (it drops the broker's connections)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    async with make_client(timeout_s=120) as http:
        connected, job_ids = await _connect(rig, http, 5)
        worker = await Worker.start(rig)
        try:

            async def under_way() -> bool:
                states = [state for _id, state, _ in await _job_states(rig, job_ids)]
                return "done" in states

            await _wait_for("a collection in progress", under_way, [worker])
            for _ in range(2):
                await asyncio.to_thread(
                    subprocess.run,
                    [rabbitmqctl, "close_all_connections", "openmydata fault test"],
                    check=True,
                    capture_output=True,
                )
                await asyncio.sleep(0.5)
            await _wait_for("every collection done", lambda: _all_done(rig, job_ids), [worker])
        finally:
            await worker.stop()
        await _assert_complete(rig, http, connected)


async def _survives(check: Awaitable[bool]) -> bool:
    """The check itself reads the operator's database, which may be restarting: not yet means not yet."""
    try:
        return await check
    except Exception:  # the database is coming back
        return False


def _postgresql_cluster() -> list[str]:
    """[version, "main"] of the local cluster that pg_ctlcluster restarts."""
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions or shutil.which("pg_ctlcluster") is None:
        message = "pg_ctlcluster and a local PostgreSQL cluster are needed to restart PostgreSQL"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return [versions[-1], "main"]


async def _restart(eco: Ecosystem, provider: ProviderHandle, stopped: RunningServer) -> None:
    """Serve the same provider app on the same port again (its lifespan runs anew)."""
    assert eco.certificates is not None
    server = await start_tls_server(
        f"{provider.holder}:tls",
        stopped.server.config.app,
        identity=TlsIdentity(eco.certificates.files(provider.holder)),
        host=stopped.host,
        port=stopped.port,
        reload_interval_s=DEMO_TLS_RELOAD_S,
    )
    provider.server = server
    eco.servers[eco.servers.index(stopped)] = server
