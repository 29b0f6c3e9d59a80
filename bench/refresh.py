"""Scheduled refresh throughput: `python -m bench.refresh` (the `make bench-refresh` target).

A scheduled refresh (정기적 전송, x-api-type `scheduled`) of `--consents` consents across a bank, a card company and a
telecom operator, run by the operator's collection workers in three configurations that alternate run by run
(a, b, c, a, b, c, …):

- `embedded`: one `openmydata operator worker` process with `jobs_backend=embedded` (the in-process pool);
- `distributed-1` / `distributed-2`: one or two `openmydata operator worker` processes with `jobs_backend=dramatiq`
  (Dramatiq over RabbitMQ, a fresh queue per run).

Reported per run and as medians per configuration: information API calls per second (the providers' own access
records), jobs (one consent's refresh at one institution) finished per second, the providers' response times
(`access_records.rsp_ms`, p50/p99 over the three providers), failed and lost jobs, refusals by rsp_code, CPU seconds
per process and the workers' warnings; the ratios distributed-2 / distributed-1 (scaling with a second worker
process) and distributed-1 / embedded, measured in the same invocation; the time the whole refresh would take at
the measured rate.

1. Setup (not measured; `--reuse` keeps it and skips it next time when the databases hold a complete setup of the
   same --consents, --seed and --signatures). `openmydata.demo.start_ecosystem` on loopback: portal, certauth, the
   three institutions (each provider in a process of its own, importing its customers through its own import path)
   and the operator, every participant's database on PostgreSQL (`omd_bench_refresh_<participant>`). Enough
   synthetic people are seeded for their consents (one per person and institution the sandbox makes them a customer
   of) to reach --consents. Each person is created at the operator (`Keyring.new_person`, `repository.add_person`)
   and consents at each institution, concurrently (`--setup-concurrency`): the operator composes the consents
   (`compose_consents`), they are signed as CMS, its client posts them to 통합인증-002 over mutual TLS (the tokens are
   bound to the operator's certificate), the provider verifies the signature, records the consent and issues the
   tokens, and the operator records each grant (`OperatorService.record_grant`). `--signatures local` (default):
   the person's certificate comes from a benchmark CA and the providers verify against it (`consent_verifier=local`,
   as bench.provider does); `--signatures certauth`: the operator's own 통합인증 flow through the demo's certauth
   (sign request, the person's PIN approval, sign result; the providers have certauth verify), about twice as
   slow to set up. The ecosystem is then stopped; what the rig needs is kept in `.openmydata/bench-refresh/`.
2. The rig (after a setup and with --reuse alike): the portal and the three providers as `openmydata serve …`
   processes with the settings they were set up with (optionally `--latency-ms` of injected latency), and an
   in-process `OperatorRuntime` for enqueueing and bookkeeping.
3. Each run: `reset` (harness bookkeeping: the state right after the setup), one scheduled collection job per live
   consent (`tasks.enqueue_all`, what `openmydata operator collect --all` does), the configuration's worker
   processes (`--workers-threads` jobs at once each; the operator's per-institution rate limit far above what is
   reached; `--scheduled-period-months`, see docs/benchmarks.md), a warm-up from the first job claimed of at
   least `--warmup-s` and until the first wave of jobs has finished, `--window-s` measured, SIGTERM, then the
   run's jobs counted, those left cancelled and the run's RabbitMQ queues deleted.
4. Writes bench/results/refresh-<timestamp>.json (worker and participant logs next to it), prints a Rich table and,
   last, the JSON summary on one line.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url

from bench.common import HOST, RESULTS_DIR, Machine, machine_cpu_ticks, pg_dsn, process_cpu_seconds, sqlalchemy_url
from bench.loadgen import percentile
from openmydata.demo import CORE_INSTITUTIONS, Ecosystem, ProviderProcess, settings_environment, start_ecosystem
from openmydata.kit import cms
from openmydata.kit import logging as log
from openmydata.kit.clock import as_utc, now_kst, today_kst, utcnow
from openmydata.kit.http import make_client
from openmydata.kit.jobs.table import CANCELLED, DONE, FAILED, PENDING, RUNNING
from openmydata.kit.pki import CertificateAuthority
from openmydata.operator import repository as repo
from openmydata.operator.models import ApiCall, jobs
from openmydata.operator.personal import Identity, Member
from openmydata.operator.runtime import OperatorRuntime
from openmydata.operator.service import ProviderChoice, compose_consents, person_group
from openmydata.operator.settings import OperatorSettings
from openmydata.operator.tasks import enqueue_all
from openmydata.portal.settings import PortalSettings
from openmydata.sandbox.institutions import SectorName, is_customer
from openmydata.sandbox.population import Person, generate_people
from openmydata.standard.consent import encode_signed_content

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / ".openmydata" / "bench-refresh"
STATE_FILE = "state.json"
CONSENT_CA_FILE = "bench-consent-ca.pem"
SIGNATURES = ("local", "certauth")
DB_PREFIX = "omd_bench_refresh_"
MARKER = "openmydata-bench-refresh"
CONFIGS = ("embedded", "distributed-1", "distributed-2")
WORKERS = {"embedded": 1, "distributed-1": 1, "distributed-2": 2}
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
# scrypt cost of the people's PIN-protected keys at certauth (as the fan-out benchmark): the PIN is checked once per
# person, and what is measured is the refresh, not the enrolment.
PIN_KDF_COST = 2**4
# The operator's per-institution token bucket (`provider_rate_per_s`, shipped default 50 calls/s and burst 50 per
# institution and process) is set far above what two cores can drive, so that it is never the bottleneck.
RATE_PER_S = 100_000.0
BURST = 100_000
OK_CODES = frozenset({"00000", "00001"})
# Consents per person is estimated from this many people of the population before the ecosystem starts (the org codes
# the portal assigns are not known yet; the shares, which decide the expectation, do not depend on them).
ESTIMATE_SAMPLE = 2000
PEOPLE_MARGIN = 1.03
# What one participant process's engine may open (kit.db: pool_size 10 + max_overflow 10).
DB_CONNECTIONS_PER_PROCESS = 20
# The warm-up never lasts longer than this, whatever the first wave of jobs does.
MAX_WARMUP_S = 600.0


# -- PostgreSQL ------------------------------------------------------------------------------------------------------


async def _execute(database: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(pg_dsn(database))
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


def database_name(participant: str) -> str:
    """`omd_bench_refresh_<participant>`: lower case, anything but letters and digits as `_`."""
    return DB_PREFIX + re.sub(r"[^a-z0-9]+", "_", participant.lower()).strip("_")


async def drop_bench_databases() -> list[str]:
    """Drop every database of this benchmark's namespace (a setup that was interrupted leaves some behind)."""
    rows = await _execute("postgres", "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", DB_PREFIX)
    names = sorted(str(row["datname"]) for row in rows)
    for name in names:
        await _execute("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return names


async def _database_exists(name: str) -> bool:
    return bool(await _execute("postgres", "SELECT 1 FROM pg_database WHERE datname = $1", name))


def _create_database_blocking(name: str) -> None:
    """CREATE DATABASE from code that runs on the event loop but must return a URL synchronously (start_ecosystem's
    `database_url`): `asyncio.run` in a thread of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(_execute("postgres", f'CREATE DATABASE "{name}"'))).result()


# -- what a setup leaves for the rig ---------------------------------------------------------------------------------


@dataclass
class ProviderState:
    sector: str
    org_code: str
    port: int
    database: str
    env: dict[str, str]  # OPENMYDATA_PROVIDER_* it was started with


@dataclass
class SetupState:
    setup_id: str
    consents: int
    seed: int
    signatures: str  # how consents were signed and verified: "local" or "certauth" (see `grant_consents`)
    as_of: str
    people: int  # seeded (certauth, the providers' customers)
    persons: int  # of whom connected at the operator
    consents_by_sector: dict[str, int]
    customers_by_sector: dict[str, int]
    portal_port: int
    portal_env: dict[str, str]
    providers: list[ProviderState]
    operator: dict[str, Any]  # the OperatorSettings fields the demo set (JSON)
    operator_database: str
    databases: list[str]
    timings_s: dict[str, float] = field(default_factory=dict)

    def operator_settings(self) -> OperatorSettings:
        return OperatorSettings(**self.operator)

    def save(self, directory: Path) -> None:
        path = directory / STATE_FILE
        path.touch(mode=0o600)
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> SetupState | None:
        try:
            data = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
            data["providers"] = [ProviderState(**entry) for entry in data["providers"]]
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError):
            return None


async def _write_marker(state: SetupState) -> None:
    note = {"marker": MARKER, "setup_id": state.setup_id, "consents": state.consents, "seed": state.seed}
    text = json.dumps(note).replace("'", "''")
    await _execute("postgres", f"COMMENT ON DATABASE \"{state.operator_database}\" IS '{text}'")


async def _read_marker(database: str) -> dict[str, Any] | None:
    rows = await _execute(
        "postgres", "SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1", database
    )
    if not rows or not rows[0]["note"]:
        return None
    try:
        note = json.loads(rows[0]["note"])
    except ValueError:
        return None
    return note if isinstance(note, dict) and note.get("marker") == MARKER else None


async def _live_consents(database: str) -> int:
    rows = await _execute(database, "SELECT count(*) AS n FROM consents WHERE status = 'active' AND end_date > now()")
    return int(rows[0]["n"])


async def reusable(consents: int, seed: int, signatures: str) -> tuple[SetupState | None, str]:
    """The kept setup when it is complete for the same --consents, --seed and --signatures, else (None, why not)."""
    state = SetupState.load(DATA_DIR)
    if state is None:
        return None, f"no setup in {DATA_DIR.relative_to(ROOT)}"
    if state.consents != consents or state.seed != seed or state.signatures != signatures:
        return None, (
            f"the kept setup has {state.consents:,} consents, seed {state.seed} and {state.signatures} signatures"
        )
    for name in state.databases:
        if not await _database_exists(name):
            return None, f"database {name} is missing"
    note = await _read_marker(state.operator_database)
    if note is None or note.get("setup_id") != state.setup_id:
        return None, "the databases do not hold that setup (no marker, or another one)"
    live = await _live_consents(state.operator_database)
    if live != consents:
        return None, f"the operator holds {live:,} live consents, not {consents:,}"
    return state, ""


# -- setup -----------------------------------------------------------------------------------------------------------


class Bars:
    """A Rich progress bar per named step, driven by `(description, completed, total)` callbacks."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, description: str, completed: int, total: int) -> None:
        if description not in self.tasks:
            self.tasks[description] = self.progress.add_task(description, total=total)
        self.progress.update(self.tasks[description], completed=completed, total=total)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def people_needed(consents: int, seed: int) -> int:
    """People to seed so that their consents (one per institution they are a customer of) reach `consents`."""
    sample = generate_people(min(ESTIMATE_SAMPLE, max(consents, 100)), seed, today_kst())
    sectors = [cast(SectorName, plan.sector) for plan in CORE_INSTITUTIONS]
    per_person: float = sum(
        is_customer(person, sector, f"ESTIMATE{index:02d}", seed)
        for person in sample
        for index, sector in enumerate(sectors)
    ) / len(sample)
    return math.ceil(consents / per_person * PEOPLE_MARGIN) + 10


def consent_plan(eco: Ecosystem, consents: int) -> list[tuple[Person, list[str]]]:
    """People in population order, each with the institutions they are a customer of, until `consents` is reached
    (the last person may connect fewer than all of theirs)."""
    plan: list[tuple[Person, list[str]]] = []
    total = 0
    for person in eco.people:
        org_codes = [
            provider.org_code
            for provider in eco.providers
            if is_customer(person, cast(SectorName, provider.sector), provider.org_code, eco.seed)
        ]
        if not org_codes:
            continue
        taken = org_codes[: consents - total]
        plan.append((person, taken))
        total += len(taken)
        if total >= consents:
            return plan
    raise RuntimeError(f"the {len(eco.people):,} people seeded hold only {total:,} consents, not {consents:,}")


def _cert_tx_id(nonce: str) -> str:
    return "CERTTX" + hashlib.sha256(nonce.encode("ascii")).hexdigest()[:20]


async def _connect_local(
    runtime: OperatorRuntime,
    ca: CertificateAuthority,
    choices: dict[str, ProviderChoice],
    person: Person,
    orgs: list[str],
) -> None:
    """One person, signing with a certificate of the benchmark's CA: the operator composes one consent per
    institution (`compose_consents`), the person signs each (CMS), the operator's client posts them to 통합인증-002
    (mutual TLS, with the operator's certificate, to which the tokens are bound), the provider verifies the signature
    against the benchmark CA (`consent_verifier=local`), records the consent and issues the tokens; the operator
    creates the person and records each grant (`record_grant`)."""
    service, settings = runtime.service, runtime.settings
    key, certificate = ca.issue_person(person.ci)
    prepared = compose_consents([choices[org] for org in orgs], settings=settings, now=now_kst())

    async def authorise(item: Any) -> Any:
        der = cms.sign(encode_signed_content(item.consent, item.nonce), key, certificate)
        client = service.peers.provider(item.org_code, choices[item.org_code].domain)
        return await client.integrated_auth(
            tx_id=item.tx_id,
            ca_code=settings.ca_code,
            user_ci=person.ci,
            signed_consent=base64.urlsafe_b64encode(der).rstrip(b"=").decode("ascii"),
            consent_nonce=item.nonce,
            cert_tx_id=_cert_tx_id(item.nonce),
        )

    granted = await asyncio.gather(*(authorise(item) for item in prepared))
    signed_at = utcnow()
    identity = Identity(ci=person.ci, name=person.name, birth_date=person.birth_date, phone=person.phone)
    async with runtime.db.transaction() as session:
        row, _data_key = await service.keyring.new_person(identity, signed_at)
        stored = await repo.add_person(session, row)
        for item, tokens in zip(prepared, granted, strict=True):
            await service.record_grant(
                session,
                stored.id,
                item.org_code,
                tx_id=item.tx_id,
                consent=item.consent.to_wire(),
                consent_nonce=item.nonce,
                end_date=as_utc(item.consent.end),
                is_scheduled=item.consent.is_scheduled,
                tokens=tokens,
                at=signed_at,
            )


async def _connect_certauth(
    runtime: OperatorRuntime, http: httpx.AsyncClient, certauth_url: str, person: Person, orgs: list[str]
) -> None:
    """One person at the operator: created (sealed identity, own data key), a consent to `orgs` signed at certauth
    with their PIN, then 통합인증-002 at each institution and the grants recorded (`complete_consent`)."""
    service, db = runtime.service, runtime.db
    identity = Identity(ci=person.ci, name=person.name, birth_date=person.birth_date, phone=person.phone)
    async with db.transaction() as session:
        row, key = await service.keyring.new_person(identity, utcnow())
        stored = await repo.add_person(session, row)
        member = Member(id=stored.id, identity=identity, created_at=stored.created_at, key=key)
        approval = await service.start_consent(session, member, orgs, {})
    response = await http.post(
        f"{certauth_url}/v1/ca/approvals/{approval.cert_tx_id}", json={"pin": person.pin, "decision": "approve"}
    )
    if response.status_code != 200:
        raise RuntimeError(f"certauth refused the approval: HTTP {response.status_code} {response.text[:300]}")
    async with db.transaction() as session:
        completion = await service.complete_consent(session, member, approval.cert_tx_id)
        # The first collection (user-consent) these consents enqueue is not what is measured: cancelled before it
        # is committed, so no worker ever sees it.
        await runtime.queue.cancel_group(session, person_group(member.id))
    refused = [(outcome.org_code, outcome.error) for outcome in completion.providers if not outcome.ok]
    if refused:
        raise RuntimeError(f"통합인증-002 refused: {refused}")


async def grant_consents(
    eco: Ecosystem,
    consents: int,
    report: Bars,
    *,
    concurrency: int,
    cpu: dict[str, float],
    ca: CertificateAuthority | None,
) -> dict[str, int]:
    """Every planned person connected (`concurrency` at a time); returns the consents per sector and puts the CPU
    seconds this process (operator, certauth, portal) and the providers spent meanwhile in `cpu`."""
    plan = consent_plan(eco, consents)
    providers = {p.label: p.server.process.pid for p in eco.providers if isinstance(p.server, ProviderProcess)}
    before = {"bench": process_cpu_seconds(os.getpid())} | {n: process_cpu_seconds(pid) for n, pid in providers.items()}
    sectors = {provider.org_code: provider.sector for provider in eco.providers}
    by_sector = Counter(sectors[org] for _person, orgs in plan for org in orgs)
    pending = iter(plan)
    done = 0
    report("consents (통합인증-002)", 0, consents)
    async with OperatorRuntime(eco.operator_settings) as runtime, make_client(timeout_s=120) as http:
        async with runtime.db.transaction() as session:
            await runtime.service.sync_registry(session, force=True)
            choices = {choice.org_code: choice for choice in await runtime.service.provider_choices(session)}

        async def worker() -> None:
            nonlocal done
            for person, orgs in pending:  # one iterator shared by the workers
                if ca is not None:
                    await _connect_local(runtime, ca, choices, person, orgs)
                else:
                    await _connect_certauth(runtime, http, eco.certauth.url, person, orgs)
                done += len(orgs)
                report("consents (통합인증-002)", done, consents)

        async with asyncio.TaskGroup() as group:  # a failure cancels the other workers
            for _ in range(concurrency):
                group.create_task(worker())
    after = {"bench": process_cpu_seconds(os.getpid())} | {n: process_cpu_seconds(pid) for n, pid in providers.items()}
    cpu.update({name: round(after[name] - before[name], 1) for name in after})
    return dict(sorted(by_sector.items()))


async def _vacuum(databases: Iterable[str]) -> None:
    for name in databases:
        connection = await asyncpg.connect(pg_dsn(name))
        try:
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()


async def setup(args: argparse.Namespace, console: Console) -> SetupState:
    """A fresh ecosystem, seeded and connected (see the module's docstring); stopped again before returning."""
    dropped = await drop_bench_databases()
    if dropped:
        console.print(f"dropped {len(dropped)} databases of an earlier setup")
    shutil.rmtree(DATA_DIR, ignore_errors=True)
    DATA_DIR.mkdir(parents=True)
    people = people_needed(args.consents, args.seed)
    created: list[str] = []

    def database_url(participant: str) -> str:
        name = database_name(participant)
        _create_database_blocking(name)
        created.append(name)
        return sqlalchemy_url(name)

    console.print(
        f"setting up: {people:,} people for {args.consents:,} consents (seed {args.seed}, {args.signatures} signatures)"
    )
    ca: CertificateAuthority | None = None
    verifier: dict[str, Any] = {}
    if args.signatures == "local":
        ca = CertificateAuthority.create("openmydata bench-refresh consent CA")
        trust = DATA_DIR / CONSENT_CA_FILE
        trust.write_bytes(ca.certificate_pem())
        verifier = {"consent_verifier": "local", "consent_trust_roots_file": trust}
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with _progress(console) as progress:
        bars = Bars(progress)
        eco = await start_ecosystem(
            DATA_DIR,
            people=people,
            seed=args.seed,
            progress=bars,
            database_url=database_url,
            pin_kdf_cost=PIN_KDF_COST,
            institutions=CORE_INSTITUTIONS,
            # Fixed secrets, so that the tokens issued now are still valid when the rig starts the providers again.
            provider_overrides={
                "token_secret": secrets.token_urlsafe(32),
                "cursor_secret": secrets.token_urlsafe(32),
                **verifier,
            },
            provider_processes=True,
            operator_overrides={
                "jobs_run_in_app": False,
                "schedule_interval_s": 0,
                "housekeeping_interval_s": 0,
                "statistics_interval_s": 0,
            },
        )
        try:
            timings["ecosystem_s"] = round(time.perf_counter() - started, 1)
            step = time.perf_counter()
            cpu: dict[str, float] = {}
            by_sector = await grant_consents(
                eco, args.consents, bars, concurrency=args.setup_concurrency, cpu=cpu, ca=ca
            )
            timings["consents_s"] = round(time.perf_counter() - step, 1)
            timings |= {f"consents_cpu_{name}_s": value for name, value in cpu.items()}
            state = _state_of(eco, args, people, by_sector, created)
        finally:
            await eco.stop()
    step = time.perf_counter()
    await _vacuum(state.databases)
    timings["vacuum_s"] = round(time.perf_counter() - step, 1)
    timings["total_s"] = round(time.perf_counter() - started, 1)
    state.timings_s = timings
    live = await _live_consents(state.operator_database)
    if live != args.consents:
        raise RuntimeError(f"the operator holds {live:,} live consents after the setup, not {args.consents:,}")
    state.save(DATA_DIR)
    await _write_marker(state)
    return state


def _state_of(
    eco: Ecosystem, args: argparse.Namespace, people: int, by_sector: dict[str, int], databases: list[str]
) -> SetupState:
    assert eco.portal_peer is not None
    # The portal's settings, as its app keeps them (`app.state.settings`): the rig starts it again with them.
    portal_app: Any = eco.portal_peer.server.config.app
    portal = portal_app.state.settings
    assert isinstance(portal, PortalSettings)
    providers = []
    customers: dict[str, int] = {}
    for handle in eco.providers:
        assert isinstance(handle.server, ProviderProcess)
        assert handle.settings is not None
        customers[handle.sector] = sum(
            is_customer(person, cast(SectorName, handle.sector), handle.org_code, eco.seed) for person in eco.people
        )
        providers.append(
            ProviderState(
                sector=handle.sector,
                org_code=handle.org_code,
                port=handle.server.port,
                database=str(make_url(handle.database_url).database),
                env=settings_environment(handle.settings),
            )
        )
    operator = eco.operator_settings
    consented = consent_plan(eco, args.consents)
    return SetupState(
        setup_id=secrets.token_hex(8),
        consents=args.consents,
        seed=args.seed,
        signatures=args.signatures,
        as_of=eco.as_of.isoformat(),
        people=people,
        persons=len(consented),
        consents_by_sector=by_sector,
        customers_by_sector=customers,
        portal_port=eco.portal_peer.port,
        portal_env=settings_environment(portal),
        providers=providers,
        operator=operator.model_dump(mode="json", include=operator.model_fields_set),
        operator_database=str(make_url(operator.database_url).database),
        databases=list(databases),
    )


# -- the rig ---------------------------------------------------------------------------------------------------------


@dataclass
class Service:
    """A participant's (or worker's) process, started with `python -m openmydata.cli …`."""

    name: str
    process: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    async def stop(self, timeout_s: float = 60.0) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=timeout_s)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def _spawn(name: str, arguments: Sequence[str], env: dict[str, str], log: Path) -> Service:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "openmydata.cli",
            *arguments,
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    return Service(name, process, log)


def _environment(prefix: str, settings_env: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefix)}
    env.update(settings_env)
    env.update(extra or {})
    return env


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


async def _wait_listening(service: Service, port: int, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if service.process.returncode is not None:
            raise RuntimeError(f"{service.name} exited during start-up:\n{service.tail()}")
        try:
            _reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service.name} did not start within {timeout_s:.0f} s") from None
            await asyncio.sleep(0.2)
            continue
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()
        return


@dataclass
class Rig:
    portal: Service
    providers: list[tuple[ProviderState, Service]]

    @property
    def services(self) -> list[Service]:
        return [self.portal, *(service for _state, service in self.providers)]


@asynccontextmanager
async def rig(state: SetupState, latency_ms: float, logs: Path) -> AsyncIterator[Rig]:
    """The portal and the providers in processes of their own, as they were set up (same ports, settings, keys)."""
    busy = [port for port in (state.portal_port, *(p.port for p in state.providers)) if not _port_free(port)]
    if busy:
        raise RuntimeError(f"ports {busy} are in use: stop what holds them, or set up anew (without --reuse)")
    started: list[Service] = []
    try:
        portal = await _spawn(
            "portal",
            ["serve", "portal", "--host", HOST, "--port", str(state.portal_port)],
            _environment("OPENMYDATA_PORTAL_", state.portal_env),
            logs / "portal.log",
        )
        started.append(portal)
        await _wait_listening(portal, state.portal_port)
        extra = {"OPENMYDATA_PROVIDER_FAULT_LATENCY_MS": str(latency_ms)} if latency_ms > 0 else {}
        providers = []
        for provider in state.providers:
            service = await _spawn(
                f"provider-{provider.sector}",
                ["serve", "provider", "--host", HOST, "--port", str(provider.port), "--log-level", "warning"],
                _environment("OPENMYDATA_PROVIDER_", provider.env, extra),
                logs / f"provider-{provider.sector}.log",
            )
            started.append(service)
            providers.append((provider, service))
        for provider, service in providers:
            await _wait_listening(service, provider.port)
        yield Rig(portal, providers)
    finally:
        await asyncio.gather(*(service.stop(30) for service in reversed(started)))


# -- one run ---------------------------------------------------------------------------------------------------------


async def reset(state: SetupState) -> None:
    """Harness bookkeeping, not the operator's or the providers' behaviour: bring every participant back to the
    state right after the setup, so that every run does the same work. At the operator, what collection left
    (records, assets, sync marks — scheduled_at, fetched_to, search_timestamp — collection status) and the job table;
    at the providers, the scheduled-transmission counts (`scheduled_transmissions`, else 42901: one per week).
    Clearing only `sync_marks.scheduled_at` would let later runs, which start again with the lowest consent ids,
    ask shorter ranges (from `fetched_to`) and be answered 00001 (`search_timestamp`): cheaper calls than the
    first run's."""
    await _execute(
        state.operator_database, "TRUNCATE records, assets, sync_marks, collection_status, jobs RESTART IDENTITY"
    )
    for provider in state.providers:
        await _execute(provider.database, "TRUNCATE scheduled_transmissions")


async def _jobs_started(runtime: OperatorRuntime) -> int:
    async with runtime.db.sessions() as session:
        return int((await session.execute(select(func.count()).where(jobs.c.state != PENDING))).scalar_one())


async def _jobs_pending(runtime: OperatorRuntime) -> int:
    async with runtime.db.sessions() as session:
        return int((await session.execute(select(func.count()).where(jobs.c.state == PENDING))).scalar_one())


async def _jobs_finished(runtime: OperatorRuntime) -> int:
    async with runtime.db.sessions() as session:
        finished = jobs.c.state.in_([DONE, FAILED])
        return int((await session.execute(select(func.count()).where(finished))).scalar_one())


def _check_alive(workers: Sequence[Service], rig_services: Sequence[Service]) -> None:
    for service in (*workers, *rig_services):
        if service.process.returncode is not None:
            raise RuntimeError(f"{service.name} exited ({service.process.returncode}):\n{service.tail()}")


async def _start_workers(
    state: SetupState, config: str, queue: str, args: argparse.Namespace, logs: Path, run: int
) -> list[Service]:
    threads = args.workers_threads
    settings_env = settings_environment(state.operator_settings())
    extra = {
        "OPENMYDATA_OPERATOR_JOBS_BACKEND": "embedded" if config == "embedded" else "dramatiq",
        "OPENMYDATA_OPERATOR_JOBS_BROKER_URL": RABBITMQ_URL,
        "OPENMYDATA_OPERATOR_JOBS_QUEUE": queue,
        "OPENMYDATA_OPERATOR_JOBS_CONCURRENCY": str(threads),
        "OPENMYDATA_OPERATOR_PROVIDER_RATE_PER_S": str(RATE_PER_S),
        "OPENMYDATA_OPERATOR_PROVIDER_BURST": str(BURST),
        "OPENMYDATA_OPERATOR_RATE_LIMIT_REDIS_URL": "",
        "OPENMYDATA_OPERATOR_SCHEDULED_PERIOD_MONTHS": str(args.scheduled_period_months),
    }
    env = _environment("OPENMYDATA_OPERATOR_", settings_env, extra)
    return [
        await _spawn(
            f"worker-{config}-{index + 1}",
            ["operator", "worker", "--threads", str(threads)],
            env,
            logs / f"run{run:02d}-{config}-worker{index + 1}.log",
        )
        for index in range(WORKERS[config])
    ]


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process (the server is shared: other sessions' work is in it too)."""
    found: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm", encoding="ascii") as handle:
                if handle.read().strip() not in {"postgres", "postmaster"}:
                    continue
        except OSError:
            continue
        found[int(entry)] = process_cpu_seconds(int(entry))
    return found


@dataclass
class CpuSnapshot:
    processes: dict[str, float]
    postgres: dict[int, float]
    machine: tuple[int, int]

    @classmethod
    def take(cls, services: Iterable[Service]) -> CpuSnapshot:
        return cls({s.name: s.cpu_seconds() for s in services}, _postgres_cpu(), machine_cpu_ticks())

    def since(self, earlier: CpuSnapshot) -> dict[str, Any]:
        processes = {name: round(value - earlier.processes.get(name, 0.0), 2) for name, value in self.processes.items()}
        postgres = sum(value - earlier.postgres.get(pid, 0.0) for pid, value in self.postgres.items())
        busy = (self.machine[0] - earlier.machine[0]) / max(self.machine[1] - earlier.machine[1], 1)
        return {"processes": processes, "postgres_s": round(postgres, 2), "machine_busy": round(busy, 3)}


async def _provider_calls(state: SetupState, start: datetime, end: datetime) -> tuple[Counter[str], list[int]]:
    """rsp_code counts and rsp_ms of the scheduled information API calls the providers answered in [start, end),
    from their own access records."""
    codes: Counter[str] = Counter()
    latencies: list[int] = []
    for provider in state.providers:
        rows = await _execute(
            provider.database,
            "SELECT rsp_code, rsp_ms FROM access_records WHERE at >= $1 AND at < $2 AND api_type = 'scheduled'",
            start,
            end,
        )
        for row in rows:
            codes[f"{provider.sector}:{row['rsp_code']}"] += 1
            if row["rsp_ms"] is not None:
                latencies.append(int(row["rsp_ms"]))
    return codes, sorted(latencies)


async def _window_jobs(runtime: OperatorRuntime, start: datetime, end: datetime) -> dict[str, Any]:
    """Jobs that finished in [start, end): how many, how they ended, how long they ran."""
    statement = select(jobs.c.state, jobs.c.result, jobs.c.started_at, jobs.c.finished_at, jobs.c.attempts).where(
        jobs.c.finished_at >= start, jobs.c.finished_at < end
    )
    async with runtime.db.sessions() as session:
        rows = (await session.execute(statement)).all()
    outcomes: Counter[str] = Counter()
    durations: list[float] = []
    for row in rows:
        result = row.result if isinstance(row.result, dict) else {}
        outcomes[f"{row.state}:{result.get('state', '-')}"] += 1
        if row.started_at is not None and row.finished_at is not None:
            durations.append((row.finished_at - row.started_at).total_seconds() * 1000)
    durations.sort()
    return {
        "finished": len(rows),
        "done": sum(1 for row in rows if row.state == DONE),
        "failed": sum(1 for row in rows if row.state == FAILED),
        "outcomes": dict(sorted(outcomes.items())),
        "job_ms_p50": round(percentile(durations, 0.5), 1),
        "job_ms_p99": round(percentile(durations, 0.99), 1),
    }


async def _operator_calls(runtime: OperatorRuntime, start: datetime, end: datetime) -> Counter[str]:
    """The operator's own record of its information API calls in [start, end) (`api_calls`, 지원-004's source)."""
    statement = (
        select(ApiCall.rsp_code, ApiCall.status_code, func.count())
        .where(ApiCall.at >= start, ApiCall.at < end, ApiCall.api_type == "scheduled")
        .group_by(ApiCall.rsp_code, ApiCall.status_code)
    )
    async with runtime.db.sessions() as session:
        rows = (await session.execute(statement)).all()
    return Counter({f"{code or 'none'}/{status or '-'}": int(count) for code, status, count in rows})


async def _close_run(runtime: OperatorRuntime) -> dict[str, Any]:
    """After the workers stopped: the run's jobs by state (a job still `running` has no live worker: lost until its
    lease expires), how many ran more than once, and why jobs were retried (`last_error`: a job released at
    shutdown has none); then the pending ones are cancelled."""
    async with runtime.db.transaction() as session:
        counts = {
            str(state): int(number)
            for state, number in (await session.execute(select(jobs.c.state, func.count()).group_by(jobs.c.state)))
        }
        retried = (await session.execute(select(func.count()).where(jobs.c.attempts > 1))).scalar_one()
        reasons = {
            str(reason): int(number)
            for reason, number in await session.execute(
                select(jobs.c.last_error, func.count())
                .where(jobs.c.last_error.is_not(None))
                .group_by(jobs.c.last_error)
            )
        }
        await session.execute(update(jobs).where(jobs.c.state == PENDING).values(state=CANCELLED, finished_at=utcnow()))
    return {
        "done": counts.get(DONE, 0),
        "failed": counts.get(FAILED, 0),
        "lost": counts.get(RUNNING, 0),
        "pending_cancelled": counts.get(PENDING, 0),
        "ran_more_than_once": int(retried),
        "retry_reasons": dict(sorted(reasons.items())),
    }


def _log_warnings(logs: Iterable[Path]) -> dict[str, int]:
    """Warnings and errors in the workers' JSON logs, counted by event and error type."""
    found: Counter[str] = Counter()
    for path in logs:
        with suppress(OSError), path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.startswith("{"):
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and entry.get("level") in {"warning", "error", "critical"}:
                    error = entry.get("error")
                    found[f"{entry.get('event')}" + (f" ({error})" if error else "")] += 1
    return dict(found.most_common())


def _delete_queues(queue: str) -> int:
    """Delete the run's RabbitMQ queues (Dramatiq's queue, delay and dead-letter queues); returns the messages that
    were still in the main one."""
    import pika
    import pika.exceptions

    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    left = 0
    try:
        channel = connection.channel()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            try:
                declared = channel.queue_declare(queue=name, passive=True)
            except pika.exceptions.ChannelClosedByBroker:
                channel = connection.channel()  # not declared (never published to)
                continue
            if name == queue:
                left = int(declared.method.message_count)
            channel.queue_delete(queue=name)
    finally:
        connection.close()
    return left


async def _wait(
    seconds: float, label: str, runtime: OperatorRuntime, workers: Sequence[Service], the_rig: Rig, console: Console
) -> None:
    """Sleep `seconds` with a progress bar (jobs finished so far), checking every process is alive."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s · {task.fields[finished]:,} jobs finished"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=seconds, finished=0)
        end = time.monotonic() + seconds
        while (remaining := end - time.monotonic()) > 0:
            await asyncio.sleep(min(2.0, remaining))
            _check_alive(workers, the_rig.services)
            progress.update(
                task, completed=seconds - max(end - time.monotonic(), 0), finished=await _jobs_finished(runtime)
            )


async def one_run(
    index: int,
    config: str,
    state: SetupState,
    the_rig: Rig,
    runtime: OperatorRuntime,
    args: argparse.Namespace,
    logs: Path,
    stamp: str,
    console: Console,
) -> dict[str, Any]:
    await reset(state)
    step = time.perf_counter()
    with console.status(f"run {index}: enqueuing one scheduled collection per live consent"):
        enqueued = await enqueue_all(runtime.service, runtime.db, api_type="scheduled")
        await _execute(state.operator_database, "ANALYZE jobs")
    enqueue_s = time.perf_counter() - step
    queue = f"omd-bench-refresh-{stamp}-{index:02d}"
    # This process's idle connections back to PostgreSQL: the rig needs every connection the server allows.
    await runtime.db.engine.dispose()
    workers = await _start_workers(state, config, queue, args, logs, index)
    services = [*workers, *the_rig.services]
    messages_left: int | None = None
    try:
        launched = time.perf_counter()
        while await _jobs_started(runtime) == 0:
            _check_alive(workers, the_rig.services)
            if time.perf_counter() - launched > 180:
                raise RuntimeError(f"no job was claimed within 180 s:\n{workers[0].tail()}")
            await asyncio.sleep(0.2)
        claimed = time.perf_counter()
        first_claim_s = claimed - launched
        await _wait(args.warmup_s, f"run {index} {config}: warm-up", runtime, workers, the_rig, console)
        # Every worker starts `threads` jobs at once: until that first wave has finished, jobs finish in a burst
        # rather than at the steady rate, so the warm-up lasts at least that long too.
        wave = min(WORKERS[config] * args.workers_threads, enqueued)
        with console.status(f"run {index} {config}: warm-up, until the first {wave} jobs have finished"):
            while await _jobs_finished(runtime) < wave and time.perf_counter() - claimed < MAX_WARMUP_S:
                _check_alive(workers, the_rig.services)
                await asyncio.sleep(1.0)
        warmup_s = time.perf_counter() - claimed
        before, start = CpuSnapshot.take(services), utcnow()
        await _wait(args.window_s, f"run {index} {config}: measuring", runtime, workers, the_rig, console)
        after, end = CpuSnapshot.take(services), utcnow()
        pending_at_end = await _jobs_pending(runtime)
    finally:
        await asyncio.gather(*(worker.stop() for worker in workers))
        if config != "embedded":
            messages_left = await asyncio.to_thread(_delete_queues, queue)
    window_s = (end - start).total_seconds()
    codes, latencies = await _provider_calls(state, start, end)
    calls = sum(codes.values())
    ok_calls = sum(count for key, count in codes.items() if key.split(":", 1)[1] in OK_CODES)
    window_jobs = await _window_jobs(runtime, start, end)
    operator_calls = await _operator_calls(runtime, start, end)
    accounting = await _close_run(runtime)
    cpu = after.since(before)
    warnings = _log_warnings(worker.log for worker in workers)
    worker_cpu = sum(value for name, value in cpu["processes"].items() if name.startswith("worker-"))
    provider_cpu = sum(value for name, value in cpu["processes"].items() if name.startswith("provider-"))
    refusals: Counter[str] = Counter()
    by_institution: Counter[str] = Counter()
    for key, count in codes.items():
        sector, code = key.split(":", 1)
        by_institution[sector] += count
        if code not in OK_CODES:
            refusals[code] += count
    return {
        "run": index,
        "config": config,
        "workers": WORKERS[config],
        "threads": args.workers_threads,
        "enqueued": enqueued,
        "enqueue_s": round(enqueue_s, 1),
        "first_claim_s": round(first_claim_s, 1),
        "warmup_s": round(warmup_s, 1),
        "pending_at_end": pending_at_end,
        "window_s": round(window_s, 2),
        "calls": calls,
        "calls_per_s": round(calls / window_s, 1),
        "ok_calls_per_s": round(ok_calls / window_s, 1),
        "jobs_per_s": round(window_jobs["finished"] / window_s, 2),
        "provider_p50_ms": percentile(latencies, 0.5),
        "provider_p99_ms": percentile(latencies, 0.99),
        "calls_by_institution": dict(sorted(by_institution.items())),
        "provider_codes": dict(sorted(codes.items())),
        "refusals": dict(sorted(refusals.items())),
        "operator_calls": sum(operator_calls.values()),
        "operator_codes": dict(sorted(operator_calls.items())),
        "jobs": window_jobs,
        "run_jobs": accounting,
        "messages_left": messages_left,
        "worker_warnings": warnings,
        "worker_cpu_s": round(worker_cpu, 2),
        "provider_cpu_s": round(provider_cpu, 2),
        "worker_cpu_ms_per_call": round(worker_cpu * 1000 / calls, 2) if calls else None,
        "cpu": cpu,
    }


# -- report ----------------------------------------------------------------------------------------------------------


def _median(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return round(statistics.median(present), 2) if present else None


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return round(top / bottom, 3) if top is not None and bottom else None


def summarise(runs: Sequence[dict[str, Any]], configs: Sequence[str], consents: int) -> dict[str, Any]:
    medians: dict[str, dict[str, Any]] = {}
    for config in configs:
        mine = [run for run in runs if run["config"] == config]
        if not mine:
            continue
        row: dict[str, Any] = {"runs": len(mine)}
        for metric in (
            "calls_per_s",
            "ok_calls_per_s",
            "jobs_per_s",
            "provider_p50_ms",
            "provider_p99_ms",
            "worker_cpu_ms_per_call",
        ):
            row[metric] = _median([run[metric] for run in mine])
        row["failed"] = sum(run["run_jobs"]["failed"] for run in mine)
        row["lost"] = sum(run["run_jobs"]["lost"] for run in mine)
        row["refusals"] = sum(sum(run["refusals"].values()) for run in mine)
        row["machine_busy"] = _median([run["cpu"]["machine_busy"] for run in mine])
        jobs_per_s = row["jobs_per_s"]
        row["full_refresh_s"] = round(consents / jobs_per_s) if jobs_per_s else None
        medians[config] = row

    def calls(config: str) -> float | None:
        return medians.get(config, {}).get("calls_per_s")

    def per_round(top: str, bottom: str) -> list[float]:
        """The ratio within each round (a, b, c, …): consecutive runs, so machine drift affects both alike."""
        tops = [run["calls_per_s"] for run in runs if run["config"] == top]
        bottoms = [run["calls_per_s"] for run in runs if run["config"] == bottom]
        return [round(t / b, 3) for t, b in zip(tops, bottoms, strict=False) if b]

    return {
        "medians": medians,
        "scaling_2_over_1": _ratio(calls("distributed-2"), calls("distributed-1")),
        "distributed_1_over_embedded": _ratio(calls("distributed-1"), calls("embedded")),
        "scaling_2_over_1_per_round": per_round("distributed-2", "distributed-1"),
        "distributed_1_over_embedded_per_round": per_round("distributed-1", "embedded"),
    }


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return str(timedelta(seconds=round(seconds)))


def summary_table(summary: dict[str, Any], state: SetupState, args: argparse.Namespace) -> Table:
    table = Table(
        title=f"scheduled refresh — {state.consents:,} consents ({state.persons:,} people, 3 institutions); median of"
        f" {args.runs} runs, {args.window_s:g} s measured after {args.warmup_s:g} s warm-up, {args.workers_threads}"
        f" jobs at once per worker process" + (f", {args.latency_ms:g} ms provider latency" if args.latency_ms else "")
    )
    for column in (
        "configuration",
        "calls/s",
        "ok calls/s",
        "jobs/s",
        "provider p50",
        "provider p99",
        "worker CPU/call",
        "failed",
        "lost",
        "refused calls",
        "machine busy",
        "full refresh (extrapolated)",
    ):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for config, row in summary["medians"].items():
        table.add_row(
            config,
            f"{row['calls_per_s']:,.1f}",
            f"{row['ok_calls_per_s']:,.1f}",
            f"{row['jobs_per_s']:,.2f}",
            f"{row['provider_p50_ms']:,.0f} ms",
            f"{row['provider_p99_ms']:,.0f} ms",
            f"{row['worker_cpu_ms_per_call']:.2f} ms" if row["worker_cpu_ms_per_call"] is not None else "-",
            str(row["failed"]),
            str(row["lost"]),
            str(row["refusals"]),
            f"{row['machine_busy']:.0%}" if row["machine_busy"] is not None else "-",
            _duration(row["full_refresh_s"]),
        )
    return table


async def _versions() -> dict[str, Any]:
    rows = await _execute("postgres", "SELECT version() AS v, current_setting('max_connections') AS m")
    return {"postgresql": str(rows[0]["v"]), "postgresql_max_connections": int(rows[0]["m"])}


# -- main ------------------------------------------------------------------------------------------------------------


async def measure(state: SetupState, args: argparse.Namespace, console: Console, stamp: str) -> list[dict[str, Any]]:
    logs = RESULTS_DIR / f"refresh-{stamp}-logs"
    runs: list[dict[str, Any]] = []
    allowed = int((await _execute("postgres", "SHOW max_connections"))[0]["max_connections"])
    # Every participant's engine may open pool_size 10 + max_overflow 10 (kit.db): the providers and the workers.
    needed = DB_CONNECTIONS_PER_PROCESS * (len(state.providers) + max(WORKERS[config] for config in args.configs))
    if allowed < needed + 10:
        console.print(
            f"[yellow]note:[/yellow] PostgreSQL allows {allowed} connections; the providers and workers may open"
            f" {needed} (and the portal, this process and other users some more): under load some may be refused"
            " (TooManyConnectionsError in the worker warnings)"
        )
    async with rig(state, args.latency_ms, logs) as the_rig, OperatorRuntime(state.operator_settings()) as runtime:
        async with runtime.db.transaction() as session:
            await runtime.service.sync_registry(session, force=True)
        try:
            order = [config for _round in range(args.runs) for config in args.configs]
            for index, config in enumerate(order, start=1):
                run = await one_run(index, config, state, the_rig, runtime, args, logs, stamp, console)
                runs.append(run)
                console.print(
                    f"  run {index}/{len(order)} {config:14} {run['calls_per_s']:8.1f} calls/s"
                    f"  {run['jobs_per_s']:7.2f} jobs/s  provider p50 {run['provider_p50_ms']:5.0f} ms"
                    f"  p99 {run['provider_p99_ms']:6.0f} ms  failed {run['run_jobs']['failed']}"
                    f"  lost {run['run_jobs']['lost']}  refused {sum(run['refusals'].values())}"
                    f"  worker CPU {run['worker_cpu_s']:5.1f} s  machine busy {run['cpu']['machine_busy']:.0%}"
                )
                console.print(f"    calls by institution: {run['calls_by_institution']}")
                if run["worker_warnings"]:
                    console.print(f"    worker warnings: {run['worker_warnings']}")
                if run["refusals"]:
                    console.print(f"    refusals: {run['refusals']}")
                if run["pending_at_end"] == 0:
                    console.print("    [yellow]the queue ran dry inside the window: use more --consents[/yellow]")
        finally:
            await reset(state)  # nothing stays queued; a kept setup is as right after the setup
    return runs


async def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    if args.drop:
        dropped = await drop_bench_databases()
        shutil.rmtree(DATA_DIR, ignore_errors=True)
        console.print(f"dropped {len(dropped)} databases and {DATA_DIR.relative_to(ROOT)}")
        return {"benchmark": "refresh", "dropped": dropped}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    machine = Machine.current()
    state: SetupState | None = None
    reused = False
    if args.setup_only:
        args.reuse = True  # what is set up is kept for a later --reuse
    if args.reuse:
        state, why = await reusable(args.consents, args.seed, args.signatures)
        if state is not None:
            reused = True
            console.print(
                f"[green]reusing[/green] the setup of {state.as_of}: {state.consents:,} consents of {state.persons:,}"
                f" people ({', '.join(f'{s} {n:,}' for s, n in state.consents_by_sector.items())})"
            )
            if state.as_of != today_kst().isoformat():
                console.print(
                    f"[yellow]note:[/yellow] the sandbox data ends on {state.as_of}; the scheduled ranges end today,"
                    " so they hold fewer records than on the day of the setup"
                )
        else:
            console.print(f"not reusing: {why}; setting up")
    try:
        if state is None:
            state = await setup(args, console)
            console.print(
                f"set up in {state.timings_s['total_s']:,.0f} s: ecosystem (certificates, imports)"
                f" {state.timings_s['ecosystem_s']:,.0f} s, consents {state.timings_s['consents_s']:,.0f} s"
                f" ({state.consents / max(state.timings_s['consents_s'], 1e-9):,.1f}/s), VACUUM ANALYZE"
                f" {state.timings_s['vacuum_s']:,.0f} s; {state.persons:,} people connected"
                f" ({', '.join(f'{s} {n:,}' for s, n in state.consents_by_sector.items())})"
            )
        if args.setup_only:
            return {"benchmark": "refresh", "setup_only": True, "consents": state.consents, **state.timings_s}
        runs = await measure(state, args, console, stamp)
    finally:
        if not args.reuse:
            await drop_bench_databases()
            shutil.rmtree(DATA_DIR, ignore_errors=True)
    summary = summarise(runs, args.configs, state.consents)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"refresh-{stamp}.json"
    result = {
        "benchmark": "refresh",
        "timestamp": stamp,
        "machine": {**asdict(machine), **(await _versions())},
        "settings": {
            name: getattr(args, name)
            for name in (
                "consents",
                "seed",
                "signatures",
                "window_s",
                "warmup_s",
                "runs",
                "latency_ms",
                "reuse",
                "workers_threads",
                "scheduled_period_months",
            )
        }
        | {
            "configs": list(args.configs),
            "operator_rate_per_s": RATE_PER_S,
            "operator_burst": BURST,
            "collection_concurrency": state.operator_settings().collection_concurrency,
        },
        "setup": {
            "reused": reused,
            "as_of": state.as_of,
            "people_seeded": state.people,
            "people_connected": state.persons,
            "consents": state.consents,
            "consents_by_sector": state.consents_by_sector,
            "customers_by_sector": state.customers_by_sector,
            "timings_s": state.timings_s,
        },
        "summary": summary,
        "runs": runs,
    }
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(summary_table(summary, state, args))
    console.print(
        f"scaling (distributed, 2 workers ÷ 1, calls/s): {summary['scaling_2_over_1']}"
        f" (per round {summary['scaling_2_over_1_per_round']}); distributed-1 ÷ embedded:"
        f" {summary['distributed_1_over_embedded']} (per round {summary['distributed_1_over_embedded_per_round']})"
    )
    console.print(f"results: {out.relative_to(ROOT)}")
    return {
        "benchmark": "refresh",
        "consents": state.consents,
        "medians": summary["medians"],
        "scaling_2_over_1": summary["scaling_2_over_1"],
        "distributed_1_over_embedded": summary["distributed_1_over_embedded"],
        "setup_s": state.timings_s.get("total_s") if not reused else None,
        "results": str(out.relative_to(ROOT)),
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.refresh",
        description="Scheduled refresh throughput: embedded vs distributed backend, 1 and 2 worker processes.",
    )
    parser.add_argument(
        "--consents", type=int, default=100_000, help="consents refreshed (one per person and institution)"
    )
    parser.add_argument("--window-s", type=float, default=60.0, help="measured seconds per run")
    parser.add_argument(
        "--warmup-s", type=float, default=10.0, help="warm-up seconds per run, from the first job claimed"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration (alternating)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic population")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency every provider adds to each call")
    parser.add_argument("--reuse", action="store_true", help="keep the setup (and use a kept one that matches)")
    parser.add_argument("--drop", action="store_true", help="drop a kept setup (databases and files) and exit")
    parser.add_argument(
        "--setup-only", action="store_true", help="set up (or check a kept setup), keep it, measure nothing"
    )
    parser.add_argument("--workers-threads", type=int, default=64, help="jobs at once per worker process")
    parser.add_argument(
        "--scheduled-period-months",
        type=int,
        choices=(1, 2, 3),
        default=2,
        help="the operator's scheduled_period_months (the shipped default, 2: this month's and last month's bills)",
    )
    parser.add_argument(
        "--signatures",
        choices=SIGNATURES,
        default="local",
        help="setup: consents signed with a benchmark CA and verified by the providers (local), or through certauth",
    )
    parser.add_argument("--setup-concurrency", type=int, default=8, help="people connected at once during the setup")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, from {', '.join(CONFIGS)}")
    args = parser.parse_args(argv)
    args.configs = [config.strip() for config in args.configs.split(",") if config.strip()]
    if (
        any(config not in CONFIGS for config in args.configs)
        or not args.configs
        or args.consents < 1
        or args.runs < 1
        or args.window_s <= 0
        or args.warmup_s < 0
        or args.workers_threads < 1
        or args.setup_concurrency < 1
    ):
        parser.error(f"bad arguments (configurations are {', '.join(CONFIGS)})")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    # The participants this process runs during the setup (certauth, the portal, the operator's service) log
    # warnings only, to stderr: stdout ends with the JSON summary.
    log.configure(json=False, level=logging.WARNING)
    console = Console(stderr=True)
    if not console.is_terminal:
        console = Console(stderr=True, width=160)
    summary = asyncio.run(run(args, console))
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
