"""Politeness and robustness towards the services a client calls: rate limits, circuit breakers, retries.

A collector calls hundreds of institutions, each with its own published limits and its own bad days. Per
institution (the `key`) it

- waits for a rate limiter before each call (`TokenBucket` in one process, `RedisTokenBucket` when several worker
  processes must respect ONE limit between them), and pauses the key when the institution answers 429/503 with a
  Retry-After;
- asks a `CircuitBreaker` first, so an institution that keeps failing is left alone for a while instead of being
  hammered by every job, and is then probed by a single trial call;
- retries a failed call after a `Backoff` delay with full jitter, never sooner than a Retry-After asked.

Both rate limiters implement GCRA (the Generic Cell Rate Algorithm, ITU-T I.371), the exact equivalent of a token
bucket of `burst` tokens refilled at `rate_per_s` that keeps one time per key instead of a token count and the time
it was counted: the "theoretical arrival time" (TAT) at which the bucket would be full again. A call may go at time
t when t ≥ TAT − τ, where τ = (burst − 1)/rate, and it moves TAT one emission interval 1/rate later. In any window
of length W at most burst + rate·W calls are admitted.

After a pause the bucket restarts empty: one call at the end of the pause, then the steady rate. An institution
recovering from overload is not met by a burst from everyone who queued during the pause.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Literal, Protocol

import redis.exceptions

if TYPE_CHECKING:
    import redis.asyncio

Clock = Callable[[], float]
"""Monotonic seconds."""
Sleep = Callable[[float], Awaitable[None]]

OPEN_TIME_CAP_FACTOR = 8
"""A failed half-open trial doubles the breaker's open time, up to this multiple of `reset_timeout_s`."""


class RateLimiter(Protocol):
    async def acquire(self, key: str) -> float:
        """Wait until a call to `key` may go; returns the seconds waited."""
        ...

    async def pause(self, key: str, seconds: float) -> None:
        """Nobody may call `key` for `seconds` (the server's Retry-After on a 429 or 503)."""
        ...


class RateLimiterUnavailable(Exception):
    """The shared rate limiter's store (Redis) cannot be reached.

    Raised instead of the Redis client's own errors, so callers decide between waiting and failing the job
    without knowing which store backs the limiter. Nothing is admitted silently: an unreachable store never lets a
    call through unlimited.
    """


def _check_rate(rate_per_s: float, burst: int) -> tuple[float, int]:
    if not (math.isfinite(rate_per_s) and rate_per_s > 0):
        raise ValueError(f"rate_per_s must be a positive finite number, not {rate_per_s!r}")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(f"burst must be an integer of at least 1, not {burst!r}")
    return float(rate_per_s), burst


def _check_pause(seconds: float) -> float:
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"a pause must be a non-negative finite number of seconds, not {seconds!r}")
    return float(seconds)


class _Rates:
    """The default (rate, burst) and the per-key overrides, validated once."""

    def __init__(self, rate_per_s: float, burst: int, overrides: Mapping[str, tuple[float, int]] | None) -> None:
        self.default = _check_rate(rate_per_s, burst)
        self.overrides = {key: _check_rate(*value) for key, value in (overrides or {}).items()}

    def of(self, key: str) -> tuple[float, int]:
        return self.overrides.get(key, self.default)


@dataclass
class _Bucket:
    rate: float
    burst: int
    tat: float = -math.inf  # in the past: the bucket starts full
    blocked_until: float = -math.inf

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) / self.rate

    def reserve(self, now: float) -> tuple[float, float]:
        """Take the next free slot, possibly in the future; returns (when it is, TAT after it).

        Reserving lets the balance run ahead of the clock, so each concurrent waiter sleeps until its own slot
        instead of all waking at once and overdrawing the bucket.
        """
        start = max(now, self.tat - self.tolerance, self.blocked_until)
        self.tat = max(self.tat, start) + self.interval
        return start, self.tat

    def release(self, tat: float) -> None:
        """Give back a slot whose waiter gave up, if no later slot was handed out since (the common case of one
        waiter timing out); an earlier slot cannot be returned without moving everyone queued behind it."""
        if self.tat == tat:
            self.tat -= self.interval

    def pause(self, now: float, seconds: float) -> None:
        resume = now + seconds
        self.blocked_until = max(self.blocked_until, resume)
        # Empty at `resume`: one call then, the rest at the steady rate.
        self.tat = max(self.tat, resume + self.tolerance)

    def reconfigure(self, now: float, rate: float, burst: int) -> None:
        """Keep the tokens available now (negative while slots are reserved ahead) across a change of rate."""
        tokens = min(self.burst - max(0.0, self.tat - now) * self.rate, float(burst))
        self.rate, self.burst = rate, burst
        self.tat = now + (burst - tokens) / rate


class TokenBucket:
    """An in-process `RateLimiter`: one token bucket per key, for a single worker process."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rates: Mapping[str, tuple[float, int]] | None = None,
    ) -> None:
        self._rates = _Rates(rate_per_s, burst, rates)
        self._clock = clock
        self._sleep = sleep
        # One entry per key ever called: keys are institution codes (hundreds), so idle ones are not evicted.
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, key: str) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(*self._rates.of(key))
        return bucket

    def configure(self, key: str, rate_per_s: float, burst: int) -> None:
        rate, burst = _check_rate(rate_per_s, burst)
        self._rates.overrides[key] = (rate, burst)
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.reconfigure(self._clock(), rate, burst)

    async def acquire(self, key: str) -> float:
        started = self._clock()
        slept = False
        while True:
            bucket = self._bucket(key)
            slot, tat = bucket.reserve(self._clock())
            try:
                # A pause that lands while we sleep and ends after our slot voids the slot: take a new one after
                # the pause instead of calling an institution that just asked us to stop.
                while slot >= bucket.blocked_until:
                    now = self._clock()
                    if now >= slot:
                        return now - started if slept else 0.0
                    slept = True
                    await self._sleep(slot - now)
            except BaseException:
                bucket.release(tat)
                raise

    async def pause(self, key: str, seconds: float) -> None:
        self._bucket(key).pause(self._clock(), _check_pause(seconds))


# One script for both operations, so admission and pauses are atomic against each other. Times are microseconds
# of the Redis server's clock, the one clock every worker process shares. The hash holds `tat` and `blocked`; it
# expires once the bucket would be full again and unblocked, when it carries no information.
_GCRA_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = 1000000 / tonumber(ARGV[2])
local tolerance = (tonumber(ARGV[3]) - 1) * interval
local state = redis.call('HMGET', KEYS[1], 'tat', 'blocked')
local tat = tonumber(state[1]) or now
local blocked = tonumber(state[2]) or 0
if ARGV[1] == 'pause' then
  local resume = now + tonumber(ARGV[4])
  blocked = math.max(blocked, resume)
  tat = math.max(tat, resume + tolerance)
else
  local start = math.max(now, tat - tolerance, blocked)
  if start > now then
    return math.ceil((start - now) / 1000)
  end
  tat = math.max(tat, now) + interval
end
redis.call('HSET', KEYS[1], 'tat', string.format('%.17g', tat), 'blocked', string.format('%.17g', blocked))
local ttl = math.min(math.ceil((math.max(tat, blocked) - now) / 1000) + 1000, 9e15)
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', ttl))
return 0
"""


class RedisTokenBucket:
    """A `RateLimiter` shared through Redis: every process using the same Redis and prefix respects one limit per
    key.

    Every process must configure the same rates: they travel with each call rather than living in Redis, so that
    a changed setting applies at once without a migration of stored state.
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        rate_per_s: float,
        burst: int,
        *,
        prefix: str = "omd:rl:",
        rates: Mapping[str, tuple[float, int]] | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self._rates = _Rates(rate_per_s, burst, rates)
        self._prefix = prefix
        self._sleep = sleep
        self._clock = clock
        self._script = redis.register_script(_GCRA_SCRIPT)
        # The server admits whoever asks first once a token is due; one poller per key in this process keeps the
        # crowd at the server down to one coroutine per process, and lets local waiters go in arrival order.
        self._local: dict[str, asyncio.Lock] = {}

    def configure(self, key: str, rate_per_s: float, burst: int) -> None:
        self._rates.overrides[key] = _check_rate(rate_per_s, burst)

    async def _run(self, key: str, op: Literal["acquire", "pause"], pause_us: int = 0) -> int:
        rate, burst = self._rates.of(key)
        try:
            result = await self._script(keys=[self._prefix + key], args=[op, repr(rate), burst, pause_us])
        except redis.exceptions.RedisError as exc:
            raise RateLimiterUnavailable(f"rate limiter store unavailable: {exc}") from exc
        return int(result)

    async def acquire(self, key: str) -> float:
        started = self._clock()
        slept = False
        async with self._local.setdefault(key, asyncio.Lock()):
            while (wait_ms := await self._run(key, "acquire")) > 0:
                slept = True
                await self._sleep(wait_ms / 1000)
        return self._clock() - started if slept else 0.0

    async def pause(self, key: str, seconds: float) -> None:
        await self._run(key, "pause", math.ceil(_check_pause(seconds) * 1_000_000))


class CircuitOpen(Exception):
    """The breaker is open: the service failed repeatedly and is left alone until `retry_after_s` have passed."""

    def __init__(self, retry_after_s: float, name: str = "") -> None:
        # Both values in args, so the exception survives pickling (a job queue may carry it across processes).
        super().__init__(retry_after_s, name)
        self.retry_after_s = retry_after_s
        self.name = name

    def __str__(self) -> str:
        target = f" for {self.name}" if self.name else ""
        return f"circuit open{target}; next trial call in {self.retry_after_s:.1f} s"


class CircuitBreaker:
    """Stops calling a service after `failure_threshold` consecutive failures (Nygard, *Release It!*).

    closed → (threshold reached) → open for the open time → half-open: one trial call goes through, the others get
    `CircuitOpen` until it reports. Success closes the breaker; a failed trial opens it again for twice as long, up
    to 8 × `reset_timeout_s`, so a service that is down for hours is probed rarely. A trial that never reports (its
    caller was cancelled) holds the breaker for one open time; then another trial goes.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        clock: Clock = time.monotonic,
        name: str = "",
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, not {failure_threshold!r}")
        if not (math.isfinite(reset_timeout_s) and reset_timeout_s > 0):
            raise ValueError(f"reset_timeout_s must be a positive finite number, not {reset_timeout_s!r}")
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self.name = name
        self._clock = clock
        self._failures = 0
        self._open_for = reset_timeout_s
        self._open_until: float | None = None  # None while closed
        self._trial_until: float | None = None  # set while a half-open trial is out

    @property
    def state(self) -> Literal["closed", "open", "half-open"]:
        if self._open_until is None:
            return "closed"
        return "open" if self._clock() < self._open_until else "half-open"

    @property
    def failures(self) -> int:
        """Consecutive failures counted while closed."""
        return self._failures

    @property
    def retry_after_s(self) -> float:
        if self._open_until is None:
            return 0.0
        now = self._clock()
        if now < self._open_until:
            return self._open_until - now
        if self._trial_until is not None and now < self._trial_until:
            return self._trial_until - now
        return 0.0

    def check(self) -> None:
        if self._open_until is None:
            return
        now = self._clock()
        if now >= self._open_until and (self._trial_until is None or now >= self._trial_until):
            self._trial_until = now + self._open_for
            return
        raise CircuitOpen(self.retry_after_s, self.name)

    def record_success(self) -> None:
        self._failures = 0
        self._open_for = self.reset_timeout_s
        self._open_until = self._trial_until = None

    def record_failure(self) -> None:
        now = self._clock()
        if self._open_until is None:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open_until = now + self._open_for
        elif now >= self._open_until:
            # Half-open: the trial failed.
            self._open_for = min(self._open_for * 2, self.reset_timeout_s * OPEN_TIME_CAP_FACTOR)
            self._open_until = now + self._open_for
            self._trial_until = None
        # While open, a late failure from a call admitted before the breaker opened changes nothing.


class Breakers:
    """One `CircuitBreaker` per key (institution), created on first use with the same options."""

    def __init__(self, *, failure_threshold: int = 5, reset_timeout_s: float = 30.0, clock: Clock = time.monotonic):
        # Fail on bad options now, not at the first call to some institution.
        CircuitBreaker(failure_threshold=failure_threshold, reset_timeout_s=reset_timeout_s, clock=clock)
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._breakers: dict[str, CircuitBreaker] = {}

    def get(self, key: str) -> CircuitBreaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = CircuitBreaker(
                failure_threshold=self.failure_threshold,
                reset_timeout_s=self.reset_timeout_s,
                clock=self._clock,
                name=key,
            )
        return breaker


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with full jitter ("Exponential Backoff And Jitter", AWS Architecture Blog, 2015):
    spreading retries uniformly over [0, cap] keeps many clients that failed together from retrying together."""

    base_s: float = 0.2
    max_s: float = 30.0
    max_attempts: int = 4
    """Total tries of one call, the first included."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.base_s) and self.base_s > 0):
            raise ValueError(f"base_s must be a positive finite number, not {self.base_s!r}")
        if not (math.isfinite(self.max_s) and self.max_s >= self.base_s):
            raise ValueError(f"max_s must be finite and at least base_s, not {self.max_s!r}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {self.max_attempts!r}")

    def cap(self, attempt: int) -> float:
        """The largest jittered delay after `attempt` failed tries."""
        if attempt < 1:
            raise ValueError(f"attempt counts failed tries and starts at 1, not {attempt!r}")
        # The exponent is bounded so that a huge attempt number reaches max_s instead of overflowing.
        return min(self.max_s, self.base_s * 2.0 ** min(attempt - 1, 1000))

    def delay(self, attempt: int, *, retry_after_s: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before the next try, `attempt` being the number of tries that failed so far.

        A server's Retry-After is a floor honoured in full, even beyond `max_s`: calling earlier than asked only
        earns another refusal. A caller with a deadline compares the delay with it and gives up or reschedules.
        """
        uniform = rng.uniform if rng is not None else random.uniform
        jittered = uniform(0.0, self.cap(attempt))
        if retry_after_s is not None and retry_after_s > jittered:
            return retry_after_s
        return jittered

    def should_retry(self, attempt: int) -> bool:
        return attempt < self.max_attempts


_DELAY_SECONDS = re.compile(r"[0-9]+")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (RFC 9110 §10.2.3), or None when absent or unusable.

    The value is either delay-seconds (a non-negative decimal integer) or an HTTP-date (IMF-fixdate, or the
    obsolete RFC 850 and asctime forms a recipient must accept, RFC 9110 §5.6.7); a date in the past means 0.
    """
    if value is None:
        return None
    value = value.strip()
    if _DELAY_SECONDS.fullmatch(value):
        try:
            return float(int(value))
        except (ValueError, OverflowError):  # beyond int's digit limit or a float's range
            return None
    try:
        moment = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError):
        return None
    # HTTP-dates are always UTC; parsedate gives a naive datetime for a "-0000" zone.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())
