"""Delivering one queued event to one agent's handler: rate limits, concurrency, one effect per event (receipts),
retries after 1, 2, 4, 8, 16 s (re-enqueued with a visibility delay), then a dead letter.

Handlers are plain functions ``handler(event) -> list[Effect] | None`` doing their store/integration work; the
effects they return are Durable Functions calls the queue function performs with its durable client.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from core import jsonsafe

from .catalog import CloudEvent
from .ledger import Ledger
from .throttle import Limits

log = logging.getLogger("shopdesk.events")


@dataclass
class StartOrchestration:
    name: str
    instance_id: str
    input: dict[str, Any]


@dataclass
class RaiseEvent:
    instance_id: str
    name: str
    data: dict[str, Any]
    # When no orchestration is waiting for the event, this runs instead (e.g. relay the reply directly).
    otherwise: Callable[[], None] | None = field(default=None, repr=False)


Effect = StartOrchestration | RaiseEvent
Handler = Callable[[CloudEvent], list[Effect] | None]


class InjectedFault(RuntimeError):
    """Raised before a handler runs when fault injection is on (benchmarks only)."""


class Dispatcher:
    def __init__(self, ledger: Ledger, limits: Limits, requeue: Callable[[str, CloudEvent, int], None], *,
                 retry_delays: tuple[int, ...] = (1, 2, 4, 8, 16), fault_rate: float = 0.0):
        self.ledger = ledger
        self.limits = limits
        self.requeue = requeue
        self.retry_delays = retry_delays
        self.fault_rate = fault_rate
        self._executors: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()

    def _in_agent_thread(self, agent: str, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Run ``fn`` on the agent's own threads (as many as its handlers may run at once): a handler admitted at
        its paced time starts then, instead of waiting behind the process's other work in the shared pool and
        running in a bunch with the handlers admitted after it."""
        with self._lock:
            executor = self._executors.get(agent)
            if executor is None:
                executor = self._executors[agent] = ThreadPoolExecutor(
                    self.limits.agent_concurrency, thread_name_prefix=f"events-{agent}")
        return asyncio.get_running_loop().run_in_executor(executor, functools.partial(fn, *args))

    async def deliver(self, agent: str, body: bytes | str, handler: Handler, client: Any = None, *,
                      message_id: str = "") -> list[str]:
        """Deliver a queue message: one CloudEvent (as Event Grid writes them) or a JSON array of CloudEvents (as
        the local publisher batches them). Returns each event's outcome: handled | duplicate | retried |
        dead_lettered. Raises only for a message that holds no valid CloudEvent (it can never succeed: the host
        moves it to the poison queue); the log names the message id and the reason, never the content."""
        try:
            raw = jsonsafe.loads(body)
            events = [CloudEvent.model_validate(item) for item in (raw if isinstance(raw, list) else [raw])]
        except (ValueError, ValidationError) as exc:
            reason = str(exc) if isinstance(exc, jsonsafe.JsonRejected) else "not a valid CloudEvent"
            log.error("event rejected by %s: %s (message id %s)", agent, reason, message_id or "-")
            raise ValueError("invalid CloudEvent") from None
        return list(await asyncio.gather(*(self.deliver_one(agent, event, handler, client) for event in events)))

    async def deliver_one(self, agent: str, event: CloudEvent, handler: Handler, client: Any = None) -> str:
        async with self.limits.semaphore(agent):
            await self.limits.admit(agent)  # paced when a handler slot is free, so handlers start at the rate
            try:
                effects = await self._in_agent_thread(agent, self._run, agent, event, handler)
                if effects is None:
                    self.ledger.count(event.tenant_id, "duplicates", f"duplicates.{agent}")
                    return "duplicate"
                for effect in effects:
                    await apply(effect, client)
            except Exception as exc:
                return await self._in_agent_thread(agent, self._failed, agent, event, exc)
            first = await self._in_agent_thread(agent, self.ledger.mark_handled, agent, event)
            self.ledger.count(event.tenant_id, "handled", f"handled.{agent}")
            log.debug("event handled agent=%s tenant=%s type=%s attempt=%d", agent, event.tenant_id, event.type,
                      event.deliveryattempt)
            return "handled" if first else "duplicate"

    def _run(self, agent: str, event: CloudEvent, handler: Handler) -> list[Effect] | None:
        """None when this agent already handled the event (receipt), else the handler's effects."""
        if self.ledger.handled(agent, event):
            return None
        if self.fault_rate and random.random() < self.fault_rate:
            raise InjectedFault("injected handler fault")
        return handler(event) or []

    def _failed(self, agent: str, event: CloudEvent, exc: Exception) -> str:
        attempt = event.deliveryattempt
        # Only the exception type is logged: messages may quote customer data.
        if attempt < len(self.retry_delays):
            delay = self.retry_delays[attempt]
            log.warning("event handler failed agent=%s tenant=%s type=%s error=%s: retry %d in %d s", agent,
                        event.tenant_id, event.type, type(exc).__name__, attempt + 1, delay)
            self.requeue(agent, event.model_copy(update={"deliveryattempt": attempt + 1}), delay)
            self.ledger.count(event.tenant_id, "retried", f"retried.{agent}")
            return "retried"
        log.error("event dead-lettered agent=%s tenant=%s type=%s error=%s after %d attempts", agent,
                  event.tenant_id, event.type, type(exc).__name__, attempt + 1)
        self.ledger.dead_letter(agent, event, type(exc).__name__)
        return "dead_lettered"


async def apply(effect: Effect, client: Any) -> None:
    if client is None:
        raise RuntimeError("this handler needs a durable client binding")
    status = await client.get_status(effect.instance_id)
    runtime = getattr(status, "runtime_status", None) if status else None
    runtime = getattr(runtime, "value", runtime)  # the SDK's enum, compared by value (core never imports it)
    active = ("Running", "Pending")
    if isinstance(effect, StartOrchestration):
        if runtime is None:  # deterministic instance ids: a second delivery finds the first orchestration
            await client.start_new(effect.name, effect.instance_id, effect.input)
        return
    if runtime in active:
        await client.raise_event(effect.instance_id, effect.name, effect.data)
    elif effect.otherwise is not None:
        await asyncio.to_thread(effect.otherwise)
