from __future__ import annotations

import base64
import re
import statistics
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from openmydata.sandbox.population import generate_people, make_ci, permute

from .samples import AS_OF, SEED


def _age(birth_date: str, as_of: date) -> int:
    born = date(int(birth_date[:4]), int(birth_date[4:6]), int(birth_date[6:]))
    return as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))


class TestGeneratePeople:
    def test_two_runs_are_equal(self) -> None:
        assert generate_people(60, SEED, AS_OF) == generate_people(60, SEED, AS_OF)

    def test_person_i_does_not_depend_on_count(self) -> None:
        assert generate_people(7, SEED, AS_OF) == generate_people(40, SEED, AS_OF)[:7]

    def test_another_seed_gives_other_people(self) -> None:
        first, other = generate_people(5, SEED, AS_OF), generate_people(5, SEED + 1, AS_OF)
        assert {p.ci for p in first}.isdisjoint({p.ci for p in other})

    def test_identity_fields_have_their_formats(self, sample_people: list) -> None:
        for person in sample_people:
            assert len(person.ci) == 88
            assert len(base64.b64decode(person.ci, validate=True)) == 64
            assert re.fullmatch(r"010[1-9][0-9]{7}", person.phone)
            assert re.fullmatch(r"[0-9]{6}", person.pin)
            assert re.fullmatch(r"[가-힣]{2,4}", person.name)
            assert person.gender in ("M", "F")
            assert 19 <= _age(person.birth_date, AS_OF) <= 80
            assert _age(person.birth_date, AS_OF) == person.age

    def test_thousand_people_are_distinct_and_spread(self) -> None:
        people = generate_people(1000, SEED, AS_OF)
        assert len({p.ci for p in people}) == 1000
        assert len({p.phone for p in people}) == 1000
        ages = [p.age for p in people]
        young = sum(1 for age in ages if age < 30) / len(ages)
        assert 0.2 < young < 0.35  # many young adults
        assert sum(1 for age in ages if age >= 60) / len(ages) > 0.08
        assert abs(statistics.mean(p.risk for p in people)) < 0.12
        assert 0.85 < statistics.stdev(p.risk for p in people) < 1.15
        thin = [p for p in people if p.thin_file]
        assert statistics.mean(p.age for p in thin) < statistics.mean(ages)
        assert all(0.2 <= p.spending <= 1.3 for p in people)

    def test_income_and_risk_are_negatively_correlated(self) -> None:
        people = generate_people(1000, SEED, AS_OF)
        assert statistics.correlation([p.income_level for p in people], [p.risk for p in people]) < -0.15

    def test_ci_is_keyed_by_the_seed(self) -> None:
        assert make_ci(1, "990101-1000000001") != make_ci(2, "990101-1000000001")
        assert make_ci(1, "990101-1000000001") == make_ci(1, "990101-1000000001")


class TestPermute:
    @given(st.integers(min_value=2, max_value=5000), st.integers(min_value=0, max_value=2**32))
    def test_is_a_bijection(self, space: int, seed: int) -> None:
        assert sorted(permute(i, space, seed, "label") for i in range(space)) == list(range(space))
