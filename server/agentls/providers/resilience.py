"""Retries with capped, fully jittered exponential backoff, and a circuit breaker. Provider-agnostic.

Policy (``RetrySettings``):

- Only ``ProviderFailure``\\ s with ``retryable`` set are retried, up to ``max_attempts`` attempts
  in all. Anything else (a bad request, a missing key, a bug) propagates at once, and
  ``asyncio.CancelledError`` is never caught: a cancelled turn stops immediately, even mid-sleep.
- The wait before retry *n* (n = 1, 2, ...) is ``uniform(0, min(max_delay_s, base_delay_s * 2**(n-1)))``
  ("full jitter": concurrent clients that failed together do not retry together).
- A server's ``retry-after`` replaces the backoff and is honoured exactly when it is at most
  ``max_delay_s``. When it asks for more, the turn fails at once and says how long the server
  asked to wait: retrying sooner than asked only burns an attempt (and deepens a rate limit),
  and waiting longer than ``max_delay_s`` would silently exceed the wait the user configured.
  A ``retry-after`` of 0 or less is no hint at all: the backoff applies.

Circuit breaker, one per provider instance (so per server), counting *turns*, not attempts: after
``breaker_threshold`` consecutive turns that failed for a service reason (``SERVICE_KINDS``:
rate limit, overload, 5xx, network, timeout, broken stream) it opens, and turns fail fast with
kind ``circuit_open`` and no request for ``breaker_reset_s``. Then it is half-open: one trial turn
goes through (others still fail fast); its success closes the breaker, its failure re-opens it.
A successful turn always closes it. Failures that say nothing about the service's health (bad
request, auth) and cancelled turns neither count nor reset.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from agentls.config import RetrySettings
from agentls.providers.base import (
    SERVICE_KINDS,
    CircuitChanged,
    EventCallback,
    FailureKind,
    ProviderFailure,
    Retrying,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
BreakerState = Literal["closed", "open", "half_open"]

_ADVICE: dict[FailureKind, str] = {
    "connection": "check the network connection and model.base_url",
    "timeout": "try again later, or raise model.timeout_s",
}


def _seconds(value: float) -> str:
    """Whole seconds for people; sub-second waits (tests, tiny retry-after) keep a decimal or two."""
    if value >= 10:
        return f"{value:.0f} s"
    return f"{value:.2g} s" if value < 1 else f"{value:.1f} s"


class RetryPolicy:
    """How long to wait before each retry (see the module docstring)."""

    def __init__(self, settings: RetrySettings, rng: random.Random | None = None) -> None:
        self.max_attempts = settings.max_attempts
        self.base_delay_s = settings.base_delay_s
        self.max_delay_s = settings.max_delay_s
        self._rng = rng or random.Random()

    def backoff(self, retry: int) -> float:
        """The jittered wait before retry number ``retry`` (1 = the second attempt)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** min(retry - 1, 62))
        return self._rng.uniform(0.0, ceiling)

    def delay(self, failure: ProviderFailure, retry: int) -> float | None:
        """The wait before retry ``retry`` after ``failure``; None if the server asks for too long."""
        hint = failure.retry_after
        if hint is None or not math.isfinite(hint) or hint <= 0:
            return self.backoff(retry)
        return hint if hint <= self.max_delay_s else None


class CircuitBreaker:
    """Fails fast after repeated failed turns (see the module docstring). Not thread-safe: one
    event loop."""

    def __init__(self, threshold: int, reset_s: float, *, name: str = "model provider",
                 clock: Clock = time.monotonic) -> None:
        self.threshold = threshold
        self.reset_s = reset_s
        self.name = name
        self._clock = clock
        self._failures = 0
        self._last_kind: FailureKind | None = None
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        return "open" if self._clock() < self._opened_at + self.reset_s else "half_open"

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def before_turn(self) -> None:
        """Let a turn through, or raise ``ProviderFailure(kind="circuit_open")`` without a request."""
        state = self.state
        if state == "closed":
            return
        if state == "half_open" and not self._trial_running:
            self._trial_running = True
            log.info("%s: circuit half-open, trying one turn", self.name)
            return
        assert self._opened_at is not None
        remaining = max(0.0, self._opened_at + self.reset_s - self._clock())
        when = (f"will try again in {_seconds(remaining)}" if state == "open"
                else "will try again when the trial turn in progress ends")
        last = f" (last: {self._last_kind.replace('_', ' ')})" if self._last_kind else ""
        raise ProviderFailure(
            f"{self.name} unavailable: {self._failures} turns in a row failed{last}; {when}",
            kind="circuit_open",
            retryable=False,
            summary=f"{self.name} unavailable",
            attempts=0,
        )

    def record_success(self) -> bool:
        """Close the breaker; True when it was open or half-open."""
        was_open = self._opened_at is not None
        if was_open:
            log.info("%s: circuit closed", self.name)
        self._failures = 0
        self._last_kind = None
        self._opened_at = None
        self._trial_running = False
        return was_open

    def record_failure(self, failure: ProviderFailure) -> bool:
        """Count a failed turn if its kind says the service is unwell; release a trial either way. True
        when this failure opened (or re-opened) the breaker."""
        trial, self._trial_running = self._trial_running, False
        if failure.kind not in SERVICE_KINDS:
            return False
        self._failures += 1
        self._last_kind = failure.kind
        if trial or self._failures >= self.threshold:
            self._opened_at = self._clock()
            log.warning("%s: circuit open for %s after %d failed turns", self.name,
                        _seconds(self.reset_s), self._failures)
            return True
        return False

    def record_neutral(self) -> None:
        """A turn ended without telling anything about the service (cancelled): release a trial."""
        self._trial_running = False


class Resilience:
    """Runs attempts with retries behind a circuit breaker; one instance per provider instance."""

    def __init__(
        self,
        settings: RetrySettings,
        *,
        name: str = "model provider",
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.name = name
        self.policy = RetryPolicy(settings, rng)
        self.breaker = CircuitBreaker(settings.breaker_threshold, settings.breaker_reset_s, name=name,
                                      clock=clock)
        self._sleep = sleep
        self._clock = clock

    async def run(
        self,
        attempt: Callable[[int], Awaitable[T]],
        on_event: EventCallback | None = None,
        *,
        use_breaker: bool = True,
    ) -> T:
        """``await attempt(n)`` for n = 1, 2, ... until it returns, retrying retryable failures.

        Raises the last ``ProviderFailure`` (re-worded to sum up the attempts when there were
        several), or ``circuit_open`` without calling ``attempt``. ``Retrying`` events go to
        ``on_event`` before each wait, ``CircuitChanged`` when this turn opened or closed the breaker.
        """
        if not use_breaker:
            return await self._retry(attempt, on_event)
        self.breaker.before_turn()
        try:
            result = await self._retry(attempt, on_event)
        except ProviderFailure as failure:
            if self.breaker.record_failure(failure) and on_event is not None:
                on_event(CircuitChanged("open", self.breaker.consecutive_failures, failure.kind,
                                        self.breaker.reset_s))
            raise
        except BaseException:
            self.breaker.record_neutral()
            raise
        if self.breaker.record_success() and on_event is not None:
            on_event(CircuitChanged("closed"))
        return result

    async def _retry(self, attempt: Callable[[int], Awaitable[T]], on_event: EventCallback | None) -> T:
        started = self._clock()
        number = 1
        while True:
            try:
                return await attempt(number)
            except ProviderFailure as failure:
                failure.attempts = number
                if not failure.retryable:
                    raise
                elapsed = self._clock() - started
                if number >= self.policy.max_attempts:
                    if number == 1:
                        raise
                    raise self._gave_up(failure, number, elapsed) from failure
                delay = self.policy.delay(failure, number)
                if delay is None:
                    raise self._wait_too_long(failure, number) from failure
                log.warning("%s (attempt %d of %d); retrying in %.2f s", failure, number,
                            self.policy.max_attempts, delay)
                number += 1
                if on_event is not None:
                    on_event(Retrying(attempt=number, delay_s=delay, reason=str(failure), kind=failure.kind))
                await self._sleep(delay)

    def _gave_up(self, failure: ProviderFailure, attempts: int, elapsed: float) -> ProviderFailure:
        advice = _ADVICE.get(failure.kind, "try again later")
        message = f"{failure.summary}: gave up after {attempts} attempts over {_seconds(elapsed)}; {advice}"
        return _reworded(failure, message, attempts)

    def _wait_too_long(self, failure: ProviderFailure, attempts: int) -> ProviderFailure:
        assert failure.retry_after is not None
        return _reworded(
            failure,
            f"{failure.summary}: the server asks to wait {_seconds(failure.retry_after)} before "
            f"retrying (more than model.retry.max_delay_s = {_seconds(self.policy.max_delay_s)}); "
            "try again later",
            attempts,
        )


def _reworded(failure: ProviderFailure, message: str, attempts: int) -> ProviderFailure:
    return ProviderFailure(
        message,
        kind=failure.kind,
        retryable=failure.retryable,
        retry_after=failure.retry_after,
        status=failure.status,
        summary=failure.summary,
        attempts=attempts,
    )
