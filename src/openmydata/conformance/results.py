"""What a conformance run produces: per-API results made of named checks, and the totals.

A check is positive (a well-formed call must succeed and its response must follow the standard) or negative (a
call that breaks one rule must be refused with the standard's code). Positive checks aggregate every call of an
API: `calls` counts them and `detail` names the first failing calls, with the exact field where a response does
not fit the catalogue's model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CheckKind = Literal["positive", "negative"]
POSITIVE: CheckKind = "positive"
NEGATIVE: CheckKind = "negative"


@dataclass(frozen=True)
class Check:
    """One named check of one API; `calls` is how many times it was evaluated (calls, retrievals)."""

    name: str
    kind: CheckKind
    passed: bool
    detail: str
    calls: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "passed": self.passed, "detail": self.detail, "calls": self.calls}


@dataclass
class ApiResult:
    """The checks of one catalogued API (정보제공-공통-002 once per sector)."""

    api_id: str
    sector: str
    title: str
    method: str
    path: str
    checks: list[Check] = field(default_factory=list)
    calls: int = 0  # the well-formed calls made (every page counts)
    notes: list[str] = field(default_factory=list)

    @property
    def exercised(self) -> bool:
        """Whether at least one well-formed call was made (an API needing an asset the customer lacks is not)."""
        return self.calls > 0

    @property
    def passed(self) -> int:
        return sum(1 for check in self.checks if check.passed)

    @property
    def failed(self) -> int:
        return sum(1 for check in self.checks if not check.passed)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    def check(self, name: str) -> Check | None:
        return next((check for check in self.checks if check.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "api_id": self.api_id,
            "sector": self.sector,
            "title": self.title,
            "method": self.method,
            "path": self.path,
            "exercised": self.exercised,
            "calls": self.calls,
            "passed": self.passed,
            "failed": self.failed,
            "notes": list(self.notes),
            "checks": [check.to_json() for check in self.checks],
        }


@dataclass
class ConformanceReport:
    base_url: str
    org_code: str
    operator_org_code: str
    sectors: list[str]
    started_at: str = ""
    finished_at: str = ""
    results: list[ApiResult] = field(default_factory=list)
    throttled: int = 0  # 42901 answers waited out and retried

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def failed(self) -> int:
        return sum(result.failed for result in self.results)

    @property
    def checks(self) -> int:
        return self.passed + self.failed

    @property
    def apis_checked(self) -> int:
        return len(self.results)

    @property
    def not_exercised(self) -> list[str]:
        return [f"{result.api_id} ({result.sector})" for result in self.results if not result.exercised]

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def result(self, api_id: str, sector: str | None = None) -> ApiResult:
        for result in self.results:
            if result.api_id == api_id and (sector is None or result.sector == sector):
                return result
        raise KeyError(f"no result for {api_id} ({sector or 'any sector'})")

    def failures(self) -> list[tuple[ApiResult, Check]]:
        return [(result, check) for result in self.results for check in result.failures()]

    def totals(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failed": self.failed,
            "checks": self.checks,
            "apis_checked": self.apis_checked,
            "apis_exercised": sum(1 for result in self.results if result.exercised),
            "not_exercised": self.not_exercised,
            "calls": sum(result.calls for result in self.results),
            "sectors": list(self.sectors),
            "throttled": self.throttled,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": {"base_url": self.base_url, "org_code": self.org_code},
            "operator_org_code": self.operator_org_code,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "conformant": self.ok,
            "totals": self.totals(),
            "results": [result.to_json() for result in self.results],
        }
