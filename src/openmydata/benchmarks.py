"""Benchmarks that need the whole ecosystem: `openmydata bench collect` (also `python -m bench.collect`).

Fan-out for a waiting person: K institutions (banks, each its own provider server and database) add `latency_ms`
to every information API call (`provider.faults`); P people, one after the other, sign up, consent to every
institution they are a customer of and wait for their first collection, which the operator runs for all
institutions and all their APIs concurrently. For each person the benchmark then measures, for every one of those
institutions alone, how long a sequential collection of the same data takes over the same mutual-TLS path (one
call at a time, nothing stored): the slowest of them is the bare baseline of the same run. With a fixed latency per
call the slowest institution is the one with the most calls, so the baseline is measured for the three
institutions that hold the most of the person's records (`baseline_top`), not for all fifty. The figures:

- `fanout_ratio` — median over people of (first collection's wall time) / (slowest institution's sequential
  time); 1.0 would mean that waiting for K institutions costs no more than waiting for the slowest one alone;
- `lost` / `duplicated` — records the providers hold for the person that the operator does not, and records the
  operator holds twice (compared record by record with each provider's own data);
- `calls_per_s` — information API calls of the first collections divided by their wall time;
- `operator_cpu_s` / `providers_cpu_s` — median CPU seconds per person's first collection of this process (the
  operator, with the portal and certauth) and of all provider processes together, from `/proc`: where the two
  cores go while the person waits.

Benchmarks are numbers, not tests: nothing here asserts a threshold.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, cast

from openmydata.demo import (
    CORE_INSTITUTIONS,
    Ecosystem,
    InstitutionPlan,
    ProviderProcess,
    connect_person,
    expect_json,
    expected_record_keys,
    held_record_keys,
    start_ecosystem,
)
from openmydata.kit.clock import today_kst
from openmydata.kit.http import make_client
from openmydata.operator.collector import collect_provider
from openmydata.operator.inspection import api_calls_made, holdings
from openmydata.sandbox.institutions import SectorName, is_customer
from openmydata.sandbox.population import Person
from openmydata.standard.apis import CATALOGUE
from openmydata.standard.client import StandardClient
from openmydata.standard.formats import Party

Progress = Callable[[str, int, int], None]


def bank_plans(count: int) -> tuple[InstitutionPlan, ...]:
    """`count` banks with their own names, registration numbers and certificates."""
    bank = CORE_INSTITUTIONS[0]
    return tuple(
        replace(
            bank, name=f"{bank.name} {index:02d}", regno=f"20181{index:05d}", holder_name=f"provider-bank-{index:02d}"
        )
        for index in range(1, count + 1)
    )


def _cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far; 0 for one that has gone."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _provider_pids(eco: Ecosystem) -> list[int]:
    return [provider.server.process.pid for provider in eco.providers if isinstance(provider.server, ProviderProcess)]


async def _sequential_ms(eco: Ecosystem, person: Person, org_codes: list[str], today: date) -> dict[str, float]:
    """For each institution alone: one call at a time, the person's consented APIs, nothing stored."""
    tokens = (await holdings(eco.operator_settings, person.ci)).access_tokens
    by_code = {provider.org_code: provider for provider in eco.providers}
    result: dict[str, float] = {}
    async with eco.client_as("operator", timeout_s=120) as http:
        for org_code in org_codes:
            provider = by_code[org_code]
            client = StandardClient(
                http, provider.api_url, org_code=eco.operator_org_code, party=Party.OPERATOR, peer=org_code
            )
            started = time.perf_counter()
            outcome = await collect_provider(
                client,
                CATALOGUE.info_apis([provider.sector]),
                org_code=org_code,
                token=tokens[org_code],
                today=today,
                months=eco.operator_settings.history_months,
                concurrency=1,
            )
            result[org_code] = (time.perf_counter() - started) * 1000
            if outcome.errors:
                raise RuntimeError(f"the sequential baseline failed at {org_code}: {outcome.errors[:3]}")
    return result


async def run_collect_bench(
    data_dir: Path,
    *,
    people: int,
    providers: int,
    latency_ms: float,
    seed: int = 42,
    database_url: Callable[[str], str] | None = None,
    progress: Progress | None = None,
    baseline_top: int = 3,
) -> dict[str, Any]:
    report = progress or (lambda _d, _c, _t: None)
    plans = bank_plans(providers)
    started = time.perf_counter()
    eco = await start_ecosystem(
        data_dir,
        people=people,
        seed=seed,
        progress=progress,
        database_url=database_url,
        pin_kdf_cost=2**4,
        institutions=plans,
        provider_overrides={"fault_latency_ms": latency_ms} if latency_ms > 0 else None,
        provider_processes=True,
    )
    setup_s = time.perf_counter() - started
    today = today_kst()
    rows: list[dict[str, Any]] = []
    try:
        async with make_client(timeout_s=600) as http:
            for index, person in enumerate(eco.people):
                org_codes = [
                    provider.org_code
                    for provider in eco.providers
                    if is_customer(person, cast(SectorName, provider.sector), provider.org_code, eco.seed)
                ]
                if not org_codes:
                    continue
                before = _cpu_s([os.getpid()]), _cpu_s(_provider_pids(eco))
                auth, completed = await connect_person(http, eco, person, org_codes)
                operator_cpu, providers_cpu = _cpu_s([os.getpid()]) - before[0], _cpu_s(_provider_pids(eco)) - before[1]
                failed = [entry for entry in completed["providers"] if not entry.get("ok")]
                if failed:
                    raise RuntimeError(f"통합인증 failed for {len(failed)} institutions: {failed[:2]}")
                wall_ms = float(completed["collection_ms"])
                held = expect_json(await http.get(f"{eco.operator.url}/api/me/records", headers=auth), "records")[
                    "records"
                ]
                keys = held_record_keys(held)
                expected = await expected_record_keys(eco, person, org_codes)
                # The slowest institution alone is the one with the most calls, i.e. the most records and pages:
                # the sequential baseline is measured for the `baseline_top` institutions holding the most records.
                biggest = sorted(org_codes, key=lambda code: -int(completed["collected"].get(code, 0)))[:baseline_top]
                sequential = await _sequential_ms(eco, person, biggest, today)
                rows.append(
                    {
                        "institutions": len(org_codes),
                        "first_collection_ms": wall_ms,
                        "slowest_sequential_ms": max(sequential.values()),
                        "median_sequential_ms": statistics.median(sequential.values()),
                        "records_expected": len(expected),
                        "lost": len(expected - set(keys)),
                        "duplicated": len(keys) - len(set(keys)),
                        "unexpected": len(set(keys) - expected),
                        "operator_cpu_s": operator_cpu,
                        "providers_cpu_s": providers_cpu,
                    }
                )
                report("people", index + 1, len(eco.people))
        calls = await _information_calls(eco)
    finally:
        await eco.stop()
    ratios = [row["first_collection_ms"] / row["slowest_sequential_ms"] for row in rows]
    total_wall_s = sum(row["first_collection_ms"] for row in rows) / 1000
    return {
        "people": len(rows),
        "providers": providers,
        "latency_ms": latency_ms,
        "institutions_per_person_median": statistics.median(row["institutions"] for row in rows) if rows else 0,
        "fanout_ratio": round(statistics.median(ratios), 3) if ratios else None,
        "fanout_ratio_max": round(max(ratios), 3) if ratios else None,
        "first_collection_ms_median": round(statistics.median(row["first_collection_ms"] for row in rows), 1)
        if rows
        else None,
        "slowest_sequential_ms_median": round(statistics.median(row["slowest_sequential_ms"] for row in rows), 1)
        if rows
        else None,
        "records": sum(row["records_expected"] for row in rows),
        "lost": sum(row["lost"] for row in rows),
        "duplicated": sum(row["duplicated"] for row in rows),
        "unexpected": sum(row["unexpected"] for row in rows),
        "calls_per_s": round(calls / total_wall_s, 1) if total_wall_s else None,
        "operator_cpu_s": round(statistics.median(row["operator_cpu_s"] for row in rows), 2) if rows else None,
        "providers_cpu_s": round(statistics.median(row["providers_cpu_s"] for row in rows), 2) if rows else None,
        "setup_s": round(setup_s, 1),
    }


async def _information_calls(eco: Ecosystem) -> int:
    """Information API calls the operator made in the first collections (its call records, 지원-004's source)."""
    return await api_calls_made(eco.operator_settings, api_type="user-consent")
