"""Shared sandbox samples: generated once per session, they are deterministic."""

from __future__ import annotations

import pytest

from openmydata.sandbox.institutions import SectorName, generate_customers
from openmydata.sandbox.population import Person, generate_people
from openmydata.standard.dataset import CustomerData

from .samples import AS_OF, ORG_CODES, SEED


@pytest.fixture(scope="session")
def sample_people() -> list[Person]:
    return generate_people(220, SEED, AS_OF)


@pytest.fixture(scope="session")
def sample_customers(sample_people: list[Person]) -> dict[SectorName, list[CustomerData]]:
    return {
        sector: list(generate_customers(sample_people, sector=sector, org_code=org, seed=SEED, as_of=AS_OF))
        for sector, org in ORG_CODES.items()
    }
