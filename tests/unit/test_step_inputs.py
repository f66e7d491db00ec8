"""Each activity is sent only part of the turn state (STEP_FIELDS): it must hold everything its pipeline functions
read, or a step would silently see an empty default (no citations, no facts) instead of the turn's data."""

from __future__ import annotations

import ast
import inspect
import re

import pytest

from blueprints.orchestration import STEP_FIELDS
from core import pipeline

# activity -> the core.pipeline functions it calls, with what the activity adds itself before the second call
CALLS = {
    "understand_message": [("load_context", set()), ("screen_input", {"context"}),
                           ("classify_intent", {"context", "screen"})],
    "retrieve_knowledge": [("retrieve_knowledge", set())],
    "lookup_shop_data": [("lookup_shop_data", set())],
    "lookup_cited_products": [("products_from_citations", set())],
    "escalate": [("escalate", set())],
    "compose_and_review": [("compose_response", set()), ("review_response", {"draft"})],
    "fallback_response": [("fallback_response", set())],
    "record_turn": [("record_turn", set())],
}

_SOURCE = inspect.getsource(pipeline)
_FUNCTIONS = {node.name: node for node in ast.parse(_SOURCE).body if isinstance(node, ast.FunctionDef)}


def state_fields_read(name: str, seen: set[str] | None = None) -> set[str]:
    """``state.<field>`` read by a pipeline function and by the pipeline helpers it hands ``state`` to."""
    seen = set() if seen is None else seen
    if name in seen or name not in _FUNCTIONS:
        return set()
    seen.add(name)
    code = ast.get_source_segment(_SOURCE, _FUNCTIONS[name]) or ""
    fields = set(re.findall(r"\bstate\.(\w+)", code))
    for callee in re.findall(r"\b(\w+)\((?:[^()]*,\s*)?state\b", code):
        fields |= state_fields_read(callee, seen)
    return fields


def test_every_activity_has_declared_fields():
    assert set(STEP_FIELDS) == set(CALLS)
    assert all(fields <= set(pipeline.TurnState.model_fields) and "turn" in fields for fields in STEP_FIELDS.values())


@pytest.mark.parametrize("activity", sorted(CALLS))
def test_step_fields_cover_what_the_pipeline_reads(activity):
    for function, added in CALLS[activity]:
        assert function in _FUNCTIONS, function
        missing = state_fields_read(function) - STEP_FIELDS[activity] - added
        assert not missing, f"{activity} -> {function} reads {sorted(missing)}"


def test_the_analysis_sees_helpers():
    # record_turn reads the draft itself and the context through event_notices: both must be found
    assert {"draft", "context", "facts"} <= state_fields_read("record_turn")
