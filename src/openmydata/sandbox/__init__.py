"""Deterministic synthetic Korean population and institution data (bank, card, telecom).

- `population.generate_people(count, seed, as_of)`: people with identities (CI, name, birth date, phone, PIN) and
  latent variables (risk, income, spending propensity, thin file);
- `institutions.generate_customers(people, sector=, org_code=, seed=, as_of=)`: each customer's records for
  every catalogued data API of the sector, in the interchange format providers import;
- `generate.write_dataset(...)` writes people.jsonl and one <org_code>.jsonl per institution;
  `generate.people_for_certauth(people)` is the body of certauth's `POST /admin/persons`.

Imports only `openmydata.kit` and `openmydata.standard`.
"""

from __future__ import annotations

from openmydata.sandbox.generate import people_for_certauth, write_dataset
from openmydata.sandbox.institutions import generate_customers
from openmydata.sandbox.population import Person, generate_people

__all__ = ["Person", "generate_customers", "generate_people", "people_for_certauth", "write_dataset"]
