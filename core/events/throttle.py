"""Rate limits and concurrency for event handlers: a global and a per-agent token bucket (events per second) and
at most N handlers of one agent running at once. Limits hold per worker process; a scaled-out app multiplies
them by its instance count (cap instances with the Flex Consumption maximum instance count)."""

from __future__ import annotations

import asyncio
import threading
import time


class TokenBucket:
    """``reserve()`` takes a token now and says how long to wait before using it, so callers queue in order and
    the long-run rate never exceeds ``rate`` (bursts up to ``burst``)."""

    def __init__(self, rate: float, burst: float | None = None, clock=time.monotonic):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, rate / 10)
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        with self._lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            self.tokens -= 1
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class Limits:
    def __init__(self, global_rate: float, agent_rate: float, agent_concurrency: int):
        self.global_bucket = TokenBucket(global_rate)
        self.agent_rate = agent_rate
        self.agent_concurrency = agent_concurrency
        self._agents: dict[str, TokenBucket] = {}
        self._semaphores: dict[tuple[int, str], asyncio.Semaphore] = {}
        self._lock = threading.Lock()

    def _bucket(self, agent: str) -> TokenBucket:
        with self._lock:
            if agent not in self._agents:
                self._agents[agent] = TokenBucket(self.agent_rate)
            return self._agents[agent]

    def semaphore(self, agent: str) -> asyncio.Semaphore:
        key = (id(asyncio.get_running_loop()), agent)
        with self._lock:
            if key not in self._semaphores:
                self._semaphores[key] = asyncio.Semaphore(self.agent_concurrency)
            return self._semaphores[key]

    async def admit(self, agent: str) -> float:
        """Wait for both the global and the agent's rate; returns the seconds waited."""
        wait = max(self.global_bucket.reserve(), self._bucket(agent).reserve())
        if wait > 0:
            await asyncio.sleep(wait)
        return wait
