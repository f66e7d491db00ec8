"""The SDK's out-of-process replay protocol, as pure functions.

In: the context JSON the Python SDK's `Orchestrator.handle` parses (history with `IsPlayed`, schema versions,
timer limits). Out: the orchestrator state it returns (`isDone`, V2 `actions` = one append-only list of every
action the orchestrator has yielded so far, compound WhenAll/WhenAny actions nesting `compoundActions`,
`output`, `customStatus`, `error`) or, when the orchestrator raised, an exception whose message carries
`\\n\\n$OutOfProcData$:` + that state.

Action ids follow the SDK's `_sequence_number`: every leaf action that creates a task gets the next id in
depth-first order, except waits for external events (keyed by name). Continue-as-new and entity signals
consume an id without creating a task.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import DurableError

__all__ = [
    "ActionType",
    "OUT_OF_PROC_LABEL",
    "OrchestratorResult",
    "build_context",
    "check_determinism",
    "describe_action",
    "flatten_actions",
    "parse_failure",
    "parse_state",
    "takes_sequence_number",
]

OUT_OF_PROC_LABEL = "\n\n$OutOfProcData$:"

#: What the engine advertises: upperSchemaVersion 1 (V2 actions) and upperSchemaVersionNew 2 (V3: the SDK then
#: splits timers longer than maximumShortTimerDuration into longRunningTimerIntervalDuration chunks, exactly as
#: it does against the Azure Storage backend).
CONTEXT_DEFAULTS: dict[str, Any] = {
    "upperSchemaVersion": 1,
    "upperSchemaVersionNew": 2,
    "maximumShortTimerDuration": "6.00:00:00",
    "longRunningTimerIntervalDuration": "3.00:00:00",
}


class ActionType:
    """Action type numbers of the out-of-proc protocol (`AsyncActionType` in the extension)."""

    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    SCHEDULED_SIGNAL_ENTITY = 10
    WHEN_ANY = 11
    WHEN_ALL = 12

    COMPOUND = frozenset({WHEN_ANY, WHEN_ALL})
    ACTIVITY = frozenset({CALL_ACTIVITY, CALL_ACTIVITY_WITH_RETRY})
    SUB_ORCHESTRATOR = frozenset({CALL_SUB_ORCHESTRATOR, CALL_SUB_ORCHESTRATOR_WITH_RETRY})
    WITH_RETRY = frozenset({CALL_ACTIVITY_WITH_RETRY, CALL_SUB_ORCHESTRATOR_WITH_RETRY})
    UNSUPPORTED = {
        CALL_ENTITY: "call_entity (durable entities)",
        CALL_HTTP: "call_http (durable HTTP)",
        SIGNAL_ENTITY: "signal_entity (durable entities)",
        SCHEDULED_SIGNAL_ENTITY: "signal_entity (durable entities)",
    }


def takes_sequence_number(action_type: int) -> bool:
    """Whether the SDK bumps its sequence number for this leaf action."""
    return action_type != ActionType.WAIT_FOR_EXTERNAL_EVENT and action_type not in ActionType.COMPOUND


def build_context(
    *,
    instance_id: str,
    parent_instance_id: str | None,
    input_json: str | None,
    past_events: list[dict[str, Any]],
    new_events: list[dict[str, Any]],
    past_texts: list[str] | None = None,
) -> str:
    """The orchestration trigger payload for one episode. ``past_texts``: each past event's JSON text, when known
    (the history as stored), so the replayed part is not encoded again."""
    if past_texts is None or len(past_texts) != len(past_events):
        past_texts = [json.dumps(e) for e in past_events]
    history = [_played(text, event) for text, event in zip(past_texts, past_events, strict=True)]
    history += [json.dumps({**e, "IsPlayed": False}) for e in new_events]
    rest = json.dumps({
        "instanceId": instance_id,
        "isReplaying": bool(past_events),
        "parentInstanceId": parent_instance_id,
        "input": input_json,
        **CONTEXT_DEFAULTS,
    })
    return '{"history": [' + ", ".join(history) + "], " + rest[1:]


def _played(text: str, event: dict[str, Any]) -> str:
    """``json.dumps({**event, "IsPlayed": True})`` from the event's own JSON text."""
    if "IsPlayed" in event or not event or not text.endswith("}"):
        return json.dumps({**event, "IsPlayed": True})
    return text[:-1] + ', "IsPlayed": true}'


@dataclass
class OrchestratorResult:
    """One episode's outcome as reported by the SDK."""

    done: bool
    actions: list[dict[str, Any]] = field(default_factory=list)  # flattened leaf actions, in id order
    output: Any = None
    custom_status: Any = None
    error: str | None = None
    #: How many of the last leaf actions the orchestrator now awaits all together (the leaves of its latest
    #: task when that is a WhenAll with no WhenAny inside): it cannot go on until each of them completes or one
    #: fails. 0 when it awaits anything else.
    awaiting_all: int = 0


def flatten_actions(actions: Any) -> list[dict[str, Any]]:
    """Leaf actions of the state's `actions`, depth-first through WhenAll/WhenAny `compoundActions`."""
    out: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            raise DurableError(f"malformed orchestrator action: {node!r}")
        if node.get("actionType") in ActionType.COMPOUND:
            walk(node.get("compoundActions") or [])
        else:
            out.append(node)

    walk(actions or [])
    return out


def parse_state(text: str | bytes | dict[str, Any]) -> OrchestratorResult:
    """Parse what `handle(context)` returned."""
    state = text if isinstance(text, dict) else json.loads(text)
    if not isinstance(state, dict) or "isDone" not in state:
        raise DurableError(f"the orchestrator returned something that is not an orchestrator state: {text!r}")
    return OrchestratorResult(
        done=bool(state.get("isDone")),
        actions=flatten_actions(state.get("actions")),
        output=state.get("output"),
        custom_status=state.get("customStatus"),
        error=state.get("error") or None,
        awaiting_all=_awaited_all_together(state.get("actions")),
    )


def _awaited_all_together(actions: Any) -> int:
    """The number of leaves of the latest task when it is a WhenAll of leaves and WhenAlls, else 0."""
    latest = None
    for group in actions if isinstance(actions, list) else []:
        if isinstance(group, list) and group:
            latest = group[-1]
        elif isinstance(group, dict):
            latest = group
    if not isinstance(latest, dict) or latest.get("actionType") != ActionType.WHEN_ALL:
        return 0

    def leaves(node: Any) -> int | None:
        if not isinstance(node, dict):
            return None
        kind = node.get("actionType")
        if kind == ActionType.WHEN_ANY:
            return None
        if kind == ActionType.WHEN_ALL:
            counts = [leaves(child) for child in node.get("compoundActions") or []]
            return None if any(c is None for c in counts) else sum(counts)  # type: ignore[misc]
        return 1

    return leaves(latest) or 0


def parse_failure(exc: BaseException) -> OrchestratorResult:
    """Turn an exception raised by `handle(context)` into a failed result.

    The SDK raises `Exception(f"{error}\\n\\n$OutOfProcData$:{state_json}")`; anything else (e.g. a
    non-generator orchestrator that raised, or an SDK internal error) becomes the error text as is.
    """
    message = str(exc)
    if OUT_OF_PROC_LABEL in message:
        head, _, state_json = message.partition(OUT_OF_PROC_LABEL)
        try:
            result = parse_state(state_json)
        except (ValueError, DurableError):
            result = OrchestratorResult(done=False)
        result.done = False
        result.error = result.error or head or type(exc).__name__
        return result
    return OrchestratorResult(done=False, error=message or type(exc).__name__)


def describe_action(action_type: int, name: str | None) -> str:
    if action_type in ActionType.ACTIVITY:
        kind = "an activity task" if action_type == ActionType.CALL_ACTIVITY else "an activity task with retry"
        return f"{kind} named '{name}'"
    if action_type in ActionType.SUB_ORCHESTRATOR:
        kind = "a sub-orchestration" if action_type == ActionType.CALL_SUB_ORCHESTRATOR else (
            "a sub-orchestration with retry")
        return f"{kind} named '{name}'"
    if action_type == ActionType.CREATE_TIMER:
        return "a durable timer"
    if action_type == ActionType.WAIT_FOR_EXTERNAL_EVENT:
        return f"a wait for the external event '{name}'"
    if action_type == ActionType.CONTINUE_AS_NEW:
        return "continue-as-new"
    return f"an action of type {action_type}"


def action_name(action: dict[str, Any]) -> str | None:
    """The name that identifies an action for nondeterminism checks."""
    if action.get("actionType") == ActionType.WAIT_FOR_EXTERNAL_EVENT:
        return action.get("externalEventName")
    return action.get("functionName")


def check_determinism(log: list[list[Any]], actions: list[dict[str, Any]]) -> str | None:
    """Compare this replay's actions with the ones recorded in earlier episodes.

    `log` holds `[actionType, name, sequenceId]` per leaf action seen before, in order. Returns a DTFx-style
    "Non-deterministic workflow detected" message, or None when the replay agrees with history.
    """
    hint = "Was a change made to the orchestrator code after this instance had already started running?"
    for index, (old_type, old_name, seq) in enumerate(log):
        where = f"with sequence ID {seq}" if seq is not None else f"at position {index}"
        previous = f"A previous execution of this orchestration scheduled {describe_action(old_type, old_name)}"
        if index >= len(actions):
            return (f"Non-deterministic workflow detected: {previous} {where}, but the current replay execution "
                    f"hasn't (yet?) scheduled this task. {hint}")
        action = actions[index]
        new_type, new_name = action.get("actionType"), action_name(action)
        if new_type != old_type or new_name != old_name:
            return (f"Non-deterministic workflow detected: {previous} {where}, but the current replay execution "
                    f"instead scheduled {describe_action(new_type, new_name)}. {hint}")
    return None
