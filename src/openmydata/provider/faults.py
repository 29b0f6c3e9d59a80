"""Fault injection at the provider, for tests and benchmarks (issue 5): added latency (fixed, uniform or
lognormal), an error rate, outage windows, slow continuation pages and truncated responses.

Everything is off by default: `create_app` installs `FaultInjectionMiddleware` only when `faults_enabled`
(settings `fault_*`, `ProviderSettings`), so the default app is untouched. Faults apply to the information APIs of
the served industries (the catalogue's `info_apis`), not to OAuth, 지원 APIs, 정보제공-공통 or the 개별인증 pages,
unless `fault_all_paths` says so. Randomness comes from one `random.Random(fault_seed)`, drawn in a fixed order
per call (latency sample, error draw, truncation draw), so one seed and one sequence of calls give the same
faults. Every injected fault is logged (API ID, never the path's identifiers or anything personal) and counted in
`FaultInjector.counts` (`app.state.faults`).

What a caller sees (docs/decisions.md "Fault injection"):
- an injected error: the standard envelope with `fault_error_code` (50001 시스템 장애 by default) at its HTTP
  status in the table (500), or `fault_error_status` when set; `Retry-After` with 429 and 503;
- an outage (the `fault_outage` switch, or a `fault_outage_windows` window in Asia/Seoul): `fault_outage_code`
  (50008 시스템 정기점검) at `fault_outage_status` (503, the HTTP status for a planned, temporary refusal —
  RFC 9110 §15.6.4) with `Retry-After` (seconds to the end of the window);
- a truncated response: the status and headers with the full Content-Length, half of the body, then the
  connection is dropped. The middleware ends such a call by raising `TruncatedResponse`, an
  `httpx.RemoteProtocolError`: over a socket the server (uvicorn) closes the connection and the httpx client
  raises `RemoteProtocolError` itself; in process, `httpx.ASGITransport` re-raises the app's exception, so the
  caller sees the same exception class either way.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from statistics import NormalDist
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openmydata.kit import logging as log
from openmydata.kit.clock import now_kst
from openmydata.kit.errors import TRAN_ID_HEADER, OAuthError
from openmydata.standard.catalogue import Catalogue
from openmydata.standard.codes import RspCode, StandardError
from openmydata.standard.profiles import ResponseCodes
from openmydata.standard.service import echoed_tran_id

if TYPE_CHECKING:
    from openmydata.provider.settings import ProviderSettings

_logger = log.get_logger("openmydata.provider.faults")

FAULT_KINDS = ("latency", "slow_page", "error", "outage", "truncated")
RETRY_AFTER_STATUSES = frozenset({429, 503})
_Z99 = NormalDist().inv_cdf(0.99)
_WINDOW = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_OAUTH_PREFIXES = ("/oauth/", "/mgmts/oauth/")


@dataclass(frozen=True)
class OutageWindow:
    """A daily window `HH:MM-HH:MM` (Asia/Seoul), start included, end excluded; `23:00-01:00` spans midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> OutageWindow:
        match = _WINDOW.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"an outage window is HH:MM-HH:MM, not {text!r}")
        hour1, minute1, hour2, minute2 = (int(part) for part in match.groups())
        if hour1 > 23 or hour2 > 23 or minute1 > 59 or minute2 > 59:
            raise ValueError(f"not a time of day in {text!r}")
        start, end = time(hour1, minute1), time(hour2, minute2)
        if start == end:
            raise ValueError(f"an outage window needs an end after its start: {text!r}")
        return cls(start, end)

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds (at least 1) from `now`, inside the window, to its end."""
        end = now.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= now:
            end += timedelta(days=1)
        return max(1, math.ceil((end - now).total_seconds()))


def faults_enabled(settings: ProviderSettings) -> bool:
    """Whether any fault is configured (otherwise no middleware is installed)."""
    return bool(
        settings.fault_latency_ms > 0
        or (settings.fault_latency_distribution != "fixed" and settings.fault_latency_jitter_ms > 0)
        or settings.fault_error_rate > 0
        or settings.fault_outage
        or settings.fault_outage_windows
        or settings.fault_slow_page_ms > 0
        or settings.fault_truncate_rate > 0
    )


@dataclass
class FaultInjector:
    """The configured faults, their random source and what was injected so far (`counts`, by kind). `now` (the
    time in Asia/Seoul) and `sleep` are the clock the outage windows and the latency use."""

    settings: ProviderSettings
    catalogue: Catalogue
    codes: ResponseCodes
    now: Callable[[], datetime] = now_kst
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.settings.fault_seed)
        self.windows = [OutageWindow.parse(text) for text in self.settings.fault_outage_windows]
        self._routes = [
            (re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(spec.path))), spec.id)
            for spec in self.catalogue.info_apis(self.settings.industries)
        ]

    def api_of(self, path: str) -> str | None:
        """The information API served at `path` (by its ID), or None."""
        for pattern, api_id in self._routes:
            if pattern.fullmatch(path):
                return api_id
        return None

    def outage_retry_after(self) -> int | None:
        """Seconds until the current outage ends (`fault_retry_after_s` for the switch), or None outside one."""
        if self.settings.fault_outage:
            return self.settings.fault_retry_after_s
        now = self.now()
        left = [window.seconds_left(now) for window in self.windows if window.contains(now.time())]
        return max(left) if left else None

    def latency_s(self) -> float:
        """One sample of the added latency (seconds)."""
        median = self.settings.fault_latency_ms
        jitter = self.settings.fault_latency_jitter_ms
        distribution = self.settings.fault_latency_distribution
        if distribution == "uniform":
            sample = self.rng.uniform(max(0.0, median - jitter), median + jitter)
        elif distribution == "lognormal" and median > 0 and jitter > 0:
            # Median `median`, 99th percentile `median + jitter`.
            sample = self.rng.lognormvariate(math.log(median), math.log((median + jitter) / median) / _Z99)
        else:
            sample = median
        return sample / 1000

    def draw(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def error(self, code: RspCode, status: int | None, retry_after: int, path: str) -> JSONResponse:
        """The answer for an injected error or outage, in this provider's code set (an RFC 6749 body on OAuth
        paths, when `fault_all_paths` reaches them)."""
        error = self.codes.error(StandardError(code, "injected fault"))
        status_code = status or error.status_code
        headers = {"Retry-After": str(retry_after)} if status_code in RETRY_AFTER_STATUSES else {}
        if path.startswith(_OAUTH_PREFIXES):
            name = "temporarily_unavailable" if status_code == 503 else "server_error"
            return JSONResponse(OAuthError(name, "injected fault").body(), status_code=status_code, headers=headers)
        return JSONResponse(error.body(), status_code=status_code, headers=headers)


class TruncatedResponse(httpx.RemoteProtocolError):
    """Raised by the middleware after it sent half of a response body under the full Content-Length: the server
    drops the connection, an in-process httpx client (ASGITransport) sees this exception itself."""


class FaultInjectionMiddleware:
    """Pure ASGI: refuse during outages, delay, answer injected errors and cut responses short (see the module
    docstring). Installed outside the x-api-tran-id middleware, so its own answers echo the id themselves."""

    def __init__(self, app: ASGIApp, *, injector: FaultInjector, new_tran_id: Callable[[], str]):
        self.app = app
        self.injector = injector
        self.new_tran_id = new_tran_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        injector = self.injector
        settings = injector.settings
        path: str = scope["path"]
        api_id = injector.api_of(path)
        if api_id is None and not settings.fault_all_paths:
            await self.app(scope, receive, send)
            return
        api = api_id or "other"
        tran_id = echoed_tran_id(_header(scope, TRAN_ID_HEADER), self.new_tran_id)

        retry_after = injector.outage_retry_after()
        if retry_after is not None:
            self._record("outage", api, tran_id, rsp_code=settings.fault_outage_code.value)
            response = injector.error(settings.fault_outage_code, settings.fault_outage_status, retry_after, path)
            await self._answer(response, tran_id, scope, receive, send)
            return

        delay = 0.0
        if settings.fault_latency_ms > 0 or settings.fault_latency_jitter_ms > 0:
            latency = injector.latency_s()
            if latency > 0:
                delay += latency
                self._record("latency", api, tran_id, ms=round(latency * 1000, 1))
        if settings.fault_slow_page_ms > 0:
            continuation, receive = await _is_continuation(scope, receive, settings.max_body_bytes)
            if continuation:
                delay += settings.fault_slow_page_ms / 1000
                self._record("slow_page", api, tran_id, ms=settings.fault_slow_page_ms)
        if delay > 0:
            await injector.sleep(delay)

        if injector.draw(settings.fault_error_rate):
            self._record("error", api, tran_id, rsp_code=settings.fault_error_code.value)
            response = injector.error(
                settings.fault_error_code, settings.fault_error_status, settings.fault_retry_after_s, path
            )
            await self._answer(response, tran_id, scope, receive, send)
            return

        if not injector.draw(settings.fault_truncate_rate):
            await self.app(scope, receive, send)
            return
        cutter = _BodyCutter(send)
        await self.app(scope, receive, cutter.send)
        if cutter.cut is not None:
            self._record("truncated", api, tran_id, sent=cutter.cut[0], length=cutter.cut[1])
            raise TruncatedResponse(
                f"injected fault: response cut after {cutter.cut[0]} of {cutter.cut[1]} bytes (connection dropped)"
            )

    def _record(self, kind: str, api: str, tran_id: str, **fields: Any) -> None:
        self.injector.counts[kind] += 1
        _logger.info("fault injected", fault=kind, api=api, tran_id=tran_id, **fields)

    @staticmethod
    async def _answer(response: JSONResponse, tran_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        response.headers[TRAN_ID_HEADER] = tran_id
        await response(scope, receive, send)


class _BodyCutter:
    """Holds back the response until its body is complete, then sends the start (Content-Length: the full
    length) and the first half of the body with `more_body` still set; `cut` is (bytes sent, full length).
    An empty body passes unchanged (nothing to cut)."""

    def __init__(self, send: Send):
        self._send = send
        self._start: Message | None = None
        self._chunks: list[bytes] = []
        self.cut: tuple[int, int] | None = None

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body" or self._start is None:
            await self._send(message)
            return
        self._chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(self._chunks)
        if not body:
            await self._send(self._start)
            await self._send(message)
            return
        headers = [(name, value) for name, value in self._start.get("headers", []) if name.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        sent = len(body) // 2
        await self._send({**self._start, "headers": headers})
        await self._send({"type": "http.response.body", "body": body[:sent], "more_body": True})
        self.cut = (sent, len(body))


async def _is_continuation(scope: Scope, receive: Receive, limit: int) -> tuple[bool, Receive]:
    """Whether the call asks for a further page (`next_page` in the query, or in a JSON body of at most `limit`
    bytes), and a `receive` that replays what was read."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if any(query.get("next_page", [])):
        return True, receive
    if scope.get("method") != "POST":
        return False, receive
    read: list[Message] = []
    size = 0
    while True:
        message = await receive()
        read.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False) or size > limit:
            break
    continuation = False
    if size <= limit and not read[-1].get("more_body", False):
        try:
            body = json.loads(b"".join(message.get("body", b"") for message in read))
        except ValueError:
            body = None
        continuation = isinstance(body, dict) and bool(body.get("next_page"))

    async def replay() -> Message:
        if read:
            return read.pop(0)
        return await receive()

    return continuation, replay


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None
