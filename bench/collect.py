"""Fan-out benchmark: `python -m bench.collect --people 20 --providers 50 --latency-ms 200 --runs 3`.

Runs `openmydata.benchmarks.run_collect_bench` (the same as `openmydata bench collect`) `--runs` times, each in a
fresh ecosystem, and reports the median of each figure over the runs; every run's summary and the medians go to
bench/results/collect-<timestamp>.json. See the module's docstring and docs/benchmarks.md for what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openmydata.benchmarks import run_collect_bench

RESULTS = Path(__file__).parent / "results"
MEDIAN_KEYS = (
    "fanout_ratio",
    "fanout_ratio_max",
    "first_collection_ms_median",
    "slowest_sequential_ms_median",
    "calls_per_s",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    for index in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="openmydata-bench-collect-") as folder:
            summary = asyncio.run(
                run_collect_bench(
                    Path(folder),
                    people=args.people,
                    providers=args.providers,
                    latency_ms=args.latency_ms,
                    seed=args.seed + index,
                )
            )
        runs.append(summary)
        print(json.dumps(summary, ensure_ascii=False))
    medians = {key: statistics.median(run[key] for run in runs if run[key] is not None) for key in MEDIAN_KEYS}
    result = {
        "arguments": vars(args),
        "runs": runs,
        "medians": medians,
        "lost": sum(run["lost"] for run in runs),
        "duplicated": sum(run["duplicated"] for run in runs),
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"collect-{stamp}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps({"medians": medians, "lost": result["lost"], "duplicated": result["duplicated"]}))


if __name__ == "__main__":
    main()
