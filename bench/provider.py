"""Provider benchmark: `python -m bench.provider --people 100000` (the `make bench-provider` target).

1. Loads N people's bank data (the sandbox generator) into a fresh PostgreSQL database through the provider's
   own import path (`--reuse` keeps an existing complete load of the same N and seed).
2. Starts the real provider app and the bare Starlette baseline (`bench.baseline`), each under uvicorn in its
   own process on loopback, seeds the operator service in the provider's registry and obtains access tokens for
   a sample of customers through the provider's 통합인증-002 token endpoint.
3. Drives 은행-001 and 은행-004 on each with an httpx load generator in its own process: R runs alternating
   provider/baseline, each a warm-up and a fixed measured window; reports medians over runs and the
   provider/baseline ratios measured in the same invocation.
4. Writes bench/results/provider-<timestamp>.json and prints a summary table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from bench.common import (
    CLIENT_ID,
    CLIENT_SECRET,
    DB_NAME,
    HOST,
    OPERATOR_ORG,
    RESULTS_DIR,
    Machine,
    machine_cpu_ticks,
    pg_dsn,
    process_cpu_seconds,
    sqlalchemy_url,
)
from bench.consents import grant_tokens, pick_customers, write_trust_file
from bench.load import LoadInfo, reusable, run_load
from bench.loadgen import APIS, Sample, prepare, run_in_process
from openmydata.kit.clock import today_kst
from openmydata.kit.db import Database
from openmydata.kit.pki import CertificateAuthority
from openmydata.kit.server import free_port
from openmydata.provider.registry import register_service
from openmydata.standard.formats import Party, new_tran_id

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("provider", "baseline")


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)


def _start(name: str, module: str, port: int, extra: Sequence[str], log: Path) -> Server:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--port", str(port), *extra],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    return Server(name, f"http://{HOST}:{port}", process, log)


def _wait_ready(server: Server, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited during start-up:\n{server.log.read_text()[-2000:]}")
        try:
            httpx.get(server.url + "/", timeout=2.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{server.name} did not start within {timeout_s:.0f} s")


@contextmanager
def servers(database: str, workdir: Path, trust_file: Path) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        started["provider"] = _start(
            "provider",
            "bench.provider_server",
            free_port(HOST),
            ["--database", database, "--trust-file", str(trust_file)],
            workdir / "provider.log",
        )
        started["baseline"] = _start(
            "baseline", "bench.baseline", free_port(HOST), ["--database", database], workdir / "baseline.log"
        )
        for server in started.values():
            _wait_ready(server)
        yield started
    finally:
        for server in started.values():
            if server.process.poll() is None:
                server.process.terminate()
        for server in started.values():
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


def _normalise(body: dict[str, Any]) -> dict[str, Any]:
    """A response without what legitimately differs between the two (time stamps, opaque cursors)."""
    return {name: value for name, value in body.items() if name not in {"search_timestamp", "next_page"}}


def _difference(provider: dict[str, Any], baseline: dict[str, Any]) -> str:
    for name in sorted(set(provider) | set(baseline)):
        mine, theirs = provider.get(name), baseline.get(name)
        if mine == theirs:
            continue
        if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
            for index, (left, right) in enumerate(zip(mine, theirs, strict=True)):
                if left != right:
                    return f"{name}[{index}]: provider {left!r} / baseline {right!r}"
        return f"{name}: provider {mine!r:.200} / baseline {theirs!r:.200}"
    return "no difference"


def check_same_answers(urls: dict[str, str], samples: Sequence[Sample], apis: Sequence[str]) -> dict[str, Any]:
    """Both servers must answer the same JSON (up to time stamps and cursors) for a few sampled customers."""
    compared = 0
    mismatches: list[str] = []
    with httpx.Client(timeout=60.0) as client:
        for api in apis:
            for sample in samples[:5]:
                request = prepare(api, sample)
                bodies = {}
                for name, url in urls.items():
                    headers = {**request.headers, "x-api-tran-id": new_tran_id(OPERATOR_ORG, Party.OPERATOR)}
                    response = client.request(
                        request.method,
                        url + request.path,
                        params=request.params,
                        content=request.content,
                        headers=headers,
                    )
                    bodies[name] = response.json()
                compared += 1
                provider, baseline = _normalise(bodies["provider"]), _normalise(bodies["baseline"])
                if provider != baseline:
                    mismatches.append(f"{api} customer {sample.customer_id}: {_difference(provider, baseline)}")
                if not bodies["provider"].get("trans_list", bodies["provider"].get("account_list")):
                    mismatches.append(f"{api} customer {sample.customer_id}: empty answer")
    return {"compared": compared, "mismatches": mismatches}


def measure(
    servers_by_name: dict[str, Server], samples: Sequence[Sample], args: argparse.Namespace, console: Console
) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for api in args.apis:
        for run in range(args.runs):
            order = TARGETS if run % 2 == 0 else tuple(reversed(TARGETS))
            for target in order:
                server = servers_by_name[target]
                cpu_before = server.cpu_seconds()
                busy_before, total_before = machine_cpu_ticks()
                result = run_in_process(
                    server.url,
                    api,
                    samples,
                    concurrency=args.concurrency,
                    warmup_s=args.warmup,
                    duration_s=args.duration,
                    seed=args.seed * 100 + run,
                )
                busy_after, total_after = machine_cpu_ticks()
                server_cpu = server.cpu_seconds() - cpu_before
                machine_busy = (busy_after - busy_before) / max(total_after - total_before, 1)
                entry = {
                    "api": api,
                    "run": run + 1,
                    "target": target,
                    **asdict(result),
                    "server_cpu_s": round(server_cpu, 2),
                    "server_cpu_ms_per_request": round(server_cpu * 1000 / max(result.completed_total, 1), 3),
                    "machine_busy": round(machine_busy, 3),
                }
                runs.append(entry)
                console.print(
                    f"  {api} run {run + 1}/{args.runs} {target:8} {result.rps:8.1f} req/s  p50 {result.p50_ms:7.1f} ms"
                    f"  p99 {result.p99_ms:7.1f} ms  errors {result.errors}  server CPU {server_cpu:5.1f} s"
                    f"  client CPU {result.client_cpu_s:5.1f} s"
                    f"  machine busy {machine_busy:.0%}"
                )
                if result.first_error:
                    console.print(f"    [red]first error:[/red] {result.first_error}")
    return runs


def summarise(runs: Sequence[dict[str, Any]], apis: Sequence[str]) -> list[dict[str, Any]]:
    summary = []
    for api in apis:
        row: dict[str, Any] = {"api": api}
        for target in TARGETS:
            mine = [run for run in runs if run["api"] == api and run["target"] == target]
            for metric in ("rps", "p50_ms", "p99_ms", "errors", "server_cpu_ms_per_request", "client_cpu_s"):
                row[f"{target}_{metric}"] = round(statistics.median(run[metric] for run in mine), 2)
        row["ratio_rps"] = round(row["provider_rps"] / row["baseline_rps"], 3) if row["baseline_rps"] else None
        row["ratio_cpu_per_request"] = (
            round(row["provider_server_cpu_ms_per_request"] / row["baseline_server_cpu_ms_per_request"], 2)
            if row["baseline_server_cpu_ms_per_request"]
            else None
        )
        row["ratio_p99"] = round(row["provider_p99_ms"] / row["baseline_p99_ms"], 3) if row["baseline_p99_ms"] else None
        summary.append(row)
    return summary


def summary_table(summary: Sequence[dict[str, Any]], load: LoadInfo, args: argparse.Namespace) -> Table:
    table = Table(
        title=f"provider vs baseline — {load.customers:,} customers, {load.records:,} rows; median of {args.runs} runs,"
        f" {args.concurrency} connections, {args.duration:g} s each"
    )
    for column in (
        "API",
        "provider req/s",
        "baseline req/s",
        "req/s ratio",
        "provider p50",
        "baseline p50",
        "provider p99",
        "baseline p99",
        "p99 ratio",
        "server CPU/req (provider / baseline)",
    ):
        table.add_column(column, justify="left" if column == "API" else "right")
    for row in summary:
        table.add_row(
            row["api"],
            f"{row['provider_rps']:,.0f}",
            f"{row['baseline_rps']:,.0f}",
            f"{row['ratio_rps']:.2f}",
            f"{row['provider_p50_ms']:.1f} ms",
            f"{row['baseline_p50_ms']:.1f} ms",
            f"{row['provider_p99_ms']:.1f} ms",
            f"{row['baseline_p99_ms']:.1f} ms",
            f"{row['ratio_p99']:.2f}",
            f"{row['provider_server_cpu_ms_per_request']:.2f} / {row['baseline_server_cpu_ms_per_request']:.2f} ms"
            f" (×{row['ratio_cpu_per_request']:.1f})",
        )
    return table


async def _postgres_version(database: str) -> str:
    connection = await asyncpg.connect(pg_dsn(database))
    try:
        return str(await connection.fetchval("SELECT version()"))
    finally:
        await connection.close()


async def _seed_registry(database: str) -> None:
    db = Database(sqlalchemy_url(database))
    try:
        await register_service(db, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, org_code=OPERATOR_ORG)
    finally:
        await db.dispose()


def _load(args: argparse.Namespace, console: Console) -> LoadInfo:
    if args.reuse:
        existing = asyncio.run(reusable(args.database, args.people, args.seed))
        if existing is not None:
            console.print(
                f"[green]reusing[/green] {args.database}: {existing.customers:,} customers, {existing.records:,} rows"
                f" (loaded {existing.as_of})"
            )
            return existing
        console.print(f"{args.database} does not hold a complete load of {args.people:,} people: loading")
    as_of: date = today_kst()
    info = run_load(args.database, args.people, args.seed, as_of, jobs=args.jobs, console=console)
    console.print(
        f"loaded {info.customers:,} customers and {info.records:,} rows in {info.load_s:,.1f} s"
        f" ({info.records / max(info.load_s or 1, 1e-9):,.0f} rows/s;"
        f" database {(info.db_size_bytes or 0) / 2**30:.1f} GiB)"
    )
    return info


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.provider", description="Provider information APIs vs a bare Starlette + SQL baseline."
    )
    parser.add_argument("--people", type=int, default=100_000, help="people generated (bank customers are ~90%%)")
    parser.add_argument("--reuse", action="store_true", help="skip loading when the database holds this load")
    parser.add_argument("--database", default=DB_NAME, help="PostgreSQL database, dropped and created on load")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="parallel import processes")
    parser.add_argument("--samples", type=int, default=500, help="customers given consents and tokens")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per run")
    parser.add_argument("--runs", type=int, default=5, help="runs per API and target")
    parser.add_argument("--apis", default=",".join(APIS), help="comma-separated: 은행-001,은행-004")
    args = parser.parse_args(argv)
    args.apis = [api.strip() for api in args.apis.split(",") if api.strip()]
    unknown = [api for api in args.apis if api not in APIS]
    if unknown or args.people < 1 or args.runs < 1 or args.concurrency < 1 or args.samples < 1:
        parser.error(f"bad arguments (APIs are {', '.join(APIS)})")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    machine = Machine.current()
    load = _load(args, console)
    postgres = asyncio.run(_postgres_version(args.database))
    asyncio.run(_seed_registry(args.database))
    with tempfile.TemporaryDirectory(prefix="omd-bench-") as tmp:
        workdir = Path(tmp)
        ca = CertificateAuthority.create("openmydata bench CA")
        trust_file = write_trust_file(ca, workdir)
        with servers(args.database, workdir, trust_file) as running:
            candidates = asyncio.run(pick_customers(args.database, args.samples, args.seed))
            started = time.perf_counter()
            samples = asyncio.run(grant_tokens(running["provider"].url, ca, candidates))
            console.print(
                f"{len(samples)} consents recorded and tokens issued through 통합인증-002"
                f" in {time.perf_counter() - started:.1f} s"
            )
            check = check_same_answers({name: s.url for name, s in running.items()}, samples, args.apis)
            if check["mismatches"]:
                console.print(f"[red]provider and baseline answers differ:[/red] {check['mismatches']}")
                raise SystemExit(1)
            console.print(f"provider and baseline answers match on {check['compared']} sampled calls")
            runs = measure(running, samples, args, console)
    summary = summarise(runs, args.apis)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"provider-{stamp}.json"
    result = {
        "benchmark": "provider",
        "timestamp": stamp,
        "machine": {**asdict(machine), "postgresql": postgres},
        "load": asdict(load),
        "settings": {
            name: getattr(args, name)
            for name in ("people", "reuse", "database", "seed", "samples", "concurrency", "duration", "warmup", "runs")
        }
        | {"apis": args.apis, "sampled_customers": len(samples)},
        "answer_check": check,
        "summary": summary,
        "runs": runs,
    }
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(summary_table(summary, load, args))
    console.print(f"results: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
