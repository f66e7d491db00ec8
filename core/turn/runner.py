"""Runs one Durable activity of the chat turn (``core.turn.steps``): its steps in order on the fields it was sent,
each step in its own span (``agent.<step>``) and audited where it declares so; returns what the steps wrote as
plain JSON."""

from __future__ import annotations

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
    for index, step in enumerate(activity.steps):
        if index and step.when is not None and not step.when(state):
            continue  # the first step's rule is the activity's: the orchestrator checked it
        output = _TRACED[step](payload, state, ports)
        if step.writes is not None:
            written[step.writes] = output
            if step.audit is not None and state.context is not None:
                step.audit(ports.store, ports.settings, state.context.tenant, state.turn, getattr(state, step.writes))
    return written


#: One traced callable per step, built once.
_TRACED = {step: _traced(step) for activity in ACTIVITIES.values() for step in activity.steps}
