"""What happens to a synthetic person after the data window: the label a credit model learns.

`defaults_within_a_year` draws, once per person and seed, whether the person falls 90 days or more behind on some
obligation within the 12 months after `as_of` (a "bad" in credit-scoring terms). The draw depends only on the
person's latent `risk` (the same variable that makes their payments late or missed at every institution in the
window, `behaviour.payment_states`) and on a little income stress:

    P(default) = logistic(DEFAULT_BASE + DEFAULT_RISK_SLOPE * risk - DEFAULT_INCOME_SLOPE * income_level)

With the constants below about 7% of people default. These are assumptions of the generator, not estimates of
any real population: a model trained on them shows how much a data source can tell apart *in this world*, and
its figures say nothing about real applicants.
"""

from __future__ import annotations

from openmydata.sandbox.behaviour import logistic
from openmydata.sandbox.population import Person, derive_rng

DEFAULT_BASE = -3.1
DEFAULT_RISK_SLOPE = 1.25
DEFAULT_INCOME_SLOPE = 0.25


def default_probability(person: Person) -> float:
    return logistic(DEFAULT_BASE + DEFAULT_RISK_SLOPE * person.risk - DEFAULT_INCOME_SLOPE * person.income_level)


def defaults_within_a_year(person: Person, seed: int) -> bool:
    """Deterministic per (seed, person): the outcome the credit model is trained and evaluated on."""
    return derive_rng(seed, "outcome", "default", person.index).random() < default_probability(person)
