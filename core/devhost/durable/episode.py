"""One episode's durable effects, written inside the caller's SQLite transaction.

`EpisodeWriter.commit` turns the SDK's answer into history events (TaskScheduled, TimerCreated,
SubOrchestrationInstanceCreated, OrchestratorCompleted, ExecutionCompleted), outstanding work rows, child
instances, parent notifications and the instance's new status; it returns nothing and records what must happen
in memory after the commit (start activities, arm timers, run instances) in an `Effects`.

Per-execution bookkeeping kept in `instances.state` (see `fresh_state`) makes replays checkable and retries
possible: every leaf action seen with its sequence id, the SDK's next sequence number, and retry chains.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock
from .history import EventType, event, format_timestamp, parse_timestamp
from .replay import ActionType, OrchestratorResult, action_name, check_determinism, takes_sequence_number
from .store import DurableStore, InstanceRow

__all__ = ["Effects", "EpisodeWriter", "fresh_state"]

log = logging.getLogger(__name__.rpartition(".")[0] + ".engine")

_INVALID_ID = re.compile(r"[/\\#?\x00-\x1f\x7f]")
_RETRY_EVENTS = {EventType.TaskFailed, EventType.SubOrchestrationInstanceFailed, EventType.TimerFired}


def fresh_state() -> dict[str, Any]:
    """Per-execution bookkeeping stored with the instance.

    actions: [[actionType, name, sequenceId|None], ...] for every leaf action seen, in SDK order;
    next_id: the SDK's next sequence number; chains: retry chains keyed by their first task id (without the
    input: a retry reads it from the history event that scheduled the first attempt, so this state, which
    every status read decodes, stays small); retry_tasks / retry_timers: task id / timer id -> chain key.
    """
    return {"next_id": 0, "actions": [], "chains": {}, "retry_tasks": {}, "retry_timers": {}}


@dataclass
class Effects:
    """What to do in memory once a transaction has committed."""

    activities: list[tuple[str, str, int, str, str | None]] = field(default_factory=list)
    timers: list[tuple[str, str, int, datetime]] = field(default_factory=list)  # instance, execution, id, fire_at
    ready: set[str] = field(default_factory=set)


_SCHEDULING_EVENTS = (EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated)


def _scheduled_input(history: list[dict[str, Any]], task_id: int) -> str | None:
    """The input of the task (or sub-orchestration) scheduled with `task_id` in this execution's history."""
    for ev in history:
        if ev.get("EventId") == task_id and ev.get("EventType") in _SCHEDULING_EVENTS:
            return ev.get("Input")
    raise LookupError(f"no scheduling event with id {task_id} in the history")


class EpisodeWriter:
    """Writes episodes and instance lifecycle changes to the store (always inside a transaction)."""

    def __init__(self, store: DurableStore, clock: Clock, *, preserve_unprocessed_events: bool = True) -> None:
        self.store = store
        self.clock = clock
        self.preserve_unprocessed_events = preserve_unprocessed_events

    @staticmethod
    def validate_instance_id(instance_id: str) -> None:
        if not instance_id or len(instance_id) > 256 or _INVALID_ID.search(instance_id):
            raise ValueError(
                f"Invalid instance ID {instance_id!r}: it must be 1-256 characters without '/', '\\', '#', "
                "'?' or control characters."
            )

    @staticmethod
    def is_retry_event(state: dict[str, Any], ev: dict[str, Any]) -> bool:
        kind = ev.get("EventType")
        if kind not in _RETRY_EVENTS:
            return False
        if kind == EventType.TimerFired:
            return str(ev.get("TimerId")) in state["retry_timers"]
        return str(ev.get("TaskScheduledId")) in state["retry_tasks"]

    def drop_inbox(self, instance_id: str) -> None:
        self.store.delete_inbox(row.seq for row in self.store.inbox_for(instance_id))

    def create_instance(
        self,
        instance_id: str,
        name: str,
        input_json: str | None,
        version: str | None,
        parent: tuple[InstanceRow, int] | None,
        effects: Effects,
    ) -> InstanceRow:
        now = self.clock.now()
        execution_id = uuid.uuid4().hex
        inst = InstanceRow(
            instance_id=instance_id, name=name, execution_id=execution_id, status="Pending", created_at=now,
            updated_at=now, input=input_json, version=version, state=fresh_state(),
        )
        started = self._execution_started(inst, now)
        if parent is not None:
            parent_inst, task_id = parent
            inst.parent_instance_id = parent_inst.instance_id
            inst.parent_execution_id = parent_inst.execution_id
            inst.parent_task_id = task_id
            started["ParentInstance"] = {
                "Name": parent_inst.name, "TaskScheduleId": task_id,
                "OrchestrationInstance": {"InstanceId": parent_inst.instance_id,
                                          "ExecutionId": parent_inst.execution_id},
            }
        self.store.put_instance(inst)
        self.store.enqueue(instance_id, started, execution_id)
        effects.ready.add(instance_id)
        return inst

    @staticmethod
    def _execution_started(inst: InstanceRow, now: datetime, carry: list[dict[str, Any]] | None = None
                           ) -> dict[str, Any]:
        started = event(
            EventType.ExecutionStarted, now, Name=inst.name, Input=inst.input, Version=inst.version,
            OrchestrationInstance={"InstanceId": inst.instance_id, "ExecutionId": inst.execution_id},
        )
        if carry:
            started["_carry"] = carry
        return started

    def commit(self, inst: InstanceRow, past: list[dict[str, Any]], new_events: list[dict[str, Any]],
                        result: OrchestratorResult, now: datetime, effects: Effects) -> None:
        """Turn one episode's result into history, status and work (inside the caller's transaction)."""
        state = json.loads(json.dumps(inst.state))  # plain JSON, as stored: copied in about half deepcopy's time
        history = past + new_events
        actions = result.actions
        # A replay that diverges from history is reported as such even when the changed code then raised;
        # an orchestrator that failed before yielding anything keeps its own error.
        divergence = check_determinism(state["actions"], actions) if actions or result.error is None else None
        error = divergence or result.error
        new_actions = actions[len(state["actions"]):]
        if error is None:
            for action in new_actions:
                unsupported = ActionType.UNSUPPORTED.get(action.get("actionType"))
                if unsupported:
                    error = (f"{unsupported} is not supported by the local durable engine "
                             "(core.devhost.durable); run this orchestration on Azure.")
                    break
        inst.custom_status = json.dumps(result.custom_status) if result.custom_status is not None else None
        inst.updated_at = now
        if error is not None:
            self.finish(inst, history, now, ok=False, error=error, effects=effects)
            return
        continue_as_new = next((a for a in actions if a.get("actionType") == ActionType.CONTINUE_AS_NEW), None)
        if result.done and continue_as_new is not None:
            self._continue_as_new(inst, history, actions, continue_as_new, now, effects)
            return
        if result.done:
            self.finish(inst, history, now, ok=True, output=result.output, effects=effects)
            return

        # still running: schedule what is new, cancel timers the orchestrator cancelled, handle retries
        for action in new_actions:
            action_type = action.get("actionType")
            seq: int | None = None
            if takes_sequence_number(action_type):
                seq = state["next_id"]
                state["next_id"] += 1
            state["actions"].append([action_type, action_name(action), seq])
            if seq is not None:
                self._schedule(inst, state, action, seq, history, now, effects)
        for index, (action_type, _, seq) in enumerate(state["actions"]):
            if (action_type == ActionType.CREATE_TIMER and seq is not None and index < len(actions)
                    and actions[index].get("isCanceled")):
                self.store.take_work(inst.instance_id, inst.execution_id, seq)
        self._handle_retry_event(inst, state, new_events[-1], history, now, effects)
        history.append(event(EventType.OrchestratorCompleted, now))
        inst.status = "Running"
        inst.state = state
        self.store.set_history(inst.instance_id, history)
        self.store.put_instance(inst)

    def _schedule(self, inst: InstanceRow, state: dict[str, Any], action: dict[str, Any], seq: int,
                  history: list[dict[str, Any]], now: datetime, effects: Effects) -> None:
        action_type = action["actionType"]
        if action_type in ActionType.ACTIVITY:
            self._schedule_activity(inst, action["functionName"], action.get("input"), seq, history, now, effects)
        elif action_type in ActionType.SUB_ORCHESTRATOR:
            self._schedule_sub_orchestration(inst, action["functionName"], action.get("input"),
                                             action.get("instanceId"), action.get("version"), seq, history,
                                             now, effects)
        elif action_type == ActionType.CREATE_TIMER:
            fire_at = parse_timestamp(action["fireAt"])
            history.append(event(EventType.TimerCreated, now, seq, FireAt=format_timestamp(fire_at)))
            if not action.get("isCanceled"):
                self._schedule_timer(inst, seq, fire_at, effects)
            return
        else:
            return
        if action_type in ActionType.WITH_RETRY:
            options = action.get("retryOptions") or {}
            key = str(seq)
            state["chains"][key] = {
                "kind": "activity" if action_type in ActionType.ACTIVITY else "suborchestration",
                "name": action["functionName"],
                "instance_id": action.get("instanceId"), "version": action.get("version"),
                "interval_ms": int(options.get("firstRetryIntervalInMilliseconds") or 1000),
                "max_attempts": int(options.get("maxNumberOfAttempts") or 1),
                "attempt": 1,
            }
            state["retry_tasks"][key] = key

    def _schedule_activity(self, inst: InstanceRow, name: str, input_json: str | None, seq: int,
                           history: list[dict[str, Any]], now: datetime, effects: Effects) -> None:
        history.append(event(EventType.TaskScheduled, now, seq, Name=name, Input=input_json, Version=""))
        self.store.add_work(inst.instance_id, inst.execution_id, seq, "activity",
                            {"name": name, "input": input_json})
        effects.activities.append((inst.instance_id, inst.execution_id, seq, name, input_json))

    def _schedule_timer(self, inst: InstanceRow, seq: int, fire_at: datetime, effects: Effects) -> None:
        self.store.add_work(inst.instance_id, inst.execution_id, seq, "timer",
                            {"fire_at": format_timestamp(fire_at)})
        effects.timers.append((inst.instance_id, inst.execution_id, seq, fire_at))

    def _schedule_sub_orchestration(self, inst: InstanceRow, name: str, input_json: str | None,
                                    child_id: str | None, version: str | None, seq: int,
                                    history: list[dict[str, Any]], now: datetime, effects: Effects) -> None:
        child_id = child_id or f"{inst.instance_id}:{seq}"
        history.append(event(EventType.SubOrchestrationInstanceCreated, now, seq, Name=name, InstanceId=child_id,
                             Input=input_json, Version=version))
        existing = self.store.get_instance(child_id)
        problem = None
        if child_id == inst.instance_id:
            problem = "a sub-orchestration cannot use its parent's instance ID"
        elif existing is not None and not existing.is_terminal:
            problem = f"an orchestration with instance ID '{child_id}' already exists and is {existing.status}"
        else:
            try:
                self.validate_instance_id(child_id)
            except ValueError as exc:
                problem = str(exc)
        if problem is not None:
            self.store.enqueue(inst.instance_id, event(
                EventType.SubOrchestrationInstanceFailed, now, TaskScheduledId=seq,
                Reason=f"Could not start sub-orchestration '{name}': {problem}", Details=""), inst.execution_id)
            effects.ready.add(inst.instance_id)
            return
        if existing is not None:
            self.store.clear_execution_data(child_id)
        self.store.add_work(inst.instance_id, inst.execution_id, seq, "suborchestration",
                            {"name": name, "instance_id": child_id})
        self.create_instance(child_id, name, input_json, version, (inst, seq), effects)

    def _handle_retry_event(self, inst: InstanceRow, state: dict[str, Any], last: dict[str, Any],
                            history: list[dict[str, Any]], now: datetime, effects: Effects) -> None:
        """Host side of `call_*_with_retry`, mirroring the SDK's RetryAbleTask id allocation."""
        if not self.is_retry_event(state, last):
            return
        if last["EventType"] == EventType.TimerFired:
            key = state["retry_timers"][str(last["TimerId"])]
            chain = state["chains"][key]
            if chain["attempt"] >= chain["max_attempts"]:
                return  # the extra timer after the last attempt fired: the SDK now raises the error
            chain["attempt"] += 1
            seq = state["next_id"]
            state["next_id"] += 1
            state["retry_tasks"][str(seq)] = key
            input_json = chain["input"] if "input" in chain else _scheduled_input(history, int(key))
            if chain["kind"] == "activity":
                self._schedule_activity(inst, chain["name"], input_json, seq, history, now, effects)
            else:
                self._schedule_sub_orchestration(inst, chain["name"], input_json, chain["instance_id"],
                                                 chain["version"], seq, history, now, effects)
            return
        key = state["retry_tasks"][str(last["TaskScheduledId"])]
        chain = state["chains"][key]
        seq = state["next_id"]
        state["next_id"] += 1
        state["retry_timers"][str(seq)] = key
        fire_at = now + timedelta(milliseconds=chain["interval_ms"])
        history.append(event(EventType.TimerCreated, now, seq, FireAt=format_timestamp(fire_at)))
        self._schedule_timer(inst, seq, fire_at, effects)

    def _continue_as_new(self, inst: InstanceRow, history: list[dict[str, Any]], actions: list[dict[str, Any]],
                         action: dict[str, Any], now: datetime, effects: Effects) -> None:
        carry: list[dict[str, Any]] = []
        if self.preserve_unprocessed_events:
            waits = Counter(a.get("externalEventName") for a in actions
                            if a.get("actionType") == ActionType.WAIT_FOR_EXTERNAL_EVENT)
            for ev in history:
                if ev["EventType"] == EventType.EventRaised:
                    if waits[ev.get("Name")] > 0:
                        waits[ev.get("Name")] -= 1
                    else:
                        carry.append(ev)
        self.store.delete_work_for(inst.instance_id)
        self.store.delete_inbox_for_execution(inst.instance_id, inst.execution_id)
        inst.execution_id = uuid.uuid4().hex
        inst.input = action.get("input")
        inst.output = None
        inst.status = "ContinuedAsNew"
        inst.state = fresh_state()
        self.store.set_history(inst.instance_id, [])
        self.store.put_instance(inst)
        self.store.enqueue(inst.instance_id, self._execution_started(inst, now, carry), inst.execution_id)
        effects.ready.add(inst.instance_id)

    def finish(self, inst: InstanceRow, history: list[dict[str, Any]], now: datetime, *, ok: bool,
                effects: Effects, output: Any = None, error: str | None = None) -> None:
        if ok:
            output_json = json.dumps(output)
            inst.status, inst.output = "Completed", output_json
            result_text = output_json
        else:
            message = f"Orchestrator function '{inst.name}' failed: {error}"
            inst.status, inst.output = "Failed", json.dumps(message)
            result_text = message
            log.warning("durable engine: orchestration %s (%s) failed: %s", inst.instance_id, inst.name, error)
        history.append(event(EventType.OrchestratorCompleted, now))
        history.append(event(EventType.ExecutionCompleted, now, OrchestrationStatus=inst.status,
                             Result=result_text))
        self.store.set_history(inst.instance_id, history)
        self.store.delete_work_for(inst.instance_id)
        self.drop_inbox(inst.instance_id)
        self.store.put_instance(inst)
        if ok:
            self.notify_parent(inst, ok=True, output_json=inst.output, effects=effects)
        else:
            self.notify_parent(inst, ok=False, reason=result_text, details=error or "", effects=effects)

    def notify_parent(self, inst: InstanceRow, *, ok: bool, effects: Effects, output_json: str | None = None,
                       reason: str = "", details: str = "") -> None:
        parent_id, parent_exec, task_id = inst.parent_instance_id, inst.parent_execution_id, inst.parent_task_id
        if parent_id is None or parent_exec is None or task_id is None:
            return
        if not self.store.take_work(parent_id, parent_exec, task_id):
            return  # the parent moved on (terminated, continued as new, replaced)
        now = self.clock.now()
        if ok:
            done = event(EventType.SubOrchestrationInstanceCompleted, now, TaskScheduledId=task_id,
                         Result=output_json)
        else:
            done = event(EventType.SubOrchestrationInstanceFailed, now, TaskScheduledId=task_id, Reason=reason,
                         Details=details)
        self.store.enqueue(parent_id, done, parent_exec)
        effects.ready.add(parent_id)
