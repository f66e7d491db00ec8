"""An activity that runs its steps side by side (the knowledge search and the shop-data look-up): both steps run at
the same time, each writes its own field, and an error of one is raised once the other has finished."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from core.models import ShopFacts, TurnInput
from core.turn import runner, steps
from core.turn.state import TurnState


def _state() -> TurnState:
    return TurnState(turn=TurnInput(tenant_id="demo", conversation_id="conv-side-1", turn_id="turn-side-1",
                                    message="Is the mango soap in stock?", trace_id="0" * 32,
                                    received_at="2026-11-21T10:00:00+00:00"))


def _activity(search, lookup) -> steps.Activity:
    def retrieve_knowledge(state, ports):
        return search(state, ports)

    def lookup_shop_data(state, ports):
        return lookup(state, ports)

    searching = replace(steps.RETRIEVE_KNOWLEDGE, agent=retrieve_knowledge, audit=None)
    looking = replace(steps.LOOKUP_SHOP_DATA, agent=lookup_shop_data, audit=None)
    activity = steps.Activity("look_up_test", (searching, looking), together=(searching.name, looking.name))
    runner._TRACED.update({s: runner._traced(s) for s in activity.steps})
    return activity


def test_the_look_up_runs_its_two_steps_at_the_same_time_and_returns_both():
    both = threading.Barrier(2, timeout=10)  # each step waits for the other: one after the other never passes

    def search(state, ports):
        both.wait()
        return []

    def lookup(state, ports):
        both.wait()
        return ShopFacts(order_lookup="found")

    activity = _activity(search, lookup)
    written = runner.run_activity(activity, activity.payload(_state()), ports=None)
    assert written["citations"] == [] and written["facts"]["order_lookup"] == "found"
    for declared in (steps.UNDERSTAND_MESSAGE, steps.LOOK_UP):  # the turn's look-ups are such a group
        assert [s.name for s in declared.groups[-1]] == ["retrieve_knowledge", "lookup_shop_data"]


def test_an_error_of_one_step_is_raised_after_the_other_finished():
    finished = threading.Event()

    def slow(state, ports):
        assert not finished.wait(0.2)
        finished.set()
        return ShopFacts()

    def failing(state, ports):
        raise OSError("search index unavailable")

    activity = _activity(failing, slow)
    with pytest.raises(OSError):
        runner.run_activity(activity, activity.payload(_state()), ports=None)
    assert finished.is_set()


@pytest.mark.parametrize("pair", [(steps.RETRIEVE_KNOWLEDGE, steps.LOOKUP_CITED_PRODUCTS),  # reads the other's
                                  (steps.RETRIEVE_KNOWLEDGE, steps.READ_SIGNALS)],  # another rule
                         ids=["reads-the-others-output", "own-rule"])
def test_steps_that_read_what_another_writes_or_have_their_own_rule_cannot_run_side_by_side(pair):
    with pytest.raises(ValueError, match="side by side"):
        steps.Activity("bad", pair, together=tuple(s.name for s in pair))
