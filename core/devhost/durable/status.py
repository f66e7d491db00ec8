"""Status and history views in the Durable HTTP API's shape (`DurableOrchestrationStatus.from_json`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .clock import as_utc
from .history import COMPLETION_KEYS, EventType
from .store import InstanceRow

__all__ = ["history_view", "loads_or_text", "status_view"]


def loads_or_text(text: str | None) -> Any:
    """Parse stored JSON text; text that is not JSON is returned as is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _status_time(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")  # the extension's ToString("s") + "Z"


def status_view(inst: InstanceRow, show_input: bool) -> dict[str, Any]:
    return {
        "name": inst.name,
        "instanceId": inst.instance_id,
        "runtimeStatus": inst.status,
        "input": loads_or_text(inst.input) if show_input else None,
        "customStatus": loads_or_text(inst.custom_status),
        "output": loads_or_text(inst.output),
        "createdTime": _status_time(inst.created_at),
        "lastUpdatedTime": _status_time(inst.updated_at),
    }


def history_view(history: list[dict[str, Any]], show_output: bool) -> list[dict[str, Any]]:
    """History as the status API shows it: names instead of numbers, completions joined to their
    scheduling event, orchestrator start/complete markers left out."""
    scheduled: dict[tuple[str, int], dict[str, Any]] = {}
    view: list[dict[str, Any]] = []
    for ev in history:
        kind = EventType(ev["EventType"])
        if kind in (EventType.OrchestratorStarted, EventType.OrchestratorCompleted):
            continue
        item: dict[str, Any] = {"EventType": kind.name, "EventId": ev.get("EventId", -1),
                                "Timestamp": ev["Timestamp"]}
        if kind in (EventType.TaskScheduled, EventType.SubOrchestrationInstanceCreated, EventType.TimerCreated):
            family = "timer" if kind == EventType.TimerCreated else "task"
            scheduled[(family, ev["EventId"])] = ev
        if kind in COMPLETION_KEYS:
            task_id = ev.get(COMPLETION_KEYS[kind])
            family = "timer" if kind == EventType.TimerFired else "task"
            origin = scheduled.get((family, task_id))
            if origin is not None:
                if origin.get("Name"):
                    item["FunctionName"] = origin["Name"]
                item["ScheduledTime"] = origin["Timestamp"]
        for key in ("Name", "InstanceId", "FireAt", "TimerId", "TaskScheduledId", "Reason", "Details",
                    "OrchestrationStatus"):
            if ev.get(key) is not None:
                item["FunctionName" if key == "Name" and kind != EventType.EventRaised else key] = ev[key]
        if show_output:
            for key in ("Input", "Result"):
                if key in ev:
                    item[key] = loads_or_text(ev[key])
        view.append(item)
    return view
