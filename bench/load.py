"""Load N people's bank data into a fresh PostgreSQL database through the provider's own import path.

The provider's Alembic migrations run first; then `jobs` processes (default 2, one per core) each take every
`jobs`-th chunk of people, generate their bank customers with the sandbox (`openmydata.sandbox`) and feed them to
`openmydata.provider.importer.import_customers` (one transaction per 1000 customers). The progress bar advances
as people are handed to the importer. Afterwards `VACUUM ANALYZE`, and the load is described in the database's
comment so that `--reuse` can recognise a complete load.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import queue
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench.common import PROVIDER_ORG, pg_dsn, sqlalchemy_url
from openmydata.kit.db import Database
from openmydata.provider.app import MIGRATIONS
from openmydata.provider.importer import import_customers
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import make_person
from openmydata.standard.dataset import CustomerData

CHUNK_PEOPLE = 200
MARKER = "openmydata-bench-provider"


@dataclass(frozen=True)
class LoadInfo:
    people: int
    seed: int
    as_of: str
    customers: int
    records: int
    load_s: float | None  # None when --reuse skipped loading
    generated_records: int | None = None
    db_size_bytes: int | None = None


def _generate_chunk(start: int, stop: int, seed: int, as_of: date) -> list[CustomerData]:
    """The bank customers among people [start, stop)."""
    people = [make_person(index, seed, as_of) for index in range(start, stop)]
    return list(generate_customers(people, sector="bank", org_code=PROVIDER_ORG, seed=seed, as_of=as_of))


def _import_job(database: str, job: int, jobs: int, people: int, seed: int, as_of_text: str, events: Any) -> None:
    """One import process: every `jobs`-th chunk of people from chunk `job`, generated here and imported with
    `import_customers`; reports (people, customers, records) per chunk on `events`, then ("done", imported)."""
    as_of = date.fromisoformat(as_of_text)

    def customers() -> Iterator[CustomerData]:
        for start in range(job * CHUNK_PEOPLE, people, jobs * CHUNK_PEOPLE):
            stop = min(start + CHUNK_PEOPLE, people)
            batch = _generate_chunk(start, stop, seed, as_of)
            yield from batch
            events.put(("chunk", stop - start, len(batch), sum(len(c.records) for c in batch)))

    async def run() -> int:
        db = Database(sqlalchemy_url(database))
        try:
            return await import_customers(db, customers())
        finally:
            await db.dispose()

    try:
        events.put(("done", asyncio.run(run())))
    except BaseException as exc:
        events.put(("error", f"{type(exc).__name__}: {exc}"))
        raise


async def _admin(sql: str, *args: Any) -> Any:
    connection = await asyncpg.connect(pg_dsn("postgres"))
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def read_marker(database: str) -> dict[str, Any] | None:
    """The load description stored as the database's comment, or None (no database, or an unfinished load)."""
    rows = await _admin(
        "SELECT shobj_description(oid, 'pg_database') AS note FROM pg_database WHERE datname = $1", database
    )
    if not rows or not rows[0]["note"]:
        return None
    try:
        note = json.loads(rows[0]["note"])
    except ValueError:
        return None
    return note if isinstance(note, dict) and note.get("marker") == MARKER else None


async def count_rows(database: str) -> tuple[int, int, int]:
    connection = await asyncpg.connect(pg_dsn(database))
    try:
        customers = await connection.fetchval("SELECT count(*) FROM customers")
        records = await connection.fetchval("SELECT count(*) FROM records")
        size = await connection.fetchval("SELECT pg_database_size(current_database())")
    finally:
        await connection.close()
    return int(customers), int(records), int(size)


async def recreate_database(database: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{database}"')


async def _write_marker(database: str, info: LoadInfo) -> None:
    note = json.dumps({"marker": MARKER, **asdict(info)}).replace("'", "''")
    await _admin(f"COMMENT ON DATABASE \"{database}\" IS '{note}'")


async def _migrate(database: str) -> None:
    db = Database(sqlalchemy_url(database))
    try:
        await db.upgrade(MIGRATIONS)
    finally:
        await db.dispose()


def _import_all(database: str, people: int, seed: int, as_of: date, jobs: int, console: Console) -> tuple[int, int]:
    """Run the import jobs with a progress bar; returns (customers imported, records generated)."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    processes = [
        context.Process(
            target=_import_job, args=(database, job, jobs, people, seed, as_of.isoformat(), events), daemon=True
        )
        for job in range(jobs)
    ]
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("people · {task.fields[customers]:,} customers · {task.fields[records]:,} rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    imported = records = customers = 0
    try:
        for process in processes:
            process.start()
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"importing ({jobs} jobs)", total=people, customers=0, records=0)
            finished = 0
            while finished < jobs:
                try:
                    event = events.get(timeout=1.0)
                except queue.Empty:
                    if any(process.exitcode not in (None, 0) for process in processes):
                        raise RuntimeError("an import job died") from None
                    continue
                if event[0] == "chunk":
                    customers += event[2]
                    records += event[3]
                    progress.update(task, advance=event[1], customers=customers, records=records)
                elif event[0] == "done":
                    imported += event[1]
                    finished += 1
                else:
                    raise RuntimeError(f"an import job failed: {event[1]}")
    finally:
        for process in processes:
            if process.is_alive() and process.exitcode is None:
                process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join()
    return imported, records


async def load(database: str, people: int, seed: int, as_of: date, *, jobs: int, console: Console) -> LoadInfo:
    """Drop and create the database, migrate it, import the people's bank customers; returns what was loaded."""
    await recreate_database(database)
    started = time.perf_counter()
    await _migrate(database)
    imported, generated_records = await asyncio.to_thread(_import_all, database, people, seed, as_of, jobs, console)
    elapsed = time.perf_counter() - started
    connection = await asyncpg.connect(pg_dsn(database))
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    stored_customers, stored_records, size = await count_rows(database)
    if stored_customers != imported:
        raise RuntimeError(f"imported {imported} customers but the database holds {stored_customers}")
    info = LoadInfo(
        people=people,
        seed=seed,
        as_of=as_of.isoformat(),
        customers=stored_customers,
        records=stored_records,
        load_s=round(elapsed, 1),
        generated_records=generated_records,
        db_size_bytes=size,
    )
    await _write_marker(database, info)
    return info


async def reusable(database: str, people: int, seed: int) -> LoadInfo | None:
    """The existing load when it was a complete load of the same people (same N and seed)."""
    note = await read_marker(database)
    if note is None or note.get("people") != people or note.get("seed") != seed:
        return None
    customers, records, size = await count_rows(database)
    if customers != note.get("customers"):
        return None
    return LoadInfo(
        people=people,
        seed=seed,
        as_of=str(note.get("as_of")),
        customers=customers,
        records=records,
        load_s=None,
        generated_records=note.get("generated_records"),
        db_size_bytes=size,
    )


def run_load(database: str, people: int, seed: int, as_of: date, *, jobs: int, console: Console) -> LoadInfo:
    return asyncio.run(load(database, people, seed, as_of, jobs=jobs, console=console))
