"""The interchange format a provider imports its customers' data from (JSON lines, one customer a line).

The sandbox writes it; a provider's importer reads it (`openmydata provider import`); a real institution would
produce it from its ledger. Records are in the standard's own field names, so a provider serves them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, Field


class StoredRecord(BaseModel):
    """One object an API returns: an entry of its list, or (for ASSET_INFO APIs) the whole object.

    `key` is `catalogue.selector_key` of the request fields that select it ("" for customer-level APIs);
    `period` is filled by the importer from the catalogue's record_period_field / period_field when empty.
    """

    api_id: str
    key: str = ""
    period: str = ""
    payload: dict[str, Any]


class CustomerData(BaseModel):
    """Everything one institution holds for one customer."""

    ci: str
    name: str
    birth_date: str
    phone: str
    reg_date: str | None = None
    records: list[StoredRecord] = Field(default_factory=list)


def dump_lines(customers: Iterable[CustomerData]) -> Iterator[str]:
    for customer in customers:
        yield customer.model_dump_json(exclude_none=True) + "\n"


def load_lines(lines: Iterable[str]) -> Iterator[CustomerData]:
    for line in lines:
        if line.strip():
            yield CustomerData.model_validate_json(line)
