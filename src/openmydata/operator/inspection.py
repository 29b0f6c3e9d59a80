"""Read-only inspection of what the operator holds for one person (used by the demo's smoke check and tests).

Not exposed over HTTP: provider tokens never leave the operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from openmydata.kit.db import Database
from openmydata.operator import repository
from openmydata.operator.keyring import Keyring
from openmydata.operator.models import ApiCall, Asset, ProviderToken, Record
from openmydata.operator.personal import key_manager_for
from openmydata.operator.security import TokenVault
from openmydata.operator.settings import OperatorSettings


@dataclass
class Holdings:
    person_id: int | None
    access_tokens: dict[str, str] = field(default_factory=dict)


async def holdings(settings: OperatorSettings, ci: str) -> Holdings:
    """The person's id and the provider access tokens held for them (decrypted)."""
    db = Database(settings.database_url)
    vault = TokenVault(settings.token_key or settings.session_secret)
    manager = key_manager_for(settings)
    try:
        async with db.transaction() as session:
            keyring = await Keyring.load(session, manager, create=False)
            if keyring is None:
                return Holdings(None)
            person = await repository.person_by_ci_index(session, keyring.ci_index(ci))
            if person is None:
                return Holdings(None)
            tokens = await repository.tokens_of(session, person.id)
            return Holdings(person.id, {token.org_code: vault.open(token.access_token) for token in tokens})
    finally:
        await manager.aclose()
        await db.dispose()


async def rows_held(settings: OperatorSettings, person_id: int) -> int:
    """Records, assets and provider tokens still stored under a person id (0 after withdrawal)."""
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            total = 0
            for table in (Record, Asset, ProviderToken):
                count = await session.scalar(
                    select(func.count()).select_from(table).where(table.person_id == person_id)  # type: ignore[attr-defined]
                )
                total += int(count or 0)
            return total
    finally:
        await db.dispose()


async def api_calls_made(settings: OperatorSettings, *, api_type: str | None = None) -> int:
    """Information API calls the operator has recorded (its 지원-004 source), of one x-api-type or all."""
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            query = select(func.count()).select_from(ApiCall)
            if api_type is not None:
                query = query.where(ApiCall.api_type == api_type)
            return int(await session.scalar(query) or 0)
    finally:
        await db.dispose()
