"""Crypto-shredding of what the operator holds about a person (envelope encryption with `kit.keys`).

- Every person gets a random data key when they first sign up. It is stored only wrapped by the key manager
  (`LocalKeyFile` by default, `VaultTransit` in production; `OperatorSettings.key_manager`), on the person's row,
  with the wrapping context `person:<uid>` (a random uid, known before the row is inserted).
- The person's identity ({ci, name, birth_date, phone}) and everything collected for them are sealed with that
  key (AES-256-GCM; the associated data names the table, the person, the provider and the API, so a sealed value
  cannot be moved to another row unnoticed).
- Columns that must stay searchable or unique hold keyed HMACs instead of values: the CI under the operator-wide
  index key (one data key, stored wrapped with context `operator:index` in `data_keys`, unwrapped at start-up),
  selector and natural keys (account, card numbers, ...) under a key derived from the person's data key.
- Withdrawal deletes the person's rows and the person row with the wrapped data key: what might survive in the
  database files (free pages, WAL, backups) is ciphertext nobody can open any more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from openmydata.kit.keys import KeyManager, KeyManagerError, Sealer, make_key_manager
from openmydata.operator.settings import OperatorSettings

_ROW_INDEX_LABEL = "openmydata.operator/row-index"


def key_manager_for(settings: OperatorSettings, *, http: httpx.AsyncClient | None = None) -> KeyManager:
    """The key manager the settings name (`key_manager`: "local" or "vault")."""
    if settings.key_manager == "vault":
        return make_key_manager(
            "vault",
            base_url=settings.vault_url,
            token=settings.vault_token,
            key_name=settings.vault_key_name,
            mount=settings.vault_mount,
            namespace=settings.vault_namespace,
            http=http,
        )
    return make_key_manager("local", path=settings.key_file_path())


@dataclass(frozen=True)
class Identity:
    """Who a person is, as the certification authority verified it."""

    ci: str
    name: str
    birth_date: str
    phone: str

    def to_json(self) -> dict[str, str]:
        return {"ci": self.ci, "name": self.name, "birth_date": self.birth_date, "phone": self.phone}

    @classmethod
    def from_json(cls, data: Any) -> Identity:
        if not isinstance(data, dict):
            raise KeyManagerError("sealed identity is not an object")
        return cls(
            ci=str(data.get("ci", "")),
            name=str(data.get("name", "")),
            birth_date=str(data.get("birth_date", "")),
            phone=str(data.get("phone", "")),
        )


@dataclass(frozen=True)
class Member:
    """A signed-up person with the identity opened and the data key unwrapped: in memory only, per request."""

    id: int
    identity: Identity
    created_at: datetime
    key: bytes = field(repr=False)

    @property
    def ci(self) -> str:
        return self.identity.ci

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def birth_date(self) -> str:
        return self.identity.birth_date

    @property
    def phone(self) -> str:
        return self.identity.phone


@dataclass(frozen=True)
class HeldAsset:
    """An asset-list entry as collected (opened)."""

    org_code: str
    api_id: str
    asset_key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class HeldRecord:
    """A collected object as collected (opened): its selector key, natural key and payload."""

    org_code: str
    api_id: str
    key: str
    natural_key: str
    payload: dict[str, Any]


# row sealing with a person's data key (pure)


def _row_index_key(person_key: bytes) -> bytes:
    """A key for the person's row indexes, derived from the data key (not the AES key itself)."""
    return bytes.fromhex(Sealer.blind_index(person_key, _ROW_INDEX_LABEL))


def row_indexer(person_key: bytes) -> RowIndexer:
    return RowIndexer(_row_index_key(person_key))


@dataclass(frozen=True)
class RowIndexer:
    """HMACs of a person's selector and natural keys: equal values give equal indexes, for that person only."""

    index_key: bytes = field(repr=False)

    def __call__(self, value: str) -> str:
        return Sealer.blind_index(self.index_key, value)


def row_aad(table: str, person_id: int, org_code: str, api_id: str) -> bytes:
    return f"operator/{table}/person:{person_id}/{org_code}/{api_id}".encode()


def seal_row(person_key: bytes, value: Any, aad: bytes) -> str:
    return Sealer.seal_json(person_key, value, aad)


def open_row(person_key: bytes, sealed: str, aad: bytes) -> Any:
    return Sealer.open_json(person_key, sealed, aad)


def identity_aad(uid: str) -> bytes:
    return f"operator/persons/{uid}/identity".encode()
