"""What the benchmark's processes share: names, addresses and the machine facts quoted with the figures."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
DB_NAME = "omd_bench_provider"

PROVIDER_ORG = "BENCHBANK1"
OPERATOR_ORG = "BENCHOPER1"
CA_CODE = "BENCHCA001"
CLIENT_ID = "benchoperatorservice"
CLIENT_SECRET = "benchoperatorsecret01"  # aN(50): alphanumeric
TOKEN_SECRET = "bench-token-secret"
CURSOR_SECRET = "bench-cursor-secret"

# Both servers get the same connection budget: the provider's engine is pool_size 10 + max_overflow 10.
DB_POOL_SIZE = 10
DB_MAX_CONNECTIONS = 2 * DB_POOL_SIZE

RESULTS_DIR = Path(__file__).parent / "results"

# The header the baseline reads the customer from (it does no token lookup); the provider ignores it.
CUSTOMER_HEADER = "x-bench-customer-id"


def pg_dsn(database: str = DB_NAME) -> str:
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def sqlalchemy_url(database: str = DB_NAME) -> str:
    return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


@dataclass(frozen=True)
class Machine:
    cpus: int
    memory_gib: float
    python: str
    platform: str

    @classmethod
    def current(cls) -> Machine:
        memory_kib = 0
        try:
            with open("/proc/meminfo", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("MemTotal:"):
                        memory_kib = int(line.split()[1])
                        break
        except OSError:
            memory_kib = 0
        return cls(
            cpus=os.cpu_count() or 0,
            memory_gib=round(memory_kib / 1024 / 1024, 1),
            python=sys.version.split()[0],
            platform=platform.platform(),
        )


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0.0 if it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def machine_cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat; (0, 0) if unavailable."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            values = [int(value) for value in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return total - idle, total
