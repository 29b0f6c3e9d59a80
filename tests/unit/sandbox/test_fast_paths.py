"""The shortcuts generation takes for speed must give exactly what the straightforward code gives."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openmydata.sandbox import generate, merchants
from openmydata.sandbox.institutions import SectorName, customer_lines
from openmydata.sandbox.population import Person, SandboxRandom
from openmydata.sandbox.timeline import Window, dtime, month_day
from openmydata.standard.dataset import CustomerData, dump_lines

from .samples import AS_OF, ORG_CODES, SEED

seeds = st.integers(min_value=0, max_value=2**64 - 1)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


class TestSandboxRandom:
    @given(seeds, st.lists(st.tuples(st.integers(-(10**6), 10**6), st.integers(0, 10**9)), max_size=40))
    def test_randint_draws_what_random_draws(self, seed: int, ranges: list[tuple[int, int]]) -> None:
        fast, plain = SandboxRandom(seed), random.Random(seed)
        for low, width in ranges:
            assert fast.randint(low, low + width) == plain.randint(low, low + width)
        assert fast.random() == plain.random()

    @given(seeds, st.lists(st.integers(min_value=1, max_value=10**12), max_size=40))
    def test_randrange_draws_what_random_draws(self, seed: int, stops: list[int]) -> None:
        fast, plain = SandboxRandom(seed), random.Random(seed)
        for stop in stops:
            assert fast.randrange(stop) == plain.randrange(stop)
            assert fast.randrange(-stop, stop, 3) == plain.randrange(-stop, stop, 3)
        assert fast.random() == plain.random()

    @given(seeds, st.lists(st.integers(min_value=1, max_value=300), max_size=40))
    def test_choice_draws_what_random_draws(self, seed: int, lengths: list[int]) -> None:
        fast, plain = SandboxRandom(seed), random.Random(seed)
        for length in lengths:
            items = tuple(range(length))
            assert fast.choice(items) == plain.choice(items)
        assert fast.random() == plain.random()

    def test_rejects_what_random_rejects(self) -> None:
        rng = SandboxRandom(1)
        with pytest.raises(IndexError):
            rng.choice(())
        with pytest.raises(ValueError):
            rng.randint(5, 4)
        with pytest.raises(ValueError):
            rng.randrange(0)


class TestPickCategory:
    @given(seeds)
    def test_draws_what_weighted_choices_draws(self, seed: int) -> None:
        fast, plain = random.Random(seed), random.Random(seed)
        weights = [category.weight for category in merchants.CATEGORIES]
        for _ in range(50):
            assert merchants.pick_category(fast) == plain.choices(merchants.CATEGORIES, weights=weights)[0]


def _random_day(window: Window, rng: random.Random, year: int, month: int) -> date | None:
    """Window.random_day as first written."""
    first = max(date(year, month, 1), window.start)
    last = min(month_day(year, month, 31), window.end)
    if first > last:
        return None
    return first + timedelta(days=rng.randint(0, (last - first).days))


class TestRandomDay:
    @given(days, seeds)
    def test_draws_what_the_plain_formula_draws(self, as_of: date, seed: int) -> None:
        window = Window.ending(as_of)
        fast, plain = random.Random(seed), random.Random(seed)
        months = [*window.months(), (as_of.year + 1, 1), (window.start.year - 1, 12)]
        for year, month in months:
            assert window.random_day(fast, year, month) == _random_day(window, plain, year, month)
        assert fast.random() == plain.random()


class TestDtime:
    def test_formats_seconds_past_the_end_of_the_day_as_before(self) -> None:
        assert dtime(date(2026, 1, 31), 86_400) == "20260131240000"
        assert dtime(date(2026, 1, 31), 86_400 + 61) == "20260131240101"


class TestCustomerLines:
    @pytest.mark.parametrize("sector", ["bank", "card", "telecom"])
    def test_lines_are_dump_lines_of_the_generated_customers(
        self,
        sector: SectorName,
        sample_people: list[Person],
        sample_customers: dict[SectorName, list[CustomerData]],
    ) -> None:
        people = sample_people[:80]
        lines = list(customer_lines(people, sector=sector, org_code=ORG_CODES[sector], seed=SEED, as_of=AS_OF))
        expected = list(dump_lines(sample_customers[sector]))[: len(lines)]
        assert lines
        assert [line.decode("utf-8") for line, _ in lines] == expected
        assert [count for _, count in lines] == [len(c.records) for c in sample_customers[sector][: len(lines)]]


class TestWorkers:
    def test_many_chunks_on_two_workers_give_the_files_of_one(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(generate, "CHUNK", 4)
        institutions: list[tuple[SectorName, str]] = list(ORG_CODES.items())
        generate.write_dataset(tmp_path / "one", 18, SEED, AS_OF, institutions, workers=1)
        generate.write_dataset(tmp_path / "two", 18, SEED, AS_OF, institutions, workers=2)
        for path in (tmp_path / "one").iterdir():
            assert path.read_bytes() == (tmp_path / "two" / path.name).read_bytes()
