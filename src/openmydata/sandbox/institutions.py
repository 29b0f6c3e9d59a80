"""Institution data: which people are customers of an institution, and everything it holds for each of them.

`generate_customers` yields, for the customers of one institution (a deterministic subset of the people), one
`CustomerData` with a record for every object every catalogued data API of the sector returns. Records are built
through the catalogue's models (`records.RecordSink`), keyed by `selector_key` of the request fields the
catalogue's `Source` maps from the asset list.

Shares of customers: bank 90%; card 70% of people with a credit history and 20% of thin-file people (who get one
check card); telecom 97%. Membership depends on (seed, org_code, person), never on how many people there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Literal, Protocol, cast

from openmydata.sandbox import bank, bond, capital, card, efin, ginsu, insu, invest, p2p, telecom
from openmydata.sandbox.population import Person, derive_rng
from openmydata.sandbox.records import RecordSink, customer_line, data_apis
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.catalogue import Catalogue, Sector
from openmydata.standard.dataset import CustomerData

SectorName = Literal["bank", "card", "telecom", "insu", "invest", "efin", "capital", "ginsu", "p2p", "bond", "usury"]


class _Generator(Protocol):
    def build(self, sink: RecordSink) -> dict[str, str]: ...


class SectorModule(Protocol):
    """What a sector's sandbox module provides (`sandbox/<sector>.py`)."""

    def share(self, person: Person) -> float:
        """The probability that `person` is a customer of one institution of the sector."""
        ...

    def customer(self, person: Person, org_code: str, seed: int, as_of: date) -> _Generator:
        """The generator of `person`'s data at the institution `org_code`."""
        ...


# Sector → the sandbox module generating it (usury: money lenders, the debt generator of `bond`).
SECTOR_MODULES: dict[SectorName, SectorModule] = {
    "bank": cast(SectorModule, bank),
    "card": cast(SectorModule, card),
    "telecom": cast(SectorModule, telecom),
    "insu": cast(SectorModule, insu),
    "invest": cast(SectorModule, invest),
    "efin": cast(SectorModule, efin),
    "capital": cast(SectorModule, capital),
    "ginsu": cast(SectorModule, ginsu),
    "p2p": cast(SectorModule, p2p),
    "bond": cast(SectorModule, bond),
    "usury": bond.USURY,
}
SECTORS: tuple[SectorName, ...] = tuple(SECTOR_MODULES)


def _module(sector: SectorName) -> SectorModule:
    try:
        return SECTOR_MODULES[sector]
    except KeyError:
        raise ValueError(f"the sandbox generates {', '.join(SECTORS)}, not {sector!r}") from None


# The first people of every population are customers of every institution: the demo's personas, so that the
# demo, its smoke run and the tests always have someone whose picture spans every institution however many
# there are (with six institutions only about 1.4% of people are customers of all of them by the shares alone).
ALL_ROUND_CUSTOMERS = 3


def is_customer(person: Person, sector: SectorName, org_code: str, seed: int) -> bool:
    """Whether `person` is a customer of the institution (deterministic per seed, org_code and person; always for
    the first `ALL_ROUND_CUSTOMERS` people)."""
    if person.index < ALL_ROUND_CUSTOMERS:
        return True
    draw = derive_rng(seed, "customer", sector, org_code, person.index).random()
    return draw < _module(sector).share(person)


def _generator(person: Person, sector: SectorName, org_code: str, seed: int, as_of: date) -> _Generator:
    return _module(sector).customer(person, org_code, seed, as_of)


def _customer_sinks(
    people: Iterable[Person],
    *,
    sector: SectorName,
    org_code: str,
    seed: int,
    as_of: date,
    catalogue: Catalogue,
    validate: bool,
) -> Iterator[tuple[dict[str, str], RecordSink]]:
    """(customer fields, sink holding the customer's records) for every customer of the institution."""
    if sector not in SECTORS:
        raise ValueError(f"the sandbox generates {', '.join(SECTORS)}, not {sector!r}")
    if not data_apis(Sector(sector), catalogue):
        raise ValueError(f"the catalogue has no data APIs for {sector}")
    for person in people:
        if is_customer(person, sector, org_code, seed):
            sink = RecordSink(Sector(sector), catalogue, validate=validate)
            yield _generator(person, sector, org_code, seed, as_of).build(sink), sink


def generate_customers(
    people: Iterable[Person],
    *,
    sector: SectorName,
    org_code: str,
    seed: int,
    as_of: date,
    catalogue: Catalogue = CATALOGUE,
    validate: bool = False,
) -> Iterator[CustomerData]:
    """Every customer of one institution with all the records its sector's catalogued APIs return
    (`validate=True` parses every record with the catalogue's models; see `records`)."""
    for header, sink in _customer_sinks(
        people, sector=sector, org_code=org_code, seed=seed, as_of=as_of, catalogue=catalogue, validate=validate
    ):
        yield CustomerData(**header, records=sink.records)


def customer_lines(
    people: Iterable[Person],
    *,
    sector: SectorName,
    org_code: str,
    seed: int,
    as_of: date,
    catalogue: Catalogue = CATALOGUE,
) -> Iterator[tuple[bytes, int]]:
    """(interchange line, record count) of every customer `generate_customers` yields: the line is byte for
    byte `standard.dataset.dump_lines` of that customer (UTF-8, newline included), written without building
    the models."""
    for header, sink in _customer_sinks(
        people, sector=sector, org_code=org_code, seed=seed, as_of=as_of, catalogue=catalogue, validate=False
    ):
        yield customer_line(header, sink.rows), len(sink.rows)


__all__ = [
    "SECTORS",
    "SECTOR_MODULES",
    "SectorModule",
    "SectorName",
    "customer_lines",
    "generate_customers",
    "is_customer",
]
