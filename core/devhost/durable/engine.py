"""Local Durable Functions engine: runs orchestrations through the Python SDK's own replay code.

Each *episode* takes the instance's pending inbox events, prepends an `OrchestratorStarted` stamped with the
clock, sends history + new events to the orchestrator (`handle(context)`, in a dedicated worker thread with no
event loop, so orchestrator code cannot reach the engine's I/O), and turns the returned actions into history
events and outstanding work, all committed in one SQLite transaction. Activities then run as asyncio tasks,
timers wait on the clock, and their completions land in the inbox for the next episode.

Semantics worth knowing (they mirror DTFx / the Durable extension):
- ids: leaf actions get sequence ids depth-first in the order the SDK yields them; the engine records each
  action's (type, name, id) and fails the instance with "Non-deterministic workflow detected" when a replay
  disagrees with what an earlier episode scheduled;
- retries (`call_*_with_retry`) are performed by the host: on failure `TaskFailed`, then a `TimerCreated`
  (firstRetryInterval), then a new `TaskScheduled`; after maxNumberOfAttempts one extra timer fires and the
  SDK surfaces the error. Because the SDK allocates these ids while it processes the failure/timer event, such
  an event is always the last new event of its episode and its ids come after that episode's new actions;
- `start_new` with the id of a terminal instance replaces it; with a Pending/Running/Suspended one it raises
  `InstanceAlreadyExistsError` (extension default `overridableExistingInstanceStates: NonRunningStates`),
  unless the engine was built with `overridable_existing_instance_states="AnyState"` (then it is replaced);
- continue-as-new starts a new execution with the new input; inbox events not yet applied go to the new
  execution (DTFx), and with `preserve_unprocessed_events=True` (default) raised events already in history
  that no `wait_for_external_event` consumed are carried over too;
- terminate does not cascade to sub-orchestrations (DTFx); a terminated child fails its parent's task;
- activities are at-least-once: work scheduled but not completed when the process dies runs again.

Order under load: the episodes waiting to run and the activities waiting for one of the
``max_concurrent_activities`` slots go oldest instance first (the order in which this engine first had work for
each instance), not in the order they became ready. When many turns arrive at once, the work of the turns that
came first is done first and they finish early, instead of every turn's next step queuing behind the first steps
of all the turns that came after it, which made every turn of a burst finish at about the same, late, time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .clock import Clock, SystemClock, as_utc
from .episode import Effects, EpisodeWriter
from .errors import FunctionNotFoundError, InstanceAlreadyExistsError, InstanceNotFoundError, InstanceStateError
from .history import EventType, event, format_timestamp, parse_timestamp
from .invoker import ActivityFailure, AppInvoker
from .replay import OrchestratorResult, build_context, parse_failure, parse_state
from .status import history_view, status_view
from .store import TERMINAL_STATUSES, DurableStore, InboxRow, InstanceRow

__all__ = ["DurableEngine"]

log = logging.getLogger(__name__)

@dataclass(order=True)
class _Timer:
    fire_at: datetime
    seq: int
    instance_id: str = field(compare=False)
    execution_id: str = field(compare=False)
    task_id: int = field(compare=False)


class PrioritySlots:
    """A semaphore of ``value`` slots on the event loop whose waiters are let in lowest ``priority`` first (then in
    arrival order), where :class:`asyncio.Semaphore` lets them in by arrival alone."""

    def __init__(self, value: int) -> None:
        if value < 1:
            raise ValueError("at least one slot")
        self._free = value
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0:  # a free slot means nobody waits: a release hands its slot to a waiter first
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrival), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over as the waiter was cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():  # a cancelled waiter's future is done: skip it
                future.set_result(None)
                return
        self._free += 1


class DurableEngine:
    """Runs orchestrations of one task hub on the current asyncio loop."""

    def __init__(
        self,
        store: DurableStore,
        invoker: AppInvoker,
        clock: Clock | None = None,
        task_hub: str | None = None,
        *,
        max_concurrent_activities: int = 16,
        sibling_wait_seconds: float = 0.02,
        fan_in_wait_seconds: float = 10.0,
        preserve_unprocessed_events: bool = True,
        overridable_existing_instance_states: str = "NonRunningStates",
    ) -> None:
        if overridable_existing_instance_states not in ("NonRunningStates", "AnyState"):
            raise ValueError("overridable_existing_instance_states must be 'NonRunningStates' or 'AnyState'")
        self.store = store
        self.invoker = invoker
        self.clock: Clock = clock or SystemClock()
        self.task_hub = task_hub or store.task_hub
        self._writer = EpisodeWriter(store, self.clock, preserve_unprocessed_events=preserve_unprocessed_events)
        self.overridable_existing_instance_states = overridable_existing_instance_states
        self._max_activities = max_concurrent_activities
        self._sibling_wait = sibling_wait_seconds
        self._fan_in_wait = fan_in_wait_seconds
        #: Per running instance: its execution and the task ids its orchestrator awaits all together (task_all).
        self._fan_in: dict[str, tuple[str, frozenset[int]]] = {}
        self._held: dict[str, asyncio.TimerHandle] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self._running = False
        self._ready: dict[str, None] = {}
        self._dispatch_wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._timers: list[_Timer] = []
        self._timer_seq = itertools.count()
        self._timers_changed = asyncio.Event()
        self._activity_tasks: dict[tuple[str, str, int], asyncio.Task[None]] = {}
        self._activity_slots: PrioritySlots | None = None
        #: Per instance with work in this engine: the order in which the engine first had work for it (its age).
        self._age: dict[str, int] = {}
        self._age_seq = itertools.count()
        self._episode_running = False
        self._background: list[asyncio.Task[None]] = []
        self._executor: ThreadPoolExecutor | None = None
        self._watchers: dict[str, list[tuple[asyncio.Future[None], bool]]] = {}
        #: What a status read last showed of each unfinished instance written by this engine (see _instance_written).
        self._views: dict[str, tuple[str, str | None, str | None]] = {}
        #: The instance whose orchestrator is running (one at a time), and whether its row was written meanwhile.
        self._episode_instance: str | None = None
        self._episode_instance_written = False
        store.on_instance_written = self._instance_written

    # ======================================================================================= lifecycle
    @property
    def running(self) -> bool:
        return self._running

    @property
    def preserve_unprocessed_events(self) -> bool:
        """Carry raised events no wait consumed over to the next execution on continue-as-new."""
        return self._writer.preserve_unprocessed_events

    @preserve_unprocessed_events.setter
    def preserve_unprocessed_events(self, value: bool) -> None:
        self._writer.preserve_unprocessed_events = value

    async def start(self) -> None:
        """Recover persisted state and start dispatching (idempotent)."""
        if self._running:
            return
        self.store.acquire_lease()  # RuntimeError if another engine dispatches this file
        self.loop = asyncio.get_running_loop()
        self._running = True
        # asyncio primitives bind to the loop that first uses them: make fresh ones for this loop
        self._dispatch_wake, self._timers_changed, self._changed = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="durable-orchestrator")
        self._activity_slots = PrioritySlots(self._max_activities)
        try:
            self._recover()
        except BaseException:
            await self.stop()
            raise
        self._background = [
            self.loop.create_task(self._dispatch_loop(), name="durable-dispatcher"),
            self.loop.create_task(self._timer_loop(), name="durable-timers"),
        ]

    async def stop(self) -> None:
        """Stop dispatching. Durable state stays in the store (the caller closes it); in-flight activities
        are cancelled and will run again when an engine is started on the same store."""
        if not self._running:
            return
        self._running = False
        tasks = [*self._background, *self._activity_tasks.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._background.clear()
        self._activity_tasks.clear()
        self._timers.clear()
        self._ready.clear()
        self._age.clear()
        for handle in self._held.values():
            handle.cancel()  # the completions are in the store's inbox: _recover queues them on the next start
        self._held.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        self.store.release_lease()
        self._notify()

    def _recover(self) -> None:
        """Re-dispatch outstanding work and queue instances with pending inbox events."""
        effects = Effects()
        with self.store.transaction():
            for work in self.store.list_work():
                inst = self.store.get_instance(work.instance_id)
                if inst is None or inst.is_terminal or inst.execution_id != work.execution_id:
                    self.store.take_work(work.instance_id, work.execution_id, work.task_id)
                    continue
                if work.kind == "activity":
                    effects.activities.append((work.instance_id, work.execution_id, work.task_id,
                                               work.payload["name"], work.payload.get("input")))
                elif work.kind == "timer":
                    effects.timers.append((work.instance_id, work.execution_id, work.task_id,
                                           parse_timestamp(work.payload["fire_at"])))
        effects.ready.update(self.store.instances_with_inbox())
        if effects.activities or effects.timers or effects.ready:
            log.info("durable engine %s: recovered %d activities, %d timers, %d instances with new events",
                     self.task_hub, len(effects.activities), len(effects.timers), len(effects.ready))
        self._apply(effects)

    # ======================================================================================= client API
    async def start_new(
        self,
        name: str,
        instance_id: str | None = None,
        input_json: str | None = None,
        *,
        version: str | None = None,
    ) -> str:
        """Schedule a new orchestration; `input_json` is the JSON text `context.get_input()` decodes.

        Returns the instance id (a new hex GUID when none is given)."""
        if not self.invoker.has_orchestrator(name):
            raise self.invoker.orchestrator_not_found(name)
        instance_id = instance_id or uuid.uuid4().hex
        self._writer.validate_instance_id(instance_id)
        effects = Effects()
        with self.store.transaction():
            existing = self.store.get_instance(instance_id)
            if existing is not None and not existing.is_terminal:
                if self.overridable_existing_instance_states != "AnyState":
                    raise InstanceAlreadyExistsError(
                        f"An orchestration with instance ID '{instance_id}' already exists and is in the "
                        f"'{existing.status}' state; only instances in a terminal state can be replaced."
                    )
            if existing is not None:
                self.store.clear_execution_data(instance_id)
            self._writer.create_instance(instance_id, name, input_json, version, None, effects)
        self._apply(effects)
        return instance_id

    async def raise_event(self, instance_id: str, event_name: str, data_json: str | None = None) -> None:
        """Deliver an external event; `data_json` is stored as the `EventRaised` Input (what the SDK
        decodes for `wait_for_external_event`). Events raised before anyone waits are kept in history and
        the SDK delivers them when the wait happens."""
        if not event_name:
            raise ValueError("event_name must be a non-empty string")
        inst = self.store.get_instance(instance_id)
        if inst is None:
            raise InstanceNotFoundError(f"No instance with ID '{instance_id}' found.")
        if inst.is_terminal:
            raise InstanceStateError(
                f"Instance with ID '{instance_id}' is gone: it is {inst.status}.", inst.status)
        with self.store.transaction():
            self.store.enqueue(instance_id, event(EventType.EventRaised, self.clock.now(), Name=event_name,
                                                  Input=data_json))
        self._apply(Effects(ready={instance_id}))

    async def terminate(self, instance_id: str, reason: str | None = None) -> None:
        """Terminate a non-terminal instance (output = reason). Outstanding work is forgotten (activities already
        running finish, as in Azure, but their results are ignored); sub-orchestrations keep running; a waiting
        parent sees the child fail."""
        effects = Effects()
        with self.store.transaction():
            inst = self._require(instance_id)
            if inst.is_terminal:
                raise InstanceStateError(
                    f"Instance with ID '{instance_id}' is already {inst.status}.", inst.status)
            now = self.clock.now()
            history = self.store.get_history(instance_id)
            if history:
                history.append(event(EventType.ExecutionTerminated, now, Input=json.dumps(reason)))
                self.store.set_history(instance_id, history)
            self.store.delete_work_for(instance_id)
            self._writer.drop_inbox(instance_id)
            inst.status, inst.output, inst.updated_at = "Terminated", json.dumps(reason), now
            self.store.put_instance(inst)
            self._writer.notify_parent(inst, ok=False, reason=f"Orchestration terminated: {reason}",
                                details=reason or "", effects=effects)
        self._apply(effects)

    async def suspend(self, instance_id: str, reason: str | None = None) -> None:
        """Pause episodes; events and activity results queue up until `resume`."""
        with self.store.transaction():
            inst = self._require(instance_id)
            if inst.is_terminal:
                raise InstanceStateError(f"Instance with ID '{instance_id}' is {inst.status}.", inst.status)
            if inst.status != "Suspended":
                inst.state["suspended_reason"] = reason
                inst.status, inst.updated_at = "Suspended", self.clock.now()
                self.store.put_instance(inst)
        self._notify()

    async def resume(self, instance_id: str, reason: str | None = None) -> None:
        with self.store.transaction():
            inst = self._require(instance_id)
            if inst.is_terminal:
                raise InstanceStateError(f"Instance with ID '{instance_id}' is {inst.status}.", inst.status)
            if inst.status == "Suspended":
                inst.state.pop("suspended_reason", None)
                inst.status = "Running" if self.store.get_history(instance_id) else "Pending"
                inst.updated_at = self.clock.now()
                self.store.put_instance(inst)
        self._apply(Effects(ready={instance_id}))

    async def restart(self, instance_id: str, restart_with_new_instance_id: bool = True) -> str:
        """Start the orchestration again with its (current execution's) input."""
        inst = self._require(instance_id)
        new_id = uuid.uuid4().hex if restart_with_new_instance_id else instance_id
        return await self.start_new(inst.name, new_id, inst.input, version=inst.version)

    async def get_status(
        self,
        instance_id: str,
        show_history: bool = False,
        show_input: bool = False,
        show_history_output: bool = False,
    ) -> dict[str, Any] | None:
        """Status in the Durable HTTP API shape (None when unknown)."""
        inst = self.store.get_instance(instance_id)
        if inst is None:
            return None
        status = status_view(inst, show_input)
        if show_history:
            status["history"] = history_view(self.store.get_history(instance_id), show_history_output)
        return status

    async def list_instances(
        self,
        runtime_status: Iterable[str] | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        instance_id_prefix: str | None = None,
        show_input: bool = False,
        top: int | None = None,
    ) -> list[dict[str, Any]]:
        rows = self.store.list_instances(statuses=runtime_status, created_from=created_from,
                                         created_to=created_to, prefix=instance_id_prefix, limit=top)
        return [status_view(row, show_input) for row in rows]

    async def purge(self, instance_id: str) -> int:
        """Delete a terminal instance and its history; returns the number of instances deleted."""
        inst = self.store.get_instance(instance_id)
        if inst is None:
            return 0
        if not inst.is_terminal:
            raise InstanceStateError(
                f"Only orchestrations in a terminal state can be purged, but the orchestration with instance "
                f"ID {instance_id} has status {inst.status}", inst.status)
        return 1 if self.store.delete_instance(instance_id) else 0

    async def purge_by(
        self,
        created_from: datetime,
        created_to: datetime | None = None,
        runtime_status: Iterable[str] | None = None,
    ) -> int:
        """Delete terminal instances created in the window (optionally only those statuses)."""
        wanted = set(runtime_status) & TERMINAL_STATUSES if runtime_status else TERMINAL_STATUSES
        rows = self.store.list_instances(statuses=sorted(wanted), created_from=created_from,
                                         created_to=created_to)
        with self.store.transaction():
            return sum(1 for row in rows if self.store.delete_instance(row.instance_id))

    async def wait_for_change(self, instance_id: str, timeout: float, *, outcome_only: bool = False) -> bool | None:
        """Wait until what a status read shows of the instance changes (runtime status, custom status, output) or
        it is deleted: True, or False after ``timeout`` seconds; None at once for a caller on another event loop,
        which must poll. A status reader waits here between reads instead of polling; the engine's own
        bookkeeping (an episode that changes none of these) does not wake it. With ``outcome_only`` only a change
        of the custom status or output, the end of the instance or its deletion wakes the reader (not a pending
        instance starting to run): a reader waiting for a result reads it once it is there."""
        loop = asyncio.get_running_loop()
        if loop is not self.loop:
            return None
        future: asyncio.Future[None] = loop.create_future()
        entry = (future, outcome_only)
        waiting = self._watchers.setdefault(instance_id, [])
        waiting.append(entry)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            if entry in waiting:
                waiting.remove(entry)
            if not waiting and self._watchers.get(instance_id) is waiting:
                del self._watchers[instance_id]

    def _instance_written(self, instance_id: str, view: tuple[str, str | None, str | None] | None) -> None:
        """The store wrote (``view``: status, custom status, output) or deleted (None) an instance's row."""
        if instance_id == self._episode_instance:
            self._episode_instance_written = True
        if view is None or view[0] in TERMINAL_STATUSES:
            self._views.pop(instance_id, None)
            self._fan_in.pop(instance_id, None)
            self._age.pop(instance_id, None)
            changed = outcome = True
        else:
            before = self._views.get(instance_id)
            changed = before != view
            outcome = (before[1:] if before is not None else (None, None)) != view[1:]
            self._views[instance_id] = view
        if not changed or instance_id not in self._watchers or self.loop is None:
            return
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        # Scheduled, so it runs after the writing transaction has committed; no self-pipe wake-up from the loop.
        (self.loop.call_soon if on_loop else self.loop.call_soon_threadsafe)(self._wake, instance_id, outcome)

    def _wake(self, instance_id: str, outcome: bool = True) -> None:
        for future, outcome_only in list(self._watchers.get(instance_id, ())):
            if (outcome or not outcome_only) and not future.done():
                future.set_result(None)

    # --------------------------------------------------------------------------------- test helpers
    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until nothing can progress without outside help (an event, the clock, a new start)."""
        if not self._running:
            raise RuntimeError("the durable engine is not started")
        await self._wait_until(self._is_idle, timeout, lambda: f"engine still busy: {self._busy_reason()}")

    async def wait_for(self, instance_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the instance is Completed, Failed or Terminated; returns its status (with input)."""

        def done() -> bool:
            inst = self.store.get_instance(instance_id)
            return inst is not None and inst.is_terminal

        def why() -> str:
            inst = self.store.get_instance(instance_id)
            return f"instance {instance_id!r} is {inst.status if inst else 'unknown'} after {timeout}s"

        await self._wait_until(done, timeout, why)
        status = await self.get_status(instance_id, show_input=True)
        assert status is not None
        return status

    async def _wait_until(self, predicate: Any, timeout: float, describe: Any) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            changed = self._changed
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(describe())
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                if not predicate():
                    raise TimeoutError(describe()) from None

    def _is_idle(self) -> bool:
        return not self._busy_reason()

    def _busy_reason(self) -> str:
        if self._ready:
            return f"instances ready to run: {list(self._ready)}"
        if self._held:
            return f"completions held for a running sibling activity: {list(self._held)}"
        if self._episode_running:
            return "an episode is running"
        if self._activity_tasks:
            return f"activities running: {list(self._activity_tasks)}"
        if self._timers and self._timers[0].fire_at <= self.clock.now():
            return "due timers not fired yet"
        return ""

    # ======================================================================================= internals
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _require(self, instance_id: str) -> InstanceRow:
        inst = self.store.get_instance(instance_id)
        if inst is None:
            raise InstanceNotFoundError(f"No instance with ID '{instance_id}' found.")
        return inst

    # ------------------------------------------------------------------------------ in-memory effects
    def _age_of(self, instance_id: str) -> int:
        """The instance's place in the engine's order of work: lower is older (see the module's docstring)."""
        age = self._age.get(instance_id)
        if age is None:
            age = self._age[instance_id] = next(self._age_seq)
        return age

    def _apply(self, effects: Effects) -> None:
        if self._running:
            for instance_id in effects.ready:
                self._age_of(instance_id)  # a new instance is younger than any the engine already works for
            for instance_id, execution_id, task_id, name, input_json in effects.activities:
                self._age_of(instance_id)  # recovered work has its age from here
                self._start_activity(instance_id, execution_id, task_id, name, input_json)
            for instance_id, execution_id, task_id, fire_at in effects.timers:
                heapq.heappush(self._timers, _Timer(as_utc(fire_at), next(self._timer_seq), instance_id,
                                                    execution_id, task_id))
            if effects.timers:
                self._timers_changed.set()
            for instance_id in effects.ready:
                self._ready.setdefault(instance_id, None)
            if effects.ready:
                self._dispatch_wake.set()
        self._notify()

    # ------------------------------------------------------------------------------ activities & timers
    def _start_activity(self, instance_id: str, execution_id: str, task_id: int, name: str,
                        input_json: str | None) -> None:
        key = (instance_id, execution_id, task_id)
        if key in self._activity_tasks:
            return
        assert self.loop is not None
        self._activity_tasks[key] = self.loop.create_task(
            self._run_activity(key, name, input_json), name=f"activity:{name}:{instance_id}:{task_id}")

    async def _run_activity(self, key: tuple[str, str, int], name: str, input_json: str | None) -> None:
        instance_id, execution_id, task_id = key
        try:
            slots = self._activity_slots
            assert slots is not None
            # An instance that ended meanwhile has no age left (and its result will be ignored): first, not kept.
            await slots.acquire(self._age.get(instance_id, -1))
            try:
                result = await self.invoker.call_activity(name, input_json)
                done = event(EventType.TaskCompleted, self.clock.now(), TaskScheduledId=task_id, Result=result)
            except ActivityFailure as failure:
                done = event(EventType.TaskFailed, self.clock.now(), TaskScheduledId=task_id,
                             Reason=failure.reason, Details=failure.details)
            finally:
                slots.release()
            if self._running:
                self._complete_work(instance_id, execution_id, task_id, done, activity=True)
        except asyncio.CancelledError:
            raise  # engine stopping or instance finished: the work item stays outstanding / is gone
        except Exception:
            log.exception("durable engine: recording the result of activity %s for %s failed", name, instance_id)
        finally:
            if self._activity_tasks.get(key) is asyncio.current_task():
                del self._activity_tasks[key]
            self._notify()

    def _complete_work(self, instance_id: str, execution_id: str, task_id: int, done: dict[str, Any], *,
                       activity: bool = False) -> None:
        """Record a completion in the inbox, once (a work item that is no longer outstanding is ignored)."""
        with self.store.transaction():
            if not self.store.take_work(instance_id, execution_id, task_id):
                return
            self.store.enqueue(instance_id, done, execution_id)
        if activity and self._sibling_wait > 0 and self._sibling_running(instance_id, execution_id, task_id):
            # A fan-out (task_all) cannot go on with one result: an episode now would replay the whole history
            # for nothing. Hold the completion until the running siblings complete, so they land in one episode,
            # as when DTFx fetches several messages for an instance at once: while a sibling the orchestrator
            # awaits together with this task runs (at most fan_in_wait; a failure is never held, since it ends a
            # task_all), else at most sibling_wait. Any other event for the instance releases it at once.
            if instance_id not in self._held:
                fan_in = self._fan_in.get(instance_id)
                awaited_together = (fan_in is not None and fan_in[0] == execution_id and task_id in fan_in[1]
                                    and done.get("EventType") == EventType.TaskCompleted)
                wait = self._fan_in_wait if awaited_together else self._sibling_wait
                assert self.loop is not None
                self._held[instance_id] = self.loop.call_later(wait, self._release, instance_id)
            return
        self._release(instance_id)

    def _sibling_running(self, instance_id: str, execution_id: str, task_id: int) -> bool:
        return any(key[0] == instance_id and key[1] == execution_id and key[2] != task_id
                   for key in self._activity_tasks)

    def _release(self, instance_id: str) -> None:
        held = self._held.pop(instance_id, None)
        if held is not None:
            held.cancel()
        self._apply(Effects(ready={instance_id}))

    async def _timer_loop(self) -> None:
        while True:
            self._timers_changed.clear()
            now = self.clock.now()
            while self._timers and self._timers[0].fire_at <= now:
                timer = heapq.heappop(self._timers)
                self._complete_work(timer.instance_id, timer.execution_id, timer.task_id, event(
                    EventType.TimerFired, now, TimerId=timer.task_id, FireAt=format_timestamp(timer.fire_at)))
            self._notify()
            waiters = [asyncio.ensure_future(self._timers_changed.wait())]
            if self._timers:
                waiters.append(asyncio.ensure_future(self.clock.sleep_until(self._timers[0].fire_at)))
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    # ------------------------------------------------------------------------------ episodes
    async def _dispatch_loop(self) -> None:
        while True:
            while not self._ready:
                self._dispatch_wake.clear()
                await self._dispatch_wake.wait()
            # Oldest instance first; no more are ready than turns in flight, so a scan costs less than a heap would.
            instance_id = min(self._ready, key=lambda ready: self._age.get(ready, -1))
            del self._ready[instance_id]
            self._episode_running = True
            try:
                await self._process(instance_id)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # an engine bug must not stall every other instance
                log.exception("durable engine: processing instance %s failed", instance_id)
                self._fail_on_engine_error(instance_id, exc)
            finally:
                self._episode_running = False
                self._notify()

    def _select_batch(self, inst: InstanceRow, history_empty: bool
                      ) -> tuple[list[InboxRow], list[InboxRow]]:
        """Inbox rows for the next episode, and stale rows (for an older execution) to delete."""
        rows = self.store.inbox_for(inst.instance_id)
        stale = [r for r in rows if r.execution_id not in (None, inst.execution_id)]
        live = [r for r in rows if r.execution_id in (None, inst.execution_id)]
        starts = [r for r in live if r.event["EventType"] == EventType.ExecutionStarted]
        if history_empty:
            if not starts:
                return [], stale
            live = [starts[0]] + [r for r in live if r.event["EventType"] != EventType.ExecutionStarted]
            stale += starts[1:]
        else:
            stale += starts
            live = [r for r in live if r.event["EventType"] != EventType.ExecutionStarted]
        batch: list[InboxRow] = []
        for row in live:
            batch.append(row)
            if self._writer.is_retry_event(inst.state, row.event):
                break  # the SDK allocates retry ids while processing this event: it must come last
        return batch, stale

    async def _process(self, instance_id: str) -> None:
        inst = self.store.get_instance(instance_id)
        if inst is None or inst.is_terminal:
            with self.store.transaction():
                self._writer.drop_inbox(instance_id)  # DTFx discards messages to finished instances
            return
        if inst.status == "Suspended":
            return
        past = self.store.get_history(instance_id)
        batch, stale = self._select_batch(inst, history_empty=not past)
        if stale:
            with self.store.transaction():
                self.store.delete_inbox(r.seq for r in stale)
        if not batch:
            return
        now = self.clock.now()
        new_events: list[dict[str, Any]] = [event(EventType.OrchestratorStarted, now)]
        for row in batch:
            ev = dict(row.event)
            carry = ev.pop("_carry", None) or []
            new_events.append(ev)
            new_events.extend(carry)
        context_json = build_context(instance_id=instance_id, parent_instance_id=inst.parent_instance_id,
                                     input_json=inst.input, past_events=past, new_events=new_events,
                                     past_texts=self.store.history_texts(instance_id, past))
        assert self.loop is not None and self._executor is not None
        self._episode_instance, self._episode_instance_written = instance_id, False
        try:
            result = await self.loop.run_in_executor(self._executor, self._run_orchestrator, inst.name,
                                                     context_json)
        finally:
            self._episode_instance = None
        # Unless the instance was written while the orchestrator ran (terminated, suspended, replaced), its row is
        # still the one read above.
        current = self.store.get_instance(instance_id) if self._episode_instance_written else inst
        if (current is None or current.execution_id != inst.execution_id or current.status != inst.status
                or not self.store.inbox_exists(r.seq for r in batch)):
            # terminated / suspended / replaced while the orchestrator ran: discard and re-evaluate
            self._apply(Effects(ready={instance_id}))
            return
        effects = Effects()
        with self.store.transaction():
            self.store.delete_inbox(r.seq for r in batch)
            self._writer.commit(inst, past, new_events, result, now, effects)
            if len(self.store.inbox_for(instance_id)) > 0:
                effects.ready.add(instance_id)
        self._note_fan_in(inst, result)
        self._apply(effects)

    def _note_fan_in(self, inst: InstanceRow, result: OrchestratorResult) -> None:
        """Remember which tasks the orchestrator now awaits all together (the last leaves it scheduled)."""
        together = result.awaiting_all
        if inst.status != "Running" or together < 2:
            self._fan_in.pop(inst.instance_id, None)
            return
        seqs = frozenset(seq for _, _, seq in inst.state["actions"][-together:] if seq is not None)
        self._fan_in[inst.instance_id] = (inst.execution_id, seqs)

    def _run_orchestrator(self, name: str, context_json: str) -> OrchestratorResult:
        """Runs in the orchestrator thread: JSON in, parsed state out (never raises)."""
        try:
            raw = self.invoker.call_orchestrator(name, context_json)
        except FunctionNotFoundError as exc:
            return OrchestratorResult(done=False, error=str(exc))
        except Exception as exc:  # the SDK reports orchestrator failures by raising
            return parse_failure(exc)
        try:
            return parse_state(raw)
        except Exception as exc:
            return OrchestratorResult(done=False, error=f"the orchestrator returned an invalid state: {exc}")

    def _fail_on_engine_error(self, instance_id: str, exc: Exception) -> None:
        try:
            effects = Effects()
            with self.store.transaction():
                inst = self.store.get_instance(instance_id)
                if inst is None or inst.is_terminal:
                    return
                history = self.store.get_history(instance_id)
                inst.updated_at = self.clock.now()
                self._writer.finish(inst, history, inst.updated_at, ok=False, effects=effects,
                             error=f"local durable engine error: {type(exc).__name__}: {exc}")
            self._apply(effects)
        except Exception:
            log.exception("durable engine: could not mark instance %s as failed", instance_id)

    # ------------------------------------------------------------------------------ status views

