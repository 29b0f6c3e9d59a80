"""Integration fixtures: one database per participant on the dialect under test.

`participant_databases` is module-scoped and parametrised over SQLite and PostgreSQL. For SQLite it yields None
(the ecosystem's default: one file per participant under its data directory); for PostgreSQL it yields the
`database_url(name)` callback `start_ecosystem` asks once per participant, creating a fresh database each time
and dropping them all when the module is done. Without a PostgreSQL server the PostgreSQL variants are skipped
with a message, or fail under OPENMYDATA_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import pytest

from tests.conftest import PG_HOST, PG_PORT, drop_pg_database, make_pg_database, require_service

T = TypeVar("T")


def off_loop(call: Callable[[], T]) -> T:
    """Run a blocking helper that uses `asyncio.run` in a thread of its own.

    The helpers are called while the module's event loop runs (the ecosystem asks for a URL during start-up),
    and `asyncio.run` must neither nest in nor replace that loop.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def participant_databases(request: pytest.FixtureRequest) -> Iterator[Callable[[str], str] | None]:
    if request.param == "sqlite":
        yield None
        return
    require_service("PostgreSQL", PG_HOST, PG_PORT)
    created: list[str] = []

    def database_url(participant: str) -> str:
        url, name = off_loop(make_pg_database)
        created.append(name)
        return url

    try:
        yield database_url
    finally:
        for name in created:
            off_loop(partial(drop_pg_database, name))
