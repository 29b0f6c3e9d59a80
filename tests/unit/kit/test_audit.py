"""The hash-chained audit log finds altered, removed, reordered and truncated entries; concurrent appends keep
one chain. Runs on both dialects. kit has no migrations of its own, so this unit test builds its two generic
tables directly; participants create them through their migrations."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import MetaData, delete, update

from openmydata.kit.audit import AuditChain, audit_tables
from openmydata.kit.db import Database


async def _chain(db_url: str) -> tuple[Database, AuditChain]:
    metadata = MetaData()
    log, head = audit_tables(metadata)
    db = Database(db_url)
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return db, AuditChain(log, head)


async def _append(db: Database, chain: AuditChain, count: int) -> None:
    for index in range(count):
        async with db.transaction() as session:
            await chain.append(session, "info_api", {"api_id": "은행-004", "n": index, "org": "M1AAAA0000"})


async def _verify(db: Database, chain: AuditChain) -> Any:
    async with db.engine.connect() as connection:
        return await connection.run_sync(chain.verify)


class TestAuditChain:
    async def test_an_untouched_chain_verifies(self, db_url: str) -> None:
        db, chain = await _chain(db_url)
        try:
            assert (await _verify(db, chain)).ok
            await _append(db, chain, 5)
            result = await _verify(db, chain)
            assert (result.ok, result.entries) == (True, 5)
        finally:
            await db.dispose()

    async def test_altered_removed_reordered_and_truncated_entries_are_found(self, db_url: str) -> None:
        db, chain = await _chain(db_url)
        try:
            await _append(db, chain, 6)
            async with db.transaction() as session:
                await session.execute(update(chain.log).where(chain.log.c.seq == 3).values(event={"api_id": "x"}))
            altered = await _verify(db, chain)
            assert (altered.ok, altered.seq) == (False, 3)
            assert "altered" in (altered.problem or "")
        finally:
            await db.dispose()

    async def test_a_removed_entry_is_found(self, db_url: str) -> None:
        db, chain = await _chain(db_url)
        try:
            await _append(db, chain, 6)
            async with db.transaction() as session:
                await session.execute(delete(chain.log).where(chain.log.c.seq == 4))
            result = await _verify(db, chain)
            assert (result.ok, result.seq) == (False, 5)
        finally:
            await db.dispose()

    async def test_reordered_entries_are_found(self, db_url: str) -> None:
        db, chain = await _chain(db_url)
        try:
            await _append(db, chain, 6)
            async with db.transaction() as session:
                await session.execute(update(chain.log).where(chain.log.c.seq == 2).values(seq=100))
                await session.execute(update(chain.log).where(chain.log.c.seq == 3).values(seq=2))
                await session.execute(update(chain.log).where(chain.log.c.seq == 100).values(seq=3))
            result = await _verify(db, chain)
            assert (result.ok, result.seq) == (False, 2)
        finally:
            await db.dispose()

    async def test_a_truncated_tail_is_found(self, db_url: str) -> None:
        db, chain = await _chain(db_url)
        try:
            await _append(db, chain, 6)
            async with db.transaction() as session:
                await session.execute(delete(chain.log).where(chain.log.c.seq >= 5))
            result = await _verify(db, chain)
            assert not result.ok
            assert "removed" in (result.problem or "")
        finally:
            await db.dispose()

    async def test_concurrent_appends_keep_one_chain(self, db_url: str) -> None:
        db, chain = await _chain(db_url)
        try:
            await _append(db, chain, 1)

            async def one(index: int) -> None:
                async with db.transaction() as session:
                    await chain.append(session, "consent", {"n": index})
                    await asyncio.sleep(0)

            await asyncio.gather(*(one(index) for index in range(12)))
            result = await _verify(db, chain)
            assert (result.ok, result.entries) == (True, 13)
        finally:
            await db.dispose()

    async def test_a_rolled_back_append_leaves_no_trace(self, db_url: str) -> None:
        db, chain = await _chain(db_url)
        try:
            await _append(db, chain, 2)
            try:
                async with db.transaction() as session:
                    await chain.append(session, "consent", {"n": "lost"})
                    raise RuntimeError("business change failed")
            except RuntimeError:
                pass
            await _append(db, chain, 1)
            result = await _verify(db, chain)
            assert (result.ok, result.entries) == (True, 3)
        finally:
            await db.dispose()
