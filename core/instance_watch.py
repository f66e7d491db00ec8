"""Waiting for a Durable orchestration instance to change between two status reads.

A Durable client can only poll an instance's status. Where the backend can say when an instance changes (the local
host's engine installs its ``watch``), a wait ends as soon as what a status read shows of the instance changes, so a
waiting caller reads the status once per change instead of once per polling interval, however many callers wait;
the polling interval then only bounds a wait whose change notice never came. Elsewhere (Azure) the wait is a sleep
of the polling interval."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Watch = Callable[..., Awaitable[bool | None]]

#: Longest wait on a watched instance before its status is read again anyway. The local engine's notice cannot
#: be missed (a reader reads and starts waiting in one step of the loop that writes), so this only bounds an
#: unforeseen miss; a shorter bound would add reads that grow with the turn's wait, and so with load.
WATCH_FALLBACK_SECONDS = 2.0

_watch: Watch | None = None


def install(watch: Watch) -> None:
    """``watch(instance_id, timeout)`` returns when the instance changes (True), after ``timeout`` s (False), or
    at once with None when it cannot watch for this caller (who then polls)."""
    global _watch
    _watch = watch


def uninstall(watch: Watch | None = None) -> None:
    global _watch
    if watch is None or _watch == watch:
        _watch = None


async def wait(instance_id: str, poll_seconds: float, remaining_seconds: float, *, outcome_only: bool = False
               ) -> None:
    """Wait before reading ``instance_id``'s status again: until it changes where that is known, else a poll.
    With ``outcome_only``, a change that only shows the instance running (not its custom status, output or end)
    does not end the wait where the backend tells them apart."""
    if remaining_seconds <= 0:
        return
    if _watch is None:
        await asyncio.sleep(min(poll_seconds, remaining_seconds))
        return
    timeout = min(remaining_seconds, max(poll_seconds, WATCH_FALLBACK_SECONDS))
    watched = await (_watch(instance_id, timeout, outcome_only=True) if outcome_only else _watch(instance_id, timeout))
    if watched is None:
        await asyncio.sleep(min(poll_seconds, remaining_seconds))
