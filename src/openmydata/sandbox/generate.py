"""Write a sandbox dataset: the people, and one import file per institution.

Layout of `out_dir`:
- `people.jsonl`: one `Person` a line (identity and latent variables, so scores can be checked against truth);
- `<org_code>.jsonl`: the institution's customers in the interchange format (`standard.dataset.dump_lines`),
  which `openmydata provider import` reads;
- `manifest.json`: seed, as_of and per-institution counts.

Same (people_count, seed, as_of, institutions) → byte-identical files.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openmydata.sandbox.institutions import SECTORS, SectorName, customer_lines
from openmydata.sandbox.population import Person, make_person, seeded_faker

if TYPE_CHECKING:
    from rich.progress import Progress

ProgressCallback = Callable[[str, int, int], None]
"""Called as (task description, completed, total) while people and institutions are generated."""

PEOPLE_FILE = "people.jsonl"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class InstitutionSummary:
    sector: str
    org_code: str
    file: str
    customers: int
    records: int


@dataclass(frozen=True)
class DatasetSummary:
    people: int
    seed: int
    as_of: str
    institutions: list[InstitutionSummary]


def rich_progress(progress: Progress) -> ProgressCallback:
    """Adapt a running `rich.progress.Progress` to the callback (one task per description)."""
    tasks: dict[str, Any] = {}

    def update(description: str, completed: int, total: int) -> None:
        if description not in tasks:
            tasks[description] = progress.add_task(description, total=total)
        progress.update(tasks[description], completed=completed, total=total)

    return update


def person_line(person: Person) -> str:
    return json.dumps(dataclasses.asdict(person), ensure_ascii=False) + "\n"


def load_people(path: Path) -> list[Person]:
    """Read `people.jsonl` back."""
    with path.open(encoding="utf-8") as handle:
        return [Person(**json.loads(line)) for line in handle if line.strip()]


def people_for_certauth(people: Iterable[Person]) -> dict[str, list[dict[str, str]]]:
    """The body of certauth's `POST /admin/persons`: {persons: [{ci, name, birth_date, phone, pin}]}."""
    return {
        "persons": [
            {"ci": p.ci, "name": p.name, "birth_date": p.birth_date, "phone": p.phone, "pin": p.pin} for p in people
        ]
    }


CHUNK = 200

Job = tuple[list[Person], SectorName, str, int, date]


def _institution_chunk(job: Job) -> tuple[bytes, int, int]:
    """One chunk of people's customer lines for one institution, UTF-8 (runs in a worker process)."""
    chunk, sector, org_code, seed, as_of = job
    lines: list[bytes] = []
    records = 0
    for line, count in customer_lines(chunk, sector=sector, org_code=org_code, seed=seed, as_of=as_of):
        lines.append(line)
        records += count
    return b"".join(lines), len(lines), records


def _warm_up() -> None:
    """Make a fresh worker ready (its imports are done by now) while the main process generates the people:
    load the Faker locale the bank generator uses (every use re-seeds it, so this draws nothing that counts)."""
    seeded_faker(0, "warm-up")


@contextmanager
def _pool(workers: int | None, jobs: int) -> Iterator[ProcessPoolExecutor | None]:
    """A process pool for more than one worker and job; None means generate in this process."""
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or jobs <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("spawn"))
    try:
        for _ in range(count):  # start every worker now
            pool.submit(_warm_up)
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def write_dataset(
    out_dir: Path,
    people_count: int,
    seed: int,
    as_of: date,
    institutions: Sequence[tuple[SectorName, str]],
    progress: ProgressCallback | None = None,
    workers: int | None = None,
) -> DatasetSummary:
    """Generate `people_count` people and each institution's customers into `out_dir`, on `workers` processes
    (default: one per core). Every person's data depends only on (seed, index, as_of), and chunks are written in
    order, so the files are byte-identical whatever the number of workers.

    The people come in chunks of `CHUNK`; a chunk's institution jobs go to the pool as soon as its people
    exist, and every result is written to its institution's file in chunk order."""
    org_codes = [org_code for _, org_code in institutions]
    if len(set(org_codes)) != len(org_codes):
        raise ValueError("each institution needs its own org_code")
    for sector, org_code in institutions:
        if sector not in SECTORS:
            raise ValueError(f"unknown sector {sector!r}; the sandbox generates {', '.join(SECTORS)}")
        if not org_code.isalnum() or len(org_code) != 10:
            raise ValueError(f"org_code {org_code!r} is not 10 alphanumeric characters")
    if people_count < 0:
        raise ValueError("count must not be negative")
    report = progress or (lambda description, completed, total: None)
    out_dir.mkdir(parents=True, exist_ok=True)

    descriptions = [f"{sector} {org_code}" for sector, org_code in institutions]
    customers = [0] * len(institutions)
    records = [0] * len(institutions)
    done = [0] * len(institutions)
    chunk_count = -(-people_count // CHUNK)
    with (
        _pool(workers, chunk_count * len(institutions)) as pool,
        ExitStack() as files,
    ):
        people_file = files.enter_context((out_dir / PEOPLE_FILE).open("w", encoding="utf-8", newline="\n"))
        outputs = [files.enter_context((out_dir / f"{org_code}.jsonl").open("wb")) for org_code in org_codes]
        # (institution, people in the chunk, result): futures on a pool, else generated when written
        pending: deque[tuple[int, int, Future[tuple[bytes, int, int]] | Job]] = deque()

        def write(item: tuple[int, int, Future[tuple[bytes, int, int]] | Job]) -> None:
            number, size, result = item
            text, chunk_customers, chunk_records = (
                result.result() if isinstance(result, Future) else _institution_chunk(result)
            )
            outputs[number].write(text)
            customers[number] += chunk_customers
            records[number] += chunk_records
            done[number] += size
            report(descriptions[number], done[number], people_count)

        for start in range(0, people_count, CHUNK):
            chunk = [make_person(index, seed, as_of) for index in range(start, min(start + CHUNK, people_count))]
            for person in chunk:
                people_file.write(person_line(person))
            report("people", start + len(chunk), people_count)
            for number, (sector, org_code) in enumerate(institutions):
                job: Job = (chunk, sector, org_code, seed, as_of)
                pending.append((number, len(chunk), pool.submit(_institution_chunk, job) if pool else job))
            while pending and (pool is None or _finished(pending[0][2])):
                write(pending.popleft())
        report("people", people_count, people_count)
        while pending:
            write(pending.popleft())
    for description in descriptions:
        report(description, people_count, people_count)

    summaries = [
        InstitutionSummary(sector, org_code, f"{org_code}.jsonl", customers[number], records[number])
        for number, (sector, org_code) in enumerate(institutions)
    ]
    summary = DatasetSummary(people_count, seed, as_of.isoformat(), summaries)
    (out_dir / MANIFEST_FILE).write_text(
        json.dumps(dataclasses.asdict(summary), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return summary


def _finished(result: object) -> bool:
    return isinstance(result, Future) and result.done()


__all__ = [
    "DatasetSummary",
    "InstitutionSummary",
    "ProgressCallback",
    "load_people",
    "people_for_certauth",
    "rich_progress",
    "write_dataset",
]
