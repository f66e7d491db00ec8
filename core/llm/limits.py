"""Client-side protections per deployment and provider: a sliding-window rate limiter and a circuit breaker."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most ``per_minute`` calls in any 60 s window; ``acquire`` waits up to ``max_wait`` seconds for a slot."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.per_minute = per_minute
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def _wait_time(self, now: float) -> float:
        while self._calls and now - self._calls[0] >= 60.0:
            self._calls.popleft()
        if len(self._calls) < self.per_minute:
            return 0.0
        return 60.0 - (now - self._calls[0])

    def acquire(self, max_wait: float) -> bool:
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_time(now)
                if wait == 0.0:
                    self._calls.append(now)
                    return True
            if wait > max_wait:
                return False
            self._sleep(wait)
            max_wait -= wait


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` consecutive failures; after ``reset_seconds`` one trial call is
    let through (half-open): success closes the breaker, failure opens it again."""

    def __init__(self, failure_threshold: int = 5, reset_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_seconds:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half_open" and not self._trial_in_flight:
                self._trial_in_flight = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_in_flight = False
            if self._opened_at is not None or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
