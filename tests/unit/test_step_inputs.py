"""Each activity is sent only part of the turn state (the fields its steps declare in core.turn.steps): a step must
declare everything its agent reads, or it would silently see an empty default (no citations, no facts) instead of
the turn's data. The reads are found in the agent's source and in the helpers it hands the state to, in any module
(``state.language`` and other TurnState properties count as the fields they read)."""

from __future__ import annotations

import ast
import inspect
import re
import textwrap

import pytest

from core.turn import steps
from core.turn.state import TurnState

STATE_FIELDS = set(TurnState.model_fields)
PROPERTIES = {name: value.fget for name, value in vars(TurnState).items() if isinstance(value, property)}
ALL_STEPS = sorted({s for a in steps.ACTIVITIES.values() for s in a.steps}, key=lambda s: s.name)


def _source(function) -> str:
    return textwrap.dedent(inspect.getsource(function))


def fields_read(function, seen: set | None = None) -> set[str]:
    """``state.<field>`` read by ``function`` and by the functions it passes ``state`` to (resolved in its module)."""
    seen = set() if seen is None else seen
    if function in seen:
        return set()
    seen.add(function)
    code = _source(function)
    names = set(re.findall(r"\bstate\.(\w+)", code)) | set(re.findall(r"\bself\.(\w+)", code) if function in
                                                                 PROPERTIES.values() else [])
    found = names & STATE_FIELDS
    for name in names & set(PROPERTIES):
        found |= fields_read(PROPERTIES[name], seen)
    scope = inspect.getmodule(function).__dict__
    for callee in re.findall(r"\b([\w.]+)\((?:[^()]*,\s*)?state\b", code):
        target = scope.get(callee.split(".")[0])
        for part in callee.split(".")[1:]:
            target = getattr(target, part, None)
        if inspect.isfunction(target):
            found |= fields_read(target, seen)
    return found


def test_every_step_declares_turn_state_fields_and_the_turn():
    for step in ALL_STEPS:
        assert "turn" in step.reads and step.reads <= STATE_FIELDS, step.name
        assert step.writes is None or step.writes in STATE_FIELDS, step.name


@pytest.mark.parametrize("step", ALL_STEPS, ids=lambda s: s.name)
def test_a_step_declares_everything_its_agent_reads(step):
    missing = fields_read(step.agent) - step.reads
    assert not missing, f"{step.name} reads {sorted(missing)} without declaring them"


@pytest.mark.parametrize("activity", list(steps.ACTIVITIES.values()), ids=lambda a: a.name)
def test_an_activity_is_sent_what_its_steps_read_and_have_not_written(activity):
    written: set[str] = set()
    for index, group in enumerate(activity.groups):
        for step in group:
            assert step.reads - written <= activity.reads, step.name
        if index and group[0].when is not None:
            # Checked inside the activity: the rule may only read what the activity has (a group of steps run side
            # by side has one rule, checked once before them).
            assert fields_read(group[0].when) <= activity.reads | written, group[0].name
        written |= {step.writes for step in group} - {None}
    assert activity.reads <= {f for s in activity.steps for f in s.reads}


def test_one_name_per_step_everywhere():
    # The step's name is its agent function's name, the span's name and (alone) the activity's name.
    for step in ALL_STEPS:
        assert step.name == step.agent.__name__
    for name, activity in steps.ACTIVITIES.items():
        assert activity.name == name
        if len(activity.steps) == 1:
            assert activity.steps[0].name == name


def test_the_analysis_sees_helpers_and_properties():
    from core.agents import critic, response

    # check_output reads the citations through context_text and the language through TurnState.language
    assert {"citations", "facts", "escalation", "intent", "screen"} <= fields_read(critic.check_output)
    assert {"intent", "screen"} <= fields_read(response.fallback_response)
    assert ast.parse(_source(critic.check_output))  # the source is what the analysis reads
