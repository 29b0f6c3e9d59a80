"""The operator's keyring: the key manager, per-person data keys (wrapped on the person's row) and the CI index
key (one operator-wide data key, stored wrapped with context `operator:index`). See `operator.personal`."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from openmydata.kit.clock import utcnow
from openmydata.kit.keys import DataKeys, KeyManager, Sealer, person_context
from openmydata.operator import repository as repo
from openmydata.operator.models import Person
from openmydata.operator.personal import Identity, Member, identity_aad

INDEX_KEY_NAME = "index"
INDEX_CONTEXT = "operator:index"


class Keyring:
    """Wraps and unwraps the operator's data keys; computes the CI's blind index."""

    def __init__(self, manager: KeyManager, index_key: bytes):
        self.manager = manager
        self.data_keys = DataKeys(manager)
        self._index_key = index_key

    @classmethod
    async def load(cls, session: AsyncSession, manager: KeyManager, *, create: bool = True) -> Keyring | None:
        """The keyring with the index key from `data_keys`, created (and stored wrapped) on the first start when
        `create`; None if there is none yet and `create` is false."""
        data_keys = DataKeys(manager)
        wrapped = await repo.data_key(session, INDEX_KEY_NAME)
        if wrapped is None:
            if not create:
                return None
            _, fresh = await data_keys.new_data_key(INDEX_CONTEXT)
            await repo.add_data_key(session, INDEX_KEY_NAME, fresh, utcnow())
            wrapped = await repo.data_key(session, INDEX_KEY_NAME)  # another instance may have stored it first
            assert wrapped is not None
        return cls(manager, await data_keys.data_key(wrapped, INDEX_CONTEXT))

    def ci_index(self, ci: str) -> str:
        return Sealer.blind_index(self._index_key, ci)

    async def new_person(self, identity: Identity, created_at: datetime) -> tuple[Person, bytes]:
        """A person row (not yet added) with a fresh wrapped data key and the sealed identity, and the data key.
        The wrapping context is `person:<uid>` with a random uid, since the row id exists only after insert."""
        uid = secrets.token_hex(16)
        key, wrapped = await self.data_keys.new_data_key(person_context(uid))
        person = Person(
            uid=uid,
            ci_index=self.ci_index(identity.ci),
            wrapped_key=wrapped,
            identity=Sealer.seal_json(key, identity.to_json(), identity_aad(uid)),
            created_at=created_at,
        )
        return person, key

    async def person_key(self, person: Person) -> bytes:
        return await self.data_keys.data_key(person.wrapped_key, person_context(person.uid))

    async def open(self, person: Person) -> Member:
        """The person with the identity opened; `KeyManagerError` if the data key or the identity does not open."""
        key = await self.person_key(person)
        identity = Identity.from_json(Sealer.open_json(key, person.identity, identity_aad(person.uid)))
        return Member(id=person.id, identity=identity, created_at=person.created_at, key=key)

    @staticmethod
    def reseal_identity(person: Person, key: bytes, identity: Identity) -> None:
        person.identity = Sealer.seal_json(key, identity.to_json(), identity_aad(person.uid))
