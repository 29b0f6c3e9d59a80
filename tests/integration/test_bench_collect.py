"""The fan-out benchmark's own bookkeeping, on a tiny ecosystem: every person's first collection is compared
record by record with the providers' data (nothing lost or duplicated) and the baseline is measured. No timing is
asserted: benchmarks are numbers, not tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from openmydata.benchmarks import bank_plans, run_collect_bench

pytestmark = [pytest.mark.integration]


def test_bank_plans_are_distinct_institutions() -> None:
    plans = bank_plans(12)
    assert len({plan.regno for plan in plans}) == len({plan.holder for plan in plans}) == len(plans) == 12
    assert all(plan.sector == "bank" for plan in plans)


async def test_a_small_run_loses_and_duplicates_nothing(
    tmp_path: Path, participant_databases: Callable[[str], str] | None
) -> None:
    summary = await run_collect_bench(
        tmp_path, people=3, providers=3, latency_ms=5, seed=11, database_url=participant_databases
    )
    assert summary["people"] == 3  # the sandbox's first people are customers of every institution
    assert summary["institutions_per_person_median"] == 3
    assert summary["records"] > 0
    assert (summary["lost"], summary["duplicated"], summary["unexpected"]) == (0, 0, 0)
    assert summary["fanout_ratio"] is not None
    assert summary["fanout_ratio"] > 0
    assert summary["calls_per_s"] is not None
    assert summary["calls_per_s"] > 0
