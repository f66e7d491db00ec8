"""call_*_with_retry: the host performs retries with the SDK's id allocation (TaskFailed -> timer -> reschedule)."""

from __future__ import annotations

import json

from core.devhost.durable import DurableEngine
from core.devhost.durable.history import EventType

from . import durable_app
from .conftest import Harness


def _ids(history: list[dict], kind: EventType, key: str = "EventId") -> list[int]:
    return [e[key] for e in history if e["EventType"] == kind]


async def _tick_until_done(harness: Harness, engine: DurableEngine, instance_id: str, step: float,
                           limit: int = 20) -> dict:
    for _ in range(limit):
        await engine.wait_idle()
        status = await engine.get_status(instance_id)
        if status and status["runtimeStatus"] in ("Completed", "Failed", "Terminated"):
            return status
        harness.clock.advance(step)
    raise AssertionError(f"{instance_id} did not finish")


async def test_activity_fails_twice_then_succeeds(harness: Harness) -> None:
    durable_app.FAILURES_LEFT["k"] = 2
    async with harness.engine() as engine:
        instance_id = await engine.start_new("with_retry", "retry-1",
                                             json.dumps({"key": "k", "attempts": 3, "interval_ms": 1000}))
        await engine.wait_idle()
        assert durable_app.CALLS["flaky:k"] == 1
        harness.clock.advance(0.999)
        await engine.wait_idle()
        assert durable_app.CALLS["flaky:k"] == 1  # back-off not over yet
        harness.clock.advance(0.001)
        await engine.wait_idle()
        assert durable_app.CALLS["flaky:k"] == 2
        state = engine.store.get_instance(instance_id).state
        harness.clock.advance(1)
        status = await engine.wait_for(instance_id)
        history = harness.history(engine, instance_id)

    assert status["output"] == {"ok": "ok:k"}
    # every attempt gets the first attempt's input, read back from history rather than kept in the state
    assert len({e["Input"] for e in history if e["EventType"] == EventType.TaskScheduled}) == 1
    assert "input" not in json.dumps(state["chains"])
    assert durable_app.CALLS["flaky:k"] == 3
    assert _ids(history, EventType.TaskScheduled) == [0, 2, 4]
    assert _ids(history, EventType.TaskFailed, "TaskScheduledId") == [0, 2]
    assert _ids(history, EventType.TimerCreated) == [1, 3]
    assert _ids(history, EventType.TimerFired, "TimerId") == [1, 3]
    assert [e["FireAt"] for e in history if e["EventType"] == EventType.TimerCreated] == [
        "2024-01-01T00:00:01.000000Z", "2024-01-01T00:00:02.000000Z"]


async def test_exhausted_retries_surface_the_error_to_the_orchestrator(harness: Harness) -> None:
    durable_app.FAILURES_LEFT["k"] = 10
    async with harness.engine() as engine:
        instance_id = await engine.start_new("with_retry", "retry-2",
                                             json.dumps({"key": "k", "attempts": 2, "interval_ms": 500}))
        await engine.wait_idle()
        harness.clock.advance(0.5)
        await engine.wait_idle()
        assert durable_app.CALLS["flaky:k"] == 2
        running = await engine.get_status(instance_id)  # waiting for the extra timer DTFx adds
        harness.clock.advance(0.5)
        status = await engine.wait_for(instance_id)
        history = harness.history(engine, instance_id)

    assert running is not None and running["runtimeStatus"] == "Running"
    assert status["runtimeStatus"] == "Completed"
    error = status["output"]["error"]
    assert error.startswith("Activity function 'flaky' failed: ValueError: flaky k failed (attempt 2)")
    assert durable_app.CALLS["flaky:k"] == 2
    assert _ids(history, EventType.TaskScheduled) == [0, 2]
    assert _ids(history, EventType.TimerCreated) == [1, 3]


async def test_retries_of_parallel_tasks_keep_ids_in_step_with_the_sdk(harness: Harness) -> None:
    durable_app.FAILURES_LEFT.update({"a": 1, "b": 2})
    async with harness.engine() as engine:
        instance_id = await engine.start_new("parallel_retries", "retry-3")
        status = await _tick_until_done(harness, engine, instance_id, step=0.5)
        history = harness.history(engine, instance_id)

    assert status["runtimeStatus"] == "Completed", status["output"]
    assert status["output"] == ["ok:a", "ok:b", "Hello between!", "ok:c", "Hello after!"]
    assert (durable_app.CALLS["flaky:a"], durable_app.CALLS["flaky:b"], durable_app.CALLS["flaky:c"]) == (2, 3, 1)
    scheduled = _ids(history, EventType.TaskScheduled) + _ids(history, EventType.TimerCreated)
    assert sorted(scheduled) == list(range(len(scheduled)))  # every sequence number used exactly once


async def test_sub_orchestration_with_retry(harness: Harness) -> None:
    durable_app.FAILURES_LEFT["x"] = 2
    async with harness.engine() as engine:
        instance_id = await engine.start_new("parent_with_child_retry", "retry-4", json.dumps("x"))
        status = await _tick_until_done(harness, engine, instance_id, step=1)
        history = harness.history(engine, instance_id)
        children = await engine.list_instances(instance_id_prefix="retry-4:")

    assert status["output"] == "child x ok"
    assert durable_app.CALLS["child-runs"] == 3
    assert _ids(history, EventType.SubOrchestrationInstanceCreated) == [0, 2, 4]
    assert sorted((c["instanceId"], c["runtimeStatus"]) for c in children) == [
        ("retry-4:0", "Failed"), ("retry-4:2", "Failed"), ("retry-4:4", "Completed")]


async def test_retry_ids_come_after_the_actions_of_the_same_episode(harness: Harness) -> None:
    durable_app.FAILURES_LEFT["r"] = 1
    async with harness.engine() as engine:
        instance_id = await engine.start_new("retry_beside_timer", "retry-5")
        await engine.wait_idle()
        harness.clock.advance(1)  # the plain timer (id 1) and the retry timer (id 2) fire together
        status = await engine.wait_for(instance_id)
        history = harness.history(engine, instance_id)

    assert status["output"] == {"after": "Hello after!", "retry": "ok:r"}
    scheduled = {e["EventId"]: e["Name"] for e in history if e["EventType"] == EventType.TaskScheduled}
    assert scheduled == {0: "flaky", 3: "hello", 4: "flaky"}
