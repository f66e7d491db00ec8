"""Durable timers on the virtual clock, external events, continue-as-new, replay and nondeterminism."""

from __future__ import annotations

import json
import uuid

import pytest

from core.devhost.durable.history import EventType

from . import durable_app
from .conftest import Harness


async def test_timer_fires_only_when_the_clock_passes_fire_at(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("timer_then_time", None, "60")
        await engine.wait_idle()
        harness.clock.advance(59.999)
        await engine.wait_idle()
        early = await engine.get_status(instance_id)
        harness.clock.advance(0.001)
        status = await engine.wait_for(instance_id)
        history = harness.history(engine, instance_id)

    assert early is not None and early["runtimeStatus"] == "Running"
    assert status["output"] == {"fire_at": "2024-01-01T00:01:00+00:00", "woke_at": "2024-01-01T00:01:00+00:00"}
    created = [e for e in history if e["EventType"] == EventType.TimerCreated]
    fired = [e for e in history if e["EventType"] == EventType.TimerFired]
    assert [(e["EventId"], e["FireAt"]) for e in created] == [(0, "2024-01-01T00:01:00.000000Z")]
    assert [e["TimerId"] for e in fired] == [0]


async def test_long_timers_are_split_like_on_azure_storage(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("long_timer")
        await engine.wait_idle()
        harness.clock.advance(days=3)
        await engine.wait_idle()
        midway = await engine.get_status(instance_id)
        harness.clock.advance(days=7)
        status = await engine.wait_for(instance_id)
        created = [e["FireAt"] for e in harness.history(engine, instance_id)
                   if e["EventType"] == EventType.TimerCreated]

    assert midway is not None and midway["runtimeStatus"] == "Running"
    assert created == ["2024-01-04T00:00:00.000000Z", "2024-01-07T00:00:00.000000Z"]  # 3-day chunks (SDK)
    assert status["output"] == "2024-01-11T00:00:00+00:00"


async def test_external_event_raised_after_the_wait(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("approval")
        await engine.wait_idle()
        assert (await engine.get_status(instance_id))["runtimeStatus"] == "Running"
        await engine.raise_event(instance_id, "approval", json.dumps({"ok": True, "by": "ann"}))
        status = await engine.wait_for(instance_id)
    assert status["output"] == {"approval": {"ok": True, "by": "ann"}}


@pytest.mark.filterwarnings("ignore:Potential duplicate Task completion")  # the SDK's note on buffered events
async def test_external_event_raised_before_anyone_waits_is_kept(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("nap_then_wait")
        await engine.wait_idle()
        await engine.raise_event(instance_id, "approval", json.dumps("early bird"))
        await engine.wait_idle()
        assert (await engine.get_status(instance_id))["runtimeStatus"] == "Running"  # still napping
        harness.clock.advance(30)
        status = await engine.wait_for(instance_id)
        kinds = harness.event_types(engine, instance_id)
    assert status["output"] == {"approval": "early bird"}
    assert kinds.index(EventType.EventRaised) < kinds.index(EventType.TimerFired)


async def test_event_wins_against_timeout_and_the_timer_is_cancelled(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("approval_or_timeout")
        await engine.wait_idle()
        harness.clock.advance(60)
        await engine.wait_idle()
        await engine.raise_event(instance_id, "approval", json.dumps("yes"))
        status = await engine.wait_for(instance_id)
        harness.clock.advance(minutes=10)
        await engine.wait_idle()
        kinds = harness.event_types(engine, instance_id)
        assert not engine.store.list_work()
    assert status["output"] == {"approved": "yes"}
    assert EventType.TimerFired not in kinds


async def test_timeout_wins_when_no_event_arrives(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("approval_or_timeout")
        await engine.wait_idle()
        harness.clock.advance(minutes=4, seconds=59)
        await engine.wait_idle()
        assert (await engine.get_status(instance_id))["runtimeStatus"] == "Running"
        harness.clock.advance(1)
        status = await engine.wait_for(instance_id)
        # a late event for a finished instance is refused
        assert (await engine.get_status(instance_id))["runtimeStatus"] == "Completed"
    assert status["output"] == {"timed_out": True}


async def test_continue_as_new_loops_then_completes(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("counter", "loop-1")
        status = await engine.wait_for(instance_id)
        history = harness.history(engine, instance_id)

    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"n": 4, "seen": [f"Hello round {i}!" for i in range(4)]}
    assert durable_app.CALLS["hello"] == 4
    started = [e for e in history if e["EventType"] == EventType.ExecutionStarted]
    assert len(started) == 1 and json.loads(started[0]["Input"])["n"] == 3  # only the last execution's history
    assert status["input"]["n"] == 3


async def test_continue_as_new_carries_unprocessed_events(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("eternal_inbox", "inbox-1")
        await engine.wait_idle()
        for item in ("first", "second", "third"):  # all three land in the first generation's episode
            await engine.raise_event(instance_id, "item", json.dumps(item))
        status = await engine.wait_for(instance_id)
    assert status["output"] == ["first", "second", "third"]


async def test_without_preserve_unprocessed_events_they_are_dropped(harness: Harness) -> None:
    async with harness.engine(preserve_unprocessed_events=False) as engine:
        instance_id = await engine.start_new("eternal_inbox", "inbox-2")
        await engine.wait_idle()
        for item in ("first", "second", "third"):
            await engine.raise_event(instance_id, "item", json.dumps(item))
        await engine.wait_idle()
        status = await engine.get_status(instance_id, show_input=True)
    assert status is not None and status["runtimeStatus"] == "Running"
    assert status["input"] == ["first"]  # the second generation waits; the other two events were discarded


async def test_events_raised_between_generations_reach_the_next_generation(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("eternal_inbox", "inbox-3")
        for item in ("a", "b", "c"):
            await engine.wait_idle()
            await engine.raise_event(instance_id, "item", json.dumps(item))
        status = await engine.wait_for(instance_id)
    assert status["output"] == ["a", "b", "c"]


async def test_replays_see_is_replaying_and_side_effects_run_once(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("replay_probe", "probe-1")
        status = await engine.wait_for(instance_id)

    assert durable_app.SIDE_EFFECTS == ["start", "after-one", "after-two"]
    assert durable_app.EPISODE_LOG == [
        ("start", False),
        ("start", True), ("after-one", False),
        ("start", True), ("after-one", True), ("after-two", False),
    ]
    assert status["output"][:2] == ["Hello one!", "Hello two!"]
    uuid.UUID(status["output"][2])  # replay-safe GUIDs work (derived from instance id + history time)


async def test_changed_orchestrator_code_is_detected_as_nondeterministic(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("drifting", "drift-1")
        await engine.wait_idle()
        assert (await engine.get_status(instance_id))["runtimeStatus"] == "Running"
        durable_app.FLAGS["changed_code"] = True  # a "deployment" changes the first activity
        await engine.raise_event(instance_id, "next", None)
        status = await engine.wait_for(instance_id)

    assert status["runtimeStatus"] == "Failed"
    output = status["output"]
    assert "Non-deterministic workflow detected" in output
    assert "activity task named 'hello' with sequence ID 0" in output and "named 'double'" in output
    assert durable_app.CALLS["hello"] == 1 and durable_app.CALLS["double"] == 0  # nothing new was scheduled


async def test_unchanged_code_replays_cleanly(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("drifting", "drift-2")
        await engine.wait_idle()
        await engine.raise_event(instance_id, "next", None)
        status = await engine.wait_for(instance_id)
    assert status["runtimeStatus"] == "Completed" and status["output"] == "Hello end!"
