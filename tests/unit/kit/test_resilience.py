from __future__ import annotations

import asyncio
import itertools
import math
import pickle
import random
import secrets
import socket
from collections.abc import AsyncIterator, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from tests.conftest import require_service

from openmydata.kit.resilience import (
    Backoff,
    Breakers,
    CircuitBreaker,
    CircuitOpen,
    RateLimiter,
    RateLimiterUnavailable,
    RedisTokenBucket,
    TokenBucket,
    parse_retry_after,
)

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
EPS = 1e-9


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class VirtualTime:
    """Simulated time for a group of tasks. `sleep` parks its caller; time moves on to the earliest parked sleeper
    only once every task is parked or finished, so everything due at one instant happens before the clock moves."""

    def __init__(self) -> None:
        self.now = 0.0
        self._parked: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        entry = (self.now + seconds, next(self._order), asyncio.get_running_loop().create_future())
        self._parked.append(entry)
        try:
            await entry[2]
        finally:
            if entry in self._parked:  # cancelled while parked
                self._parked.remove(entry)

    async def settle(self, tasks: list[asyncio.Task[Any]]) -> None:
        for _ in range(1000):
            if len(self._parked) == sum(not task.done() for task in tasks):
                return
            await asyncio.sleep(0)
        raise AssertionError("a task waits for something other than the virtual clock")

    async def run(self, *coros: Coroutine[Any, Any, Any]) -> list[Any]:
        tasks = [asyncio.create_task(coro) for coro in coros]
        while True:
            await self.settle(tasks)
            if all(task.done() for task in tasks):
                return [task.result() for task in tasks]
            entry = min(self._parked)
            self._parked.remove(entry)
            self.now = max(self.now, entry[0])
            entry[2].set_result(None)


def _bucket(vt: VirtualTime, rate: float, burst: int, **kwargs: Any) -> TokenBucket:
    return TokenBucket(rate, burst, clock=vt.clock, sleep=vt.sleep, **kwargs)


async def _admissions(vt: VirtualTime, limiter: RateLimiter, key: str, n: int) -> list[float]:
    """Start `n` concurrent acquirers now; the times at which they were admitted, in order."""
    times: list[float] = []

    async def call() -> float:
        waited = await limiter.acquire(key)
        times.append(vt.now)
        return waited

    start = vt.now
    waits = await vt.run(*(call() for _ in range(n)))
    assert sorted(waits) == [t - start for t in times]
    return times


class TestTokenBucket:
    async def test_burst_goes_at_once_then_calls_are_spaced_by_the_rate(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=2.0, burst=3)

        assert await _admissions(vt, bucket, "ORG", 6) == [0.0, 0.0, 0.0, 0.5, 1.0, 1.5]

    async def test_acquire_returns_the_seconds_waited(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=4.0, burst=1)

        assert await vt.run(bucket.acquire("ORG"), bucket.acquire("ORG")) == [0.0, 0.25]

    async def test_an_idle_bucket_refills_up_to_burst_only(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=2.0, burst=3)
        await _admissions(vt, bucket, "ORG", 3)
        vt.now = 100.0

        assert await _admissions(vt, bucket, "ORG", 4) == [100.0, 100.0, 100.0, 100.5]

    async def test_keys_are_limited_independently(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=1.0, burst=1)
        await _admissions(vt, bucket, "A", 1)

        assert await vt.run(bucket.acquire("B"), bucket.acquire("A")) == [0.0, 1.0]

    async def test_pause_blocks_the_key_then_resumes_at_the_steady_rate(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=2.0, burst=3)
        await bucket.pause("ORG", 10.0)

        # One call when the pause ends, not a burst: the institution has just said it is overloaded.
        assert await _admissions(vt, bucket, "ORG", 3) == [10.0, 10.5, 11.0]
        assert await _admissions(vt, bucket, "OTHER", 1) == [11.0]

    async def test_pause_landing_while_calls_wait_moves_them_after_the_pause(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=1.0, burst=1)
        admitted: list[float] = []

        async def call() -> None:
            await bucket.acquire("ORG")
            admitted.append(vt.now)

        async def told_to_wait() -> None:
            await vt.sleep(0.5)  # a 429 arrives while two calls wait for slots at t=1 and t=2
            await bucket.pause("ORG", 5.0)

        await vt.run(call(), call(), call(), told_to_wait())

        assert admitted == [0.0, 5.5, 6.5]

    async def test_a_shorter_pause_does_not_cut_a_longer_one(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=10.0, burst=5)
        await bucket.pause("ORG", 10.0)
        await bucket.pause("ORG", 2.0)
        await bucket.pause("ORG", 0.0)

        assert await _admissions(vt, bucket, "ORG", 1) == [10.0]

    async def test_a_pause_holds_when_the_rate_is_raised_during_it(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=0.1, burst=1)
        await bucket.pause("ORG", 60.0)

        bucket.configure("ORG", 10.0, 1)

        assert await _admissions(vt, bucket, "ORG", 2) == pytest.approx([60.0, 60.1])

    @pytest.mark.parametrize("seconds", [-1.0, math.nan, math.inf])
    async def test_pause_rejects_a_meaningless_duration(self, seconds: float) -> None:
        bucket = _bucket(VirtualTime(), rate=1.0, burst=1)
        with pytest.raises(ValueError, match="pause"):
            await bucket.pause("ORG", seconds)

    async def test_per_key_rates_override_the_default(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=10.0, burst=5, rates={"SLOW": (1.0, 1)})

        assert await _admissions(vt, bucket, "SLOW", 3) == [0.0, 1.0, 2.0]
        vt.now = 10.0
        assert await _admissions(vt, bucket, "FAST", 6) == pytest.approx([10.0] * 5 + [10.1])

    async def test_configure_changes_a_key_in_use_and_keeps_its_balance(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=10.0, burst=2)
        await _admissions(vt, bucket, "ORG", 2)  # the bucket is now empty

        bucket.configure("ORG", 1.0, 1)

        assert await _admissions(vt, bucket, "ORG", 2) == [1.0, 2.0]

    async def test_configure_a_key_not_called_yet(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=10.0, burst=5)

        bucket.configure("ORG", 0.5, 2)

        assert await _admissions(vt, bucket, "ORG", 3) == [0.0, 0.0, 2.0]

    async def test_a_waiter_that_gives_up_frees_its_slot(self) -> None:
        vt = VirtualTime()
        bucket = _bucket(vt, rate=1.0, burst=1)
        await bucket.acquire("ORG")
        waiter = asyncio.create_task(bucket.acquire("ORG"))  # holds the slot at t=1
        await vt.settle([waiter])

        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter

        assert await _admissions(vt, bucket, "ORG", 1) == [1.0]

    @pytest.mark.parametrize(
        ("rate", "burst", "message"),
        [(0.0, 1, "rate"), (-1.0, 1, "rate"), (math.inf, 1, "rate"), (math.nan, 1, "rate"), (1.0, 0, "burst")],
    )
    def test_rejects_meaningless_rates(self, rate: float, burst: int, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            TokenBucket(rate, burst)
        with pytest.raises(ValueError, match=message):
            TokenBucket(1.0, 1, rates={"ORG": (rate, burst)})
        with pytest.raises(ValueError, match=message):
            TokenBucket(1.0, 1).configure("ORG", rate, burst)

    @settings(deadline=None, max_examples=150)
    @given(
        rate=st.floats(0.2, 20.0),
        burst=st.integers(1, 8),
        # Arrivals and pauses crowd into a few seconds, so calls queue and pauses land on waiting calls.
        arrivals=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=40),
        pauses=st.lists(st.tuples(st.floats(0.0, 10.0), st.floats(0.0, 3.0)), max_size=3),
    )
    def test_no_window_admits_more_than_burst_plus_rate_times_its_length(
        self, rate: float, burst: int, arrivals: list[float], pauses: list[tuple[float, float]]
    ) -> None:
        async def simulate() -> list[tuple[float, float, float]]:
            vt = VirtualTime()
            bucket = _bucket(vt, rate, burst)

            async def call(at: float) -> tuple[float, float, float]:
                await vt.sleep(at)
                waited = await bucket.acquire("ORG")
                return at, waited, vt.now

            async def pause(at: float, seconds: float) -> None:
                await vt.sleep(at)
                await bucket.pause("ORG", seconds)

            results = await vt.run(*(call(at) for at in arrivals), *(pause(at, s) for at, s in pauses))
            return [r for r in results if r is not None]

        calls = asyncio.run(simulate())

        admitted = sorted(t for _, _, t in calls)
        for i, j in itertools.combinations_with_replacement(range(len(admitted)), 2):
            assert j - i + 1 <= burst + rate * (admitted[j] - admitted[i]) + EPS
        for at, seconds in pauses:
            assert not [t for t in admitted if at + EPS < t < at + seconds - EPS]
        for arrived, waited, at in calls:
            assert waited == pytest.approx(at - arrived, abs=EPS)


@pytest.fixture
async def redis_pair() -> AsyncIterator[tuple[Redis, Redis, str]]:
    """Two independent clients (as two worker processes would have) and a key prefix unique to the test."""
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    first, second = Redis(host=REDIS_HOST, port=REDIS_PORT), Redis(host=REDIS_HOST, port=REDIS_PORT)
    prefix = f"omd:test:rl:{secrets.token_hex(6)}:"
    try:
        yield first, second, prefix
    finally:
        async for key in first.scan_iter(match=prefix + "*"):
            await first.delete(key)
        await first.aclose()
        await second.aclose()


class ParkedSleep:
    """A sleep that records what it was asked and never returns: shows that a call was held back without waiting
    for it to be let through."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.called = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        self.called.set()
        await asyncio.get_running_loop().create_future()


async def _until_parked(sleeps: Sequence[ParkedSleep], tasks: Sequence[asyncio.Task[float]]) -> None:
    """Wait until each sleep holds a call back, or until every task has finished (a failure the caller reports)."""
    parked = asyncio.ensure_future(asyncio.gather(*(sleep.called.wait() for sleep in sleeps)))
    finished = asyncio.ensure_future(asyncio.wait(tasks))
    try:
        await asyncio.wait({parked, finished}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        parked.cancel()
        finished.cancel()
        await asyncio.gather(parked, finished, return_exceptions=True)


class TestRedisTokenBucket:
    async def test_burst_then_throttled(self, redis_pair: tuple[Redis, Redis, str]) -> None:
        client, _, prefix = redis_pair
        bucket = RedisTokenBucket(client, 50.0, 3, prefix=prefix)

        assert [await bucket.acquire("ORG") for _ in range(3)] == [0.0, 0.0, 0.0]
        assert await bucket.acquire("ORG") > 0

    async def test_two_instances_on_two_clients_share_one_limit(self, redis_pair: tuple[Redis, Redis, str]) -> None:
        first_client, second_client, prefix = redis_pair
        sleeps = ParkedSleep(), ParkedSleep()
        rate, burst = 0.01, 3  # one token per 100 s: nothing refills during the test
        buckets = [
            RedisTokenBucket(client, rate, burst, prefix=prefix, sleep=sleep)
            for client, sleep in zip((first_client, second_client), sleeps, strict=True)
        ]
        tasks = [asyncio.create_task(buckets[i % 2].acquire("ORG")) for i in range(8)]
        try:
            # Each instance has a call held back, as only `burst` calls can be admitted in all. Once both are
            # parked, no other call is at the server: the rest wait for their instance's poller.
            await _until_parked(sleeps, tasks)

            assert [t.result() for t in tasks if t.done()] == [0.0] * burst
            assert all(0 < asked <= 1 / rate for sleep in sleeps for asked in sleep.asked)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def test_a_pause_by_one_instance_holds_back_the_other(self, redis_pair: tuple[Redis, Redis, str]) -> None:
        first_client, second_client, prefix = redis_pair
        pausing = RedisTokenBucket(first_client, 1000.0, 1, prefix=prefix)
        parked = ParkedSleep()
        # A burst large enough to cover the pause in tokens must not shorten it.
        other = RedisTokenBucket(second_client, 1000.0, 100_000, prefix=prefix, sleep=parked)
        waiting = RedisTokenBucket(second_client, 1000.0, 10, prefix=prefix)

        await pausing.pause("ORG", 60.0)
        held = asyncio.create_task(other.acquire("ORG"))
        try:
            await _until_parked([parked], [held])
            assert not held.done()
            assert 0 < parked.asked[0] <= 60.0
        finally:
            held.cancel()
            await asyncio.gather(held, return_exceptions=True)

        await pausing.pause("SHORT", 0.05)
        assert await waiting.acquire("SHORT") > 0
        assert await waiting.acquire("UNPAUSED") == 0.0

    async def test_per_key_rates_and_configure(self, redis_pair: tuple[Redis, Redis, str]) -> None:
        client, _, prefix = redis_pair
        parked = ParkedSleep()
        bucket = RedisTokenBucket(client, 1000.0, 5, prefix=prefix, rates={"SLOW": (0.01, 1)}, sleep=parked)
        bucket.configure("LATER", 0.01, 2)

        assert [await bucket.acquire("FAST") for _ in range(5)] == [0.0] * 5
        for key, burst in (("SLOW", 1), ("LATER", 2)):
            assert [await bucket.acquire(key) for _ in range(burst)] == [0.0] * burst
            held = asyncio.create_task(bucket.acquire(key))
            try:
                await _until_parked([parked], [held])
                assert not held.done()
                assert 0 < parked.asked.pop() <= 100.0
                parked.called.clear()
            finally:
                held.cancel()
                await asyncio.gather(held, return_exceptions=True)

    async def test_state_expires_once_the_bucket_is_full_again(self, redis_pair: tuple[Redis, Redis, str]) -> None:
        client, _, prefix = redis_pair
        bucket = RedisTokenBucket(client, 2.0, 4, prefix=prefix)
        await bucket.acquire("ORG")

        # Refilling one token takes 0.5 s; the store keeps a second of margin on top.
        assert 0 < await client.pttl(prefix + "ORG") <= 1500
        await bucket.pause("ORG", 30.0)
        assert 30_000 < await client.pttl(prefix + "ORG") <= 30_000 + 1500 + 1000

    async def test_an_unreachable_store_raises_its_own_error(self) -> None:
        with socket.socket() as probe:  # a loopback port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = Redis(host="127.0.0.1", port=port, retry=Retry(NoBackoff(), 0))
        bucket = RedisTokenBucket(client, 1.0, 1)
        try:
            with pytest.raises(RateLimiterUnavailable):
                await bucket.acquire("ORG")
            with pytest.raises(RateLimiterUnavailable):
                await bucket.pause("ORG", 1.0)
        finally:
            await client.aclose()


class TestCircuitBreaker:
    def test_opens_after_the_threshold_of_consecutive_failures(self) -> None:
        clock = FakeClock()
        breaker = CircuitBreaker(failure_threshold=3, reset_timeout_s=30.0, clock=clock)
        for _ in range(2):
            breaker.check()
            breaker.record_failure()
        assert breaker.state == "closed"
        assert breaker.retry_after_s == 0.0

        breaker.record_failure()

        assert breaker.state == "open"
        clock.advance(10.0)
        with pytest.raises(CircuitOpen) as raised:
            breaker.check()
        assert raised.value.retry_after_s == 20.0
        assert breaker.retry_after_s == 20.0

    def test_a_success_resets_the_count(self) -> None:
        breaker = CircuitBreaker(failure_threshold=3, clock=FakeClock())
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
        breaker.record_failure()
        breaker.record_failure()

        assert breaker.state == "closed"
        assert breaker.failures == 2

    def test_half_open_lets_one_trial_through(self) -> None:
        clock = FakeClock()
        breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=30.0, clock=clock)
        breaker.record_failure()
        clock.advance(29.9)
        assert breaker.state == "open"
        clock.advance(0.1)
        assert breaker.state == "half-open"
        assert breaker.retry_after_s == 0.0

        breaker.check()  # the trial
        with pytest.raises(CircuitOpen) as raised:
            breaker.check()
        assert raised.value.retry_after_s == 30.0

    def test_a_successful_trial_closes(self) -> None:
        clock = FakeClock()
        breaker = CircuitBreaker(failure_threshold=2, reset_timeout_s=30.0, clock=clock)
        breaker.record_failure()
        breaker.record_failure()
        clock.advance(30.0)
        breaker.check()

        breaker.record_success()

        assert breaker.state == "closed"
        breaker.check()
        breaker.check()
        breaker.record_failure()
        assert breaker.state == "closed"  # the count starts again from zero

    def test_failed_trials_double_the_open_time_up_to_eight_times(self) -> None:
        clock = FakeClock()
        breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=10.0, clock=clock)
        breaker.record_failure()
        open_times = []
        for _ in range(5):
            open_times.append(breaker.retry_after_s)
            clock.advance(breaker.retry_after_s)
            breaker.check()
            assert breaker.retry_after_s == open_times[-1]  # how long the trial may take to report
            breaker.record_failure()
            assert breaker.state == "open"

        assert open_times == [10.0, 20.0, 40.0, 80.0, 80.0]
        assert breaker.retry_after_s == 80.0

        clock.advance(80.0)
        breaker.check()
        breaker.record_success()
        breaker.record_failure()
        assert breaker.retry_after_s == 10.0  # a success forgets the doubling

    def test_a_trial_that_never_reports_does_not_hold_the_breaker_forever(self) -> None:
        clock = FakeClock()
        breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=30.0, clock=clock)
        breaker.record_failure()
        clock.advance(30.0)
        breaker.check()  # this trial's caller is cancelled and never reports

        clock.advance(29.0)
        with pytest.raises(CircuitOpen):
            breaker.check()
        clock.advance(1.0)
        breaker.check()

    def test_a_late_failure_while_open_does_not_extend_it(self) -> None:
        clock = FakeClock()
        breaker = CircuitBreaker(failure_threshold=1, reset_timeout_s=30.0, clock=clock)
        breaker.record_failure()
        clock.advance(20.0)

        breaker.record_failure()  # a call admitted before the breaker opened

        assert breaker.retry_after_s == 10.0

    def test_circuit_open_names_the_service_and_survives_pickling(self) -> None:
        error = CircuitOpen(12.5, "ORG0001")

        copy = pickle.loads(pickle.dumps(error))

        assert (copy.retry_after_s, copy.name) == (12.5, "ORG0001")
        assert str(copy) == "circuit open for ORG0001; next trial call in 12.5 s"

    @pytest.mark.parametrize(("threshold", "timeout"), [(0, 30.0), (5, 0.0), (5, -1.0), (5, math.inf)])
    def test_rejects_meaningless_options(self, threshold: int, timeout: float) -> None:
        with pytest.raises(ValueError):
            CircuitBreaker(failure_threshold=threshold, reset_timeout_s=timeout)
        with pytest.raises(ValueError):
            Breakers(failure_threshold=threshold, reset_timeout_s=timeout)


class TestBreakers:
    def test_one_breaker_per_key_with_the_same_options(self) -> None:
        clock = FakeClock()
        breakers = Breakers(failure_threshold=2, reset_timeout_s=5.0, clock=clock)

        assert breakers.get("A") is breakers.get("A")
        breakers.get("A").record_failure()
        breakers.get("A").record_failure()

        assert breakers.get("A").state == "open"
        assert breakers.get("B").state == "closed"
        with pytest.raises(CircuitOpen, match="for A") as raised:
            breakers.get("A").check()
        assert raised.value.retry_after_s == 5.0


class TestBackoff:
    def test_caps_grow_exponentially_up_to_max(self) -> None:
        backoff = Backoff()

        assert [backoff.cap(attempt) for attempt in range(1, 10)] == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0]
        assert backoff.cap(10_000) == 30.0

    def test_full_jitter_spreads_over_the_whole_range(self) -> None:
        backoff = Backoff(base_s=1.0, max_s=8.0)
        rng = random.Random(7)

        delays = [backoff.delay(4, rng=rng) for _ in range(200)]

        assert min(delays) < 1.0
        assert max(delays) > 7.0

    @given(
        base=st.floats(0.001, 5.0),
        spread=st.floats(1.0, 100.0),
        attempt=st.integers(1, 3000),
        seed=st.integers(0, 2**32),
    )
    def test_delay_lies_between_zero_and_the_cap(self, base: float, spread: float, attempt: int, seed: int) -> None:
        backoff = Backoff(base_s=base, max_s=base * spread)

        delay = backoff.delay(attempt, rng=random.Random(seed))

        assert 0.0 <= delay <= backoff.cap(attempt) <= backoff.max_s
        assert backoff.cap(attempt) == min(backoff.max_s, base * 2.0 ** min(attempt - 1, 1000))

    @given(attempt=st.integers(1, 50), retry_after=st.floats(0.0, 1e6), seed=st.integers(0, 2**32))
    def test_a_retry_after_is_a_floor_honoured_in_full(self, attempt: int, retry_after: float, seed: int) -> None:
        backoff = Backoff()

        delay = backoff.delay(attempt, retry_after_s=retry_after, rng=random.Random(seed))

        assert delay >= retry_after
        assert delay <= max(retry_after, backoff.cap(attempt))

    def test_retry_after_beyond_max_is_not_cut(self) -> None:
        assert Backoff(max_s=30.0).delay(1, retry_after_s=120.0) == 120.0

    def test_should_retry_counts_the_first_try(self) -> None:
        backoff = Backoff(max_attempts=4)

        assert [backoff.should_retry(attempt) for attempt in range(1, 6)] == [True, True, True, False, False]
        assert not Backoff(max_attempts=1).should_retry(1)

    @pytest.mark.parametrize(
        "options",
        [{"base_s": 0.0}, {"base_s": -1.0}, {"base_s": 1.0, "max_s": 0.5}, {"max_s": math.inf}, {"max_attempts": 0}],
    )
    def test_rejects_meaningless_options(self, options: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            Backoff(**options)

    def test_attempts_count_from_one(self) -> None:
        with pytest.raises(ValueError, match="attempt"):
            Backoff().delay(0)


class TestParseRetryAfter:
    NOW = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)

    @pytest.mark.parametrize(("value", "seconds"), [("120", 120.0), ("0", 0.0), (" 5 ", 5.0), ("007", 7.0)])
    def test_delay_seconds(self, value: str, seconds: float) -> None:
        assert parse_retry_after(value) == seconds

    @pytest.mark.parametrize(
        "value",
        [
            "Wed, 21 Oct 2015 07:30:00 GMT",  # IMF-fixdate
            "Wednesday, 21-Oct-15 07:30:00 GMT",  # obsolete RFC 850 form
            "Wed Oct 21 07:30:00 2015",  # obsolete asctime form
        ],
    )
    def test_http_date_in_the_future(self, value: str) -> None:
        assert parse_retry_after(value, now=self.NOW) == 120.0

    def test_http_date_in_the_past_means_now(self) -> None:
        assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=self.NOW) == 0.0

    def test_http_date_against_the_real_clock(self) -> None:
        soon = datetime.now(UTC) + timedelta(hours=1)

        seconds = parse_retry_after(format_datetime(soon, usegmt=True))

        assert seconds is not None
        assert 0 < seconds <= 3600

    @pytest.mark.parametrize(
        "value", [None, "", "soon", "-5", "+5", "1.5", "1e3", "5 s", "١٢", "Wed, 32 Oct 2015 07:30:00 GMT"]
    )
    def test_unusable_values(self, value: str | None) -> None:
        assert parse_retry_after(value, now=self.NOW) is None

    @given(st.text())
    def test_never_raises_and_never_gives_a_negative_delay(self, value: str) -> None:
        seconds = parse_retry_after(value, now=self.NOW)

        assert seconds is None or (math.isfinite(seconds) and seconds >= 0)

    @given(st.integers(0, 10**12))
    def test_any_delay_seconds_round_trips(self, n: int) -> None:
        assert parse_retry_after(str(n)) == float(n)

    @given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)))
    def test_any_http_date_round_trips(self, moment: datetime) -> None:
        moment = moment.replace(microsecond=0)

        seconds = parse_retry_after(format_datetime(moment, usegmt=True), now=self.NOW)

        assert seconds == max(0.0, (moment - self.NOW).total_seconds())
