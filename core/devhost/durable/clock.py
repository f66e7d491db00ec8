"""Clocks for the local durable engine.

`SystemClock` follows wall time. `VirtualClock` only moves when a test calls `advance()` or `set()`, so
durable timers and retry back-offs fire deterministically without real sleeping. Both hand out tz-aware UTC
datetimes; the engine stamps `OrchestratorStarted` events (and therefore `context.current_utc_datetime`)
with `clock.now()`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "VirtualClock", "as_utc"]


def as_utc(value: datetime) -> datetime:
    """Return `value` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@runtime_checkable
class Clock(Protocol):
    """What the engine needs from a clock."""

    def now(self) -> datetime:
        """Current time, tz-aware UTC."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once `now() >= when` (may return early; callers re-check)."""
        ...


class SystemClock:
    """Wall-clock time."""

    #: Upper bound of one real sleep, so a changed system clock is noticed reasonably soon.
    max_sleep_seconds: float = 30.0

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (as_utc(when) - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(min(delay, self.max_sleep_seconds))


class VirtualClock:
    """A clock that only moves when told to.

    `advance()`/`set()` must be called from the event-loop thread; sleepers whose deadline has been reached
    are woken immediately (in deadline order), so the engine's timer loop runs on the next loop iteration.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = as_utc(start) if start is not None else datetime(2024, 1, 1, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when` (never backwards: durable time is monotonic)."""
        when = as_utc(when)
        if when < self._now:
            raise ValueError(f"VirtualClock cannot go backwards ({when.isoformat()} < {self._now.isoformat()})")
        self._now = when
        self._wake()

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move forward by `seconds` (plus any `timedelta` keyword: minutes=, hours=, days=...)."""
        self.set(self._now + timedelta(seconds=seconds, **delta))
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        when = as_utc(when)
        if when <= self._now:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (when, future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def _wake(self) -> None:
        for when, future in sorted(self._sleepers, key=lambda item: item[0]):
            if when <= self._now and not future.done():
                future.set_result(None)
