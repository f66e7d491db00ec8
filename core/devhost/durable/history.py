"""History events in the shape the Durable Python SDK reads (DTFx `HistoryEvent` JSON, PascalCase).

Events are plain dicts: `EventType` (int, `HistoryEventType`), `EventId`, `Timestamp` and the per-type fields.
`IsPlayed` is not stored: the engine sets it when it builds an episode's context (true for events of earlier
episodes, false for the episode's new events).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from .clock import as_utc

__all__ = [
    "EventType",
    "event",
    "format_timestamp",
    "parse_timestamp",
]

#: The SDK's own format (`azure.durable_functions.constants.DATETIME_STRING_FORMAT`).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class EventType(IntEnum):
    """DTFx history event types (same numbering as the SDK's `HistoryEventType`)."""

    ExecutionStarted = 0
    ExecutionCompleted = 1
    ExecutionFailed = 2
    ExecutionTerminated = 3
    TaskScheduled = 4
    TaskCompleted = 5
    TaskFailed = 6
    SubOrchestrationInstanceCreated = 7
    SubOrchestrationInstanceCompleted = 8
    SubOrchestrationInstanceFailed = 9
    TimerCreated = 10
    TimerFired = 11
    OrchestratorStarted = 12
    OrchestratorCompleted = 13
    EventSent = 14
    EventRaised = 15
    ContinueAsNew = 16
    GenericEvent = 17
    HistoryState = 18
    ExecutionSuspended = 19
    ExecutionResumed = 20


#: Events that resolve a task, with the field naming the task (mirrors the SDK's executor).
COMPLETION_KEYS: dict[int, str] = {
    EventType.TaskCompleted: "TaskScheduledId",
    EventType.TaskFailed: "TaskScheduledId",
    EventType.SubOrchestrationInstanceCompleted: "TaskScheduledId",
    EventType.SubOrchestrationInstanceFailed: "TaskScheduledId",
    EventType.TimerFired: "TimerId",
}


def format_timestamp(value: datetime) -> str:
    return as_utc(value).strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """Parse the SDK/DTFx timestamp forms (`...Z`, `+00:00`, with or without fractions)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def event(event_type: EventType, timestamp: datetime, event_id: int = -1, **fields: Any) -> dict[str, Any]:
    """Build one history event dict."""
    data: dict[str, Any] = {
        "EventType": int(event_type),
        "EventId": event_id,
        "Timestamp": format_timestamp(timestamp),
    }
    data.update(fields)
    return data
