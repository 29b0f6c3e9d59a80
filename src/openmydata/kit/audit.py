"""A tamper-evident audit log: an append-only hash chain in the participant's own database.

Every entry stores the hash of the entry before it; its own hash covers its sequence number, time, the previous
hash and the canonical JSON of the event. A one-row head table holds the last sequence number and hash and is
locked while appending (`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises writers), so concurrent appends
cannot fork the chain. `verify` recomputes the chain and finds any altered, removed, inserted or reordered entry,
and a truncated tail (the head no longer matches the last entry).

What it cannot show on its own: an attacker who rewrites the whole chain *and* the head consistently. Anchoring
the head hash outside the database (a daily statistics report, a printed digest) closes that gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, MetaData, String, Table, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from openmydata.kit.clock import as_utc, utcnow

GENESIS = "0" * 64
HEAD_ID = 1
GENESIS_HEAD = {"id": HEAD_ID, "seq": 0, "hash": GENESIS}


def audit_tables(metadata: MetaData) -> tuple[Table, Table]:
    """The `audit_log` and `audit_head` tables, added to a participant's metadata (and its migrations)."""
    log = Table(
        "audit_log",
        metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("kind", String(40), nullable=False, index=True),
        Column("event", JSON, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
    )
    head = Table(
        "audit_head",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
        Column("hash", String(64), nullable=False),
    )
    return log, head


def canonical(event: Mapping[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(seq: int, at: datetime, kind: str, event: Mapping[str, Any], prev_hash: str) -> str:
    material = "|".join((str(seq), as_utc(at).isoformat(), kind, canonical(event), prev_hash))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    kind: str
    event: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    problem: str | None = None
    seq: int | None = None


class AuditChain:
    """Appends to and verifies one participant's chain."""

    def __init__(self, log: Table, head: Table):
        self.log = log
        self.head = head
        self._take = (
            update(head).where(head.c.id == HEAD_ID).values(seq=head.c.seq + 1).returning(head.c.seq, head.c.hash)
        )

    async def append(
        self, session: AsyncSession, kind: str, event: Mapping[str, Any], *, at: datetime | None = None
    ) -> AuditEntry:
        """Append in the caller's transaction (it commits or rolls back with the business change it records)."""
        moment = as_utc(at) if at else utcnow()
        # Lock the head and read it in one statement (UPDATE … RETURNING takes the row lock on PostgreSQL and the
        # write lock on SQLite); a chain without a head starts at the genesis.
        row = (await session.execute(self._take)).first()
        if row is None:
            await session.execute(self.head.insert().values(**GENESIS_HEAD))
            row = (await session.execute(self._take)).one()
        seq, prev = int(row.seq), str(row.hash)
        payload = json.loads(canonical(event))
        digest = entry_hash(seq, moment, kind, payload, prev)
        await session.execute(
            self.log.insert().values(seq=seq, at=moment, kind=kind, event=payload, prev_hash=prev, hash=digest)
        )
        await session.execute(update(self.head).where(self.head.c.id == HEAD_ID).values(hash=digest))
        return AuditEntry(seq, moment, kind, payload, prev, digest)

    async def entries(self, session: AsyncSession, *, kind: str | None = None, limit: int = 1000) -> list[AuditEntry]:
        statement = select(self.log).order_by(self.log.c.seq.desc()).limit(limit)
        if kind is not None:
            statement = statement.where(self.log.c.kind == kind)
        rows = (await session.execute(statement)).all()
        return [AuditEntry(r.seq, as_utc(r.at), r.kind, dict(r.event), r.prev_hash, r.hash) for r in rows]

    def verify(self, connection: Connection) -> Verification:
        """Recompute the whole chain (run with `AsyncConnection.run_sync`)."""
        expected_prev = GENESIS
        expected_seq = 1
        count = 0
        last_hash = GENESIS
        for row in connection.execute(select(self.log).order_by(self.log.c.seq)):
            count += 1
            if row.seq != expected_seq:
                return Verification(False, count, f"entry {expected_seq} is missing (found {row.seq} next)", row.seq)
            if row.prev_hash != expected_prev:
                return Verification(False, count, "the chain is broken: an entry was removed or reordered", row.seq)
            if entry_hash(row.seq, row.at, row.kind, row.event, row.prev_hash) != row.hash:
                return Verification(False, count, "an entry's content was altered", row.seq)
            expected_prev = last_hash = row.hash
            expected_seq += 1
        head = connection.execute(select(self.head.c.seq, self.head.c.hash).where(self.head.c.id == HEAD_ID)).first()
        if head is None:
            if count:
                return Verification(False, count, "entries exist but the head is missing", None)
            return Verification(True, 0)
        if count == 0 and (int(head.seq) != 0 or head.hash != GENESIS):
            return Verification(False, 0, "every entry was removed (the head names a later entry)", int(head.seq))
        if int(head.seq) != count or head.hash != last_hash:
            return Verification(
                False, count, "the last entries were removed (the head names a later entry)", int(head.seq)
            )
        return Verification(True, count)
