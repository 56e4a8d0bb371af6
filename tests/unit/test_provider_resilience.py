"""Retry policy and circuit breaker, without any network (fake clock, recorded sleeps)."""

from __future__ import annotations

import asyncio
import random

import pytest

from agentls.config import RetrySettings
from agentls.providers.base import FailureKind, ProviderFailure, Retrying, StreamEvent
from agentls.providers.resilience import CircuitBreaker, Resilience, RetryPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Harness:
    """A Resilience with recorded sleeps (that advance the fake clock) and a scripted attempt."""

    def __init__(self, **retry: float) -> None:
        settings = RetrySettings.model_validate(
            {"max_attempts": 4, "base_delay_s": 1.0, "max_delay_s": 30.0, "breaker_threshold": 3,
             "breaker_reset_s": 30.0, **retry})
        self.clock = Clock()
        self.sleeps: list[float] = []
        self.events: list[StreamEvent] = []
        self.calls = 0
        self.resilience = Resilience(settings, name="Test API", sleep=self.sleep, rng=random.Random(7),
                                     clock=self.clock)

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.clock.now += delay

    async def run(self, *outcomes: ProviderFailure | str | BaseException) -> str:
        script = list(outcomes)

        async def attempt(number: int) -> str:
            self.calls += 1
            outcome = script.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        return await self.resilience.run(attempt, self.events.append)


def fail(kind: FailureKind, retry_after: float | None = None) -> ProviderFailure:
    return ProviderFailure(f"Test API {kind} (detail)", kind=kind, retry_after=retry_after,
                           summary=f"Test API {kind}")


def test_backoff_is_full_jitter_under_a_capped_exponential() -> None:
    policy = RetryPolicy(RetrySettings.model_validate({"base_delay_s": 1.0, "max_delay_s": 5.0}),
                         random.Random(1))
    for retry, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0), (500, 5.0)]:
        delays = [policy.backoff(retry) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed step


def test_retry_after_is_honoured_up_to_max_delay_and_ignored_when_not_positive() -> None:
    policy = RetryPolicy(RetrySettings.model_validate({"base_delay_s": 1.0, "max_delay_s": 30.0}),
                         random.Random(1))
    assert policy.delay(fail("rate_limit", retry_after=12.5), 1) == 12.5
    assert policy.delay(fail("rate_limit", retry_after=30.0), 1) == 30.0
    assert policy.delay(fail("rate_limit", retry_after=31.0), 1) is None
    assert 0 <= (policy.delay(fail("rate_limit", retry_after=0), 1) or -1) <= 1.0
    assert 0 <= (policy.delay(fail("rate_limit", retry_after=-3), 2) or -1) <= 2.0


async def test_retries_then_succeeds_with_events() -> None:
    h = Harness()
    assert await h.run(fail("overloaded"), fail("server", retry_after=2.0), "ok") == "ok"
    assert h.calls == 3
    assert [type(e) for e in h.events] == [Retrying, Retrying]
    first, second = h.events
    assert isinstance(first, Retrying)
    assert isinstance(second, Retrying)
    assert (first.attempt, second.attempt) == (2, 3)
    assert second.delay_s == 2.0
    assert h.sleeps == [first.delay_s, 2.0]
    assert first.reason == "Test API overloaded (detail)"


async def test_attempts_exhausted_sums_up_in_one_line() -> None:
    h = Harness(max_attempts=3)
    with pytest.raises(ProviderFailure) as caught:
        await h.run(*[fail("rate_limit", retry_after=4.0)] * 3)
    failure = caught.value
    assert h.calls == 3
    assert h.sleeps == [4.0, 4.0]
    assert (failure.kind, failure.attempts, failure.retryable) == ("rate_limit", 3, True)
    assert str(failure) == "Test API rate_limit: gave up after 3 attempts over 8.0 s; try again later"
    assert "\n" not in str(failure)
    assert isinstance(failure.__cause__, ProviderFailure)


async def test_connection_failures_advise_checking_the_network() -> None:
    h = Harness(max_attempts=2)
    with pytest.raises(ProviderFailure, match=r"check the network connection and model\.base_url"):
        await h.run(fail("connection"), fail("connection"))


async def test_not_retryable_fails_at_once() -> None:
    h = Harness()
    with pytest.raises(ProviderFailure) as caught:
        await h.run(fail("bad_request"), "never")
    assert (h.calls, h.sleeps, h.events) == (1, [], [])
    assert str(caught.value) == "Test API bad_request (detail)"
    assert caught.value.attempts == 1


async def test_a_retry_after_longer_than_max_delay_fails_now_and_says_so() -> None:
    h = Harness(max_delay_s=30.0)
    with pytest.raises(ProviderFailure) as caught:
        await h.run(fail("rate_limit", retry_after=90.0), "never")
    assert h.calls == 1
    assert h.sleeps == []
    assert str(caught.value) == ("Test API rate_limit: the server asks to wait 90 s before retrying "
                                 "(more than model.retry.max_delay_s = 30 s); try again later")


async def test_other_exceptions_are_not_retried() -> None:
    h = Harness()
    with pytest.raises(KeyError):
        await h.run(KeyError("bug"), "never")
    assert h.calls == 1


async def test_cancellation_while_waiting_to_retry_propagates_without_another_attempt() -> None:
    settings = RetrySettings.model_validate({"base_delay_s": 5.0, "max_delay_s": 5.0})
    resilience = Resilience(settings, rng=random.Random(3))  # real asyncio.sleep
    calls = 0

    async def attempt(number: int) -> str:
        nonlocal calls
        calls += 1
        raise fail("overloaded", retry_after=5.0)

    task = asyncio.create_task(resilience.run(attempt))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1.0)
    assert calls == 1
    assert resilience.breaker.consecutive_failures == 0  # a cancelled turn does not count


async def test_breaker_opens_fails_fast_half_opens_and_closes() -> None:
    h = Harness(max_attempts=1, breaker_threshold=2, breaker_reset_s=30.0)
    for _ in range(2):
        with pytest.raises(ProviderFailure):
            await h.run(fail("overloaded"))
    assert h.resilience.breaker.state == "open"
    h.clock.now += 10
    with pytest.raises(ProviderFailure) as caught:
        await h.run("never")
    assert h.calls == 2  # no attempt
    failure = caught.value
    assert (failure.kind, failure.retryable, failure.attempts) == ("circuit_open", False, 0)
    assert str(failure) == ("Test API unavailable: 2 turns in a row failed (last: overloaded); "
                            "will try again in 20 s")

    h.clock.now += 20
    assert h.resilience.breaker.state == "half_open"  # type: ignore[comparison-overlap]  # the clock moved
    assert await h.run("ok") == "ok"
    assert h.resilience.breaker.state == "closed"
    assert h.resilience.breaker.consecutive_failures == 0


async def test_a_failed_trial_reopens_at_once() -> None:
    h = Harness(max_attempts=1, breaker_threshold=2, breaker_reset_s=5.0)
    for _ in range(2):
        with pytest.raises(ProviderFailure):
            await h.run(fail("server"))
    h.clock.now += 5
    with pytest.raises(ProviderFailure) as caught:
        await h.run(fail("connection"))
    assert caught.value.kind == "connection"  # the trial ran and failed
    assert h.resilience.breaker.state == "open"
    with pytest.raises(ProviderFailure, match=r"^Test API unavailable"):
        await h.run("never")


def test_half_open_lets_one_trial_through_at_a_time() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 5.0, name="Test API", clock=clock)
    breaker.record_failure(fail("overloaded"))
    clock.now += 6
    breaker.before_turn()  # the trial
    with pytest.raises(ProviderFailure, match="when the trial turn in progress ends"):
        breaker.before_turn()
    breaker.record_neutral()  # the trial was cancelled: the next turn may try
    breaker.before_turn()
    breaker.record_success()
    assert breaker.state == "closed"


async def test_request_and_credential_failures_neither_count_nor_reset() -> None:
    h = Harness(max_attempts=1, breaker_threshold=2)
    with pytest.raises(ProviderFailure):
        await h.run(fail("server"))
    kinds: list[FailureKind] = ["bad_request", "auth"]
    for kind in kinds:
        with pytest.raises(ProviderFailure):
            await h.run(fail(kind))
    assert h.resilience.breaker.consecutive_failures == 1
    assert await h.run("ok") == "ok"
    assert h.resilience.breaker.consecutive_failures == 0


async def test_use_breaker_false_bypasses_the_breaker() -> None:
    h = Harness(max_attempts=1, breaker_threshold=1)
    with pytest.raises(ProviderFailure):
        await h.run(fail("server"))
    assert h.resilience.breaker.state == "open"

    async def attempt(number: int) -> int:
        return 42

    assert await h.resilience.run(attempt, use_breaker=False) == 42
