"""The load generator: an httpx async client in its own process, `concurrency` keep-alive connections each
looping over random sampled customers for a warm-up and then a fixed measured window.

Only requests that start after the warm-up and finish inside the window count; a request counts as an error
unless it is HTTP 200 with rsp_code 00000.
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

import httpx

from bench.common import CUSTOMER_HEADER, OPERATOR_ORG, PROVIDER_ORG
from openmydata.kit.clock import to_date, today_kst
from openmydata.standard.formats import Party, new_tran_id

APIS = ("은행-001", "은행-004")
SUCCESS = b'"rsp_code":"00000"'


@dataclass(frozen=True)
class Sample:
    """One sampled customer: the access token the provider issued, and a deposit account of theirs."""

    customer_id: int
    token: str
    account_num: str
    seqno: str | None


@dataclass(frozen=True)
class PreparedRequest:
    method: str
    path: str
    params: dict[str, str] | None
    content: bytes | None
    headers: dict[str, str]


@dataclass(frozen=True)
class RunResult:
    requests: int
    completed_total: int  # every completed request, warm-up and cut-off ones included (for CPU per request)
    errors: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    client_cpu_s: float
    first_error: str | None


def history_range() -> dict[str, str]:
    """The last 12 months (the user-consent limit), as the operator would ask 은행-004."""
    today = today_kst()
    return {"from_date": to_date(today - timedelta(days=364)), "to_date": to_date(today)}


def prepare(api: str, sample: Sample) -> PreparedRequest:
    headers = {
        "Authorization": f"Bearer {sample.token}",
        "x-api-type": "user-consent",
        CUSTOMER_HEADER: str(sample.customer_id),
    }
    if api == "은행-001":
        return PreparedRequest("GET", "/v1/bank/accounts", {"org_code": PROVIDER_ORG}, None, headers)
    if api == "은행-004":
        body: dict[str, Any] = {"org_code": PROVIDER_ORG, "account_num": sample.account_num, **history_range()}
        if sample.seqno:
            body["seqno"] = sample.seqno
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {**headers, "Content-Type": "application/json"}
        return PreparedRequest("POST", "/v1/bank/accounts/deposit/transactions", None, content, headers)
    raise ValueError(f"the benchmark covers {', '.join(APIS)}, not {api}")


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0.0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


async def _drive(
    base_url: str, requests: Sequence[PreparedRequest], concurrency: int, warmup_s: float, duration_s: float, seed: int
) -> RunResult:
    latencies: list[float] = []
    errors = 0
    completed = 0
    first_error: list[str] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as client:
        cpu_start = time.process_time()
        begin = time.perf_counter()
        window_start = begin + warmup_s
        window_end = window_start + duration_s

        async def worker(index: int) -> None:
            nonlocal errors, completed
            rng = random.Random(seed * 1000 + index)
            while True:
                started = time.perf_counter()
                if started >= window_end:
                    return
                request = rng.choice(requests)
                headers = {**request.headers, "x-api-tran-id": new_tran_id(OPERATOR_ORG, Party.OPERATOR)}
                try:
                    response = await client.request(
                        request.method, request.path, params=request.params, content=request.content, headers=headers
                    )
                    body = response.content
                    ok = response.status_code == 200 and SUCCESS in body
                    detail = f"HTTP {response.status_code} {body[:200].decode('utf-8', 'replace')}"
                except httpx.HTTPError as exc:
                    ok, detail = False, f"{type(exc).__name__}: {exc}"
                finished = time.perf_counter()
                completed += 1
                if started < window_start or finished > window_end:
                    continue
                latencies.append(finished - started)
                if not ok:
                    errors += 1
                    if not first_error:
                        first_error.append(detail)

        await asyncio.gather(*(worker(index) for index in range(concurrency)))
        cpu = time.process_time() - cpu_start
    latencies.sort()
    count = len(latencies)
    return RunResult(
        requests=count,
        completed_total=completed,
        errors=errors,
        duration_s=duration_s,
        rps=count / duration_s,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p90_ms=percentile(latencies, 0.90) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        mean_ms=(sum(latencies) / count * 1000) if count else 0.0,
        client_cpu_s=cpu,
        first_error=first_error[0] if first_error else None,
    )


def _child(
    base_url: str,
    api: str,
    samples: list[Mapping[str, Any]],
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    seed: int,
    connection: Any,
) -> None:
    try:
        requests = [prepare(api, Sample(**sample)) for sample in samples]
        result = asyncio.run(_drive(base_url, requests, concurrency, warmup_s, duration_s, seed))
        connection.send(("ok", asdict(result)))
    except BaseException as exc:
        connection.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        connection.close()


def run_in_process(
    base_url: str,
    api: str,
    samples: Sequence[Sample],
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    seed: int,
) -> RunResult:
    """One measured run from a fresh process (so the client never shares a CPU-bound loop with a server)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(base_url, api, [asdict(s) for s in samples], concurrency, warmup_s, duration_s, seed, sender),
        daemon=True,
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(warmup_s + duration_s + 120):
            raise RuntimeError("the load generator did not answer")
        status, payload = receiver.recv()
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()
            process.join()
    if status != "ok":
        raise RuntimeError(f"the load generator failed: {payload}")
    return RunResult(**payload)
