"""Runs one Durable activity of the chat turn (``core.turn.steps``): its steps in order (or side by side, for an
activity that declares so) on the fields it was sent, each step in its own span (``agent.<step>``) and audited where
it declares so; returns what the steps wrote as plain JSON."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from core.telemetry import agent_step
from core.turn.ports import TurnPorts
from core.turn.state import TurnState
from core.turn.steps import ACTIVITIES, Activity, Step


def _traced(step: Step):
    @agent_step(step.name)
    def run(payload: dict, state: TurnState, ports: TurnPorts) -> Any:
        output = step.agent(state, ports)
        if step.writes is None:
            return None
        setattr(state, step.writes, output)
        return step.output.dump_python(output, mode="json")  # type: ignore[union-attr]

    return run


def run_activity(activity: Activity, payload: dict, ports: TurnPorts) -> dict:
    """The activity's steps on ``payload`` (the turn-state fields it was sent), with the ports the composition root
    built; returns ``{state field: JSON}`` for the fields its steps wrote."""
    state = TurnState.model_validate(payload)
    written: dict[str, Any] = {}
    for index, group in enumerate(activity.groups):
        first = group[0]
        if index and first.when is not None and not first.when(state):
            continue  # the first step's rule is the activity's: the orchestrator checked it
        if len(group) > 1:
            _side_by_side(group, payload, state, ports, written)
        else:
            _record(first, _TRACED[first](payload, state, ports), state, ports, written)
    return written


def _record(step: Step, output: Any, state: TurnState, ports: TurnPorts, written: dict[str, Any]) -> None:
    if step.writes is not None:
        written[step.writes] = output
        if step.audit is not None and state.context is not None:
            step.audit(ports.store, ports.settings, state.context.tenant, state.turn, getattr(state, step.writes))


def _side_by_side(due: tuple[Step, ...], payload: dict, state: TurnState, ports: TurnPorts,
                  written: dict[str, Any]) -> None:
    """Steps under one rule at the same time, each on its own copy of the state: all but the last on the step pool,
    the last on this thread; an error of any is raised once all have finished (the activity is then retried
    whole)."""
    copies = [state.model_copy() for _ in due]
    others: list[Future] = [_pool().submit(_TRACED[s], payload, copy, ports)
                            for s, copy in zip(due[:-1], copies[:-1], strict=True)]
    outcomes: list[tuple[Any, BaseException | None]] = []
    for run in (lambda: _TRACED[due[-1]](payload, copies[-1], ports), *(f.result for f in others)):
        try:
            outcomes.append((run(), None))
        except BaseException as exc:  # noqa: BLE001 - raised below, once every step has finished
            outcomes.append((None, exc))
    outcomes = outcomes[1:] + outcomes[:1]  # in the steps' order
    for _, error in outcomes:
        if error is not None:
            raise error
    for step, copy, (output, _) in zip(due, copies, outcomes, strict=True):
        if step.writes is not None:
            setattr(state, step.writes, getattr(copy, step.writes))
        _record(step, output, state, ports, written)


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Threads for the steps an activity runs beside its own (made on first use; as many as activities may run)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="turn-step")
        return _POOL


#: One traced callable per step, built once.
_TRACED = {step: _traced(step) for activity in ACTIVITIES.values() for step in activity.steps}
