"""Activities, fan-out/fan-in, task_any, custom status, sub-orchestrations, failures and instance management."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from core.devhost.durable import (
    AppInvoker,
    DurableEngine,
    FunctionNotFoundError,
    InstanceAlreadyExistsError,
    InstanceStateError,
)
from core.devhost.durable.history import EventType
from core.devhost.durable.invoker import ActivityFailure

from . import durable_app
from .conftest import INVOKER, Harness


async def test_sequential_activities_run_in_order_and_complete(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("sequence", "seq-1", json.dumps(["Tokyo", "Lima"]))
        status = await engine.wait_for(instance_id)
        history = harness.history(engine, instance_id)

    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ["Hello Tokyo!", "Hello Lima!"]
    assert status["input"] == ["Tokyo", "Lima"]
    assert durable_app.CALLS["hello"] == 2
    scheduled = [(e["EventId"], e["Name"], e["Input"]) for e in history if e["EventType"] == EventType.TaskScheduled]
    assert scheduled == [(0, "hello", '"Tokyo"'), (1, "hello", '"Lima"')]
    assert history[-1]["EventType"] == EventType.ExecutionCompleted


async def test_fan_out_fan_in_with_task_all(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("fan_out_in", None, json.dumps([1, 2, 3, 4]))
        status = await engine.wait_for(instance_id)
        history = harness.history(engine, instance_id)

    assert status["output"] == {"doubled": [2, 4, 6, 8], "total": 20}
    ids = [e["EventId"] for e in history if e["EventType"] == EventType.TaskScheduled]
    assert ids == [0, 1, 2, 3]  # all four scheduled in the first episode, ids in list order
    assert durable_app.CALLS["double"] == 4  # `activity="double"` overrides the function name


def episodes(engine: DurableEngine, instance_id: str) -> int:
    return sum(e["EventType"] == EventType.OrchestratorStarted for e in engine.store.get_history(instance_id))


async def eventually(predicate, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_fan_out_result_is_held_until_its_running_sibling_completes(harness: Harness) -> None:
    async with harness.engine(sibling_wait_seconds=5) as engine:
        instance_id = await engine.start_new("fan_out_gated", "fan-held")
        await eventually(lambda: durable_app.CALLS["hello"] == 1 and durable_app.CALLS["gated"] == 1)
        await asyncio.sleep(0.1)
        assert episodes(engine, instance_id) == 1  # no replay for the fast result alone
        durable_app.gate("slow").set()
        status = await engine.wait_for(instance_id)
        assert episodes(engine, instance_id) == 2  # both results in one episode
    assert status["output"] == ["Hello fast!", "released slow"]


async def test_a_task_all_result_is_held_past_the_sibling_wait_while_its_sibling_runs(harness: Harness) -> None:
    """The orchestrator awaits both tasks together (task_all): the fast result waits for the slow one however long
    it runs past sibling_wait, and both land in one episode."""
    async with harness.engine(sibling_wait_seconds=0.01) as engine:
        instance_id = await engine.start_new("fan_out_gated", "fan-in-held")
        await eventually(lambda: durable_app.CALLS["hello"] == 1 and durable_app.CALLS["gated"] == 1)
        await asyncio.sleep(0.2)
        assert episodes(engine, instance_id) == 1
        durable_app.gate("slow").set()
        status = await engine.wait_for(instance_id)
        assert episodes(engine, instance_id) == 2
    assert status["output"] == ["Hello fast!", "released slow"]


async def test_a_task_any_result_is_not_held_for_the_fan_in_wait(harness: Harness) -> None:
    """task_any goes on with its first result: only sibling_wait applies, never the fan-in wait."""
    async with harness.engine(sibling_wait_seconds=0.01, fan_in_wait_seconds=60) as engine:
        instance_id = await engine.start_new("first_done")
        status = await engine.wait_for(instance_id, timeout=5)
    assert status["output"] == {"winner": "fast", "result": "Hello fast!"}


@pytest.mark.parametrize("wait", [0, 0.05])
async def test_a_held_result_is_released_after_the_wait_even_if_the_sibling_still_runs(harness: Harness,
                                                                                          wait: float) -> None:
    async with harness.engine(sibling_wait_seconds=wait, fan_in_wait_seconds=wait) as engine:
        instance_id = await engine.start_new("fan_out_gated", f"fan-released-{wait}")
        await eventually(lambda: episodes(engine, instance_id) == 2)  # the fast result, alone
        durable_app.gate("slow").set()
        status = await engine.wait_for(instance_id)
        assert episodes(engine, instance_id) == 3
    assert status["output"] == ["Hello fast!", "released slow"]


async def test_task_any_returns_the_first_task_to_finish(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("first_done")
        status = await engine.wait_for(instance_id)
        assert not engine.store.list_work(instance_id)  # the slow activity's work item was dropped
    assert status["output"] == {"winner": "fast", "result": "Hello fast!"}


async def test_custom_status_is_visible_while_running_and_after(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("with_status", "st-1", json.dumps("T-42"))
        await engine.wait_idle()
        running = await engine.get_status(instance_id)
        await engine.raise_event(instance_id, "go", None)
        final = await engine.wait_for(instance_id)

    assert running is not None and running["runtimeStatus"] == "Running"
    assert running["customStatus"] == {"stage": "waiting", "ticket": "T-42"}
    assert final["customStatus"] == {"stage": "done"}
    assert final["output"] == "finished"


async def test_sub_orchestration_result_flows_to_parent(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("parent", "p-1")
        status = await engine.wait_for(instance_id)
        child = await engine.get_status("p-1-child", show_input=True)
        history = harness.history(engine, instance_id)

    assert status["output"] == {"child": ["Hello Oslo!", "Hello Lima!"], "parent": "p-1"}
    assert child is not None and child["runtimeStatus"] == "Completed" and child["input"] == ["Oslo", "Lima"]
    created = [e for e in history if e["EventType"] == EventType.SubOrchestrationInstanceCreated]
    assert [(e["EventId"], e["Name"], e["InstanceId"]) for e in created] == [(0, "sequence", "p-1-child")]
    assert any(e["EventType"] == EventType.SubOrchestrationInstanceCompleted for e in history)


async def test_sub_orchestration_failure_is_catchable_in_parent(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("parent_of_failure", "pf-1")
        status = await engine.wait_for(instance_id)
        child = await engine.get_status("pf-1:0")  # generated id: "<parent>:<task id>"

    assert status["runtimeStatus"] == "Completed"
    caught = status["output"]["caught"]
    assert caught.startswith("Orchestrator function 'failing_child' failed: ")
    assert "Activity function 'boom' failed: RuntimeError: child exploded" in caught
    assert child is not None and child["runtimeStatus"] == "Failed"


async def test_uncaught_activity_failure_fails_the_orchestration(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("uncaught_failure")
        status = await engine.wait_for(instance_id)

    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(
        "Orchestrator function 'uncaught_failure' failed: Activity function 'boom' failed: RuntimeError: kaboom")


async def test_missing_activity_surfaces_as_task_failure(harness: Harness) -> None:
    async with harness.engine() as engine:
        status = await engine.wait_for(await engine.start_new("calls_missing"))
    assert "The activity function 'no_such_activity' doesn't exist" in status["output"]["caught"]


async def test_unsupported_actions_fail_clearly_instead_of_hanging(harness: Harness) -> None:
    async with harness.engine() as engine:
        status = await engine.wait_for(await engine.start_new("uses_http"), timeout=5)
    assert status["runtimeStatus"] == "Failed"
    assert "call_http" in status["output"] and "not supported by the local durable engine" in status["output"]


async def test_unknown_orchestrator_is_rejected(harness: Harness) -> None:
    async with harness.engine() as engine:
        with pytest.raises(FunctionNotFoundError, match="doesn't exist.*known orchestrator functions"):
            await engine.start_new("nope")


async def test_start_new_on_a_running_instance_is_refused_but_terminal_ones_are_replaced(harness: Harness) -> None:
    async with harness.engine() as engine:
        await engine.start_new("approval", "dup")
        await engine.wait_idle()
        with pytest.raises(InstanceAlreadyExistsError, match="'dup'.*Running"):
            await engine.start_new("approval", "dup")
        await engine.raise_event("dup", "approval", json.dumps(1))
        first = await engine.wait_for("dup")
        await engine.start_new("sequence", "dup", json.dumps(["again"]))
        second = await engine.wait_for("dup")
        events = harness.history(engine, "dup")

    assert first["output"] == {"approval": 1}
    assert second["name"] == "sequence" and second["output"] == ["Hello again!"]
    assert not any(e["EventType"] == EventType.EventRaised for e in events)  # old history is gone


async def test_any_state_policy_replaces_a_running_instance(harness: Harness) -> None:
    async with harness.engine(overridable_existing_instance_states="AnyState") as engine:
        await engine.start_new("approval", "dup")
        await engine.wait_idle()
        await engine.start_new("sequence", "dup", json.dumps(["x"]))
        status = await engine.wait_for("dup")
    assert status["output"] == ["Hello x!"]


async def test_terminate_stops_the_instance_and_rejects_later_events(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("approval")
        await engine.wait_idle()
        await engine.terminate(instance_id, "user cancelled")
        status = await engine.get_status(instance_id)
        with pytest.raises(InstanceStateError):
            await engine.raise_event(instance_id, "approval", "1")
        with pytest.raises(InstanceStateError):
            await engine.terminate(instance_id, "again")
    assert status is not None and status["runtimeStatus"] == "Terminated" and status["output"] == "user cancelled"


async def test_terminating_a_child_fails_the_waiting_parent(harness: Harness) -> None:
    async with harness.engine() as engine:
        await engine.start_new("parent_of_approval", "tp")
        await engine.wait_idle()
        assert (await engine.get_status("tp-approval"))["runtimeStatus"] == "Running"
        await engine.terminate("tp-approval", "operator said no")
        parent = await engine.wait_for("tp")
        child = await engine.get_status("tp-approval")
    assert child is not None and child["runtimeStatus"] == "Terminated"
    assert parent["runtimeStatus"] == "Completed"
    assert "terminated: operator said no" in parent["output"]["caught"]


async def test_suspend_holds_events_until_resume(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("approval")
        await engine.wait_idle()
        await engine.suspend(instance_id, "maintenance")
        await engine.raise_event(instance_id, "approval", json.dumps("late"))
        await engine.wait_idle()
        suspended = await engine.get_status(instance_id)
        await engine.resume(instance_id, "done")
        status = await engine.wait_for(instance_id)
    assert suspended is not None and suspended["runtimeStatus"] == "Suspended"
    assert status["output"] == {"approval": "late"}


async def test_purge_list_and_restart(harness: Harness) -> None:
    async with harness.engine() as engine:
        done = await engine.start_new("sequence", "list-done", json.dumps(["a"]))
        await engine.wait_for(done)
        waiting = await engine.start_new("approval", "list-wait")
        await engine.wait_idle()

        completed = await engine.list_instances(runtime_status=["Completed"])
        prefixed = await engine.list_instances(instance_id_prefix="list-")
        with pytest.raises(InstanceStateError):
            await engine.purge(waiting)
        restarted = await engine.restart(done)
        restarted_status = await engine.wait_for(restarted)
        assert await engine.purge(done) == 1
        assert await engine.get_status(done) is None
        assert await engine.purge(done) == 0

    assert [s["instanceId"] for s in completed] == ["list-done"]
    assert {s["instanceId"] for s in prefixed} == {"list-done", "list-wait"}
    assert restarted != done and restarted_status["output"] == ["Hello a!"]


async def test_invoker_reports_missing_activity_and_encodes_like_the_worker() -> None:
    assert await INVOKER.call_activity("hello", json.dumps("Ann")) == '"Hello Ann!"'
    assert await INVOKER.call_activity("double", "21") == "42"
    with pytest.raises(ActivityFailure, match="doesn't exist"):
        await INVOKER.call_activity("nope", None)
    with pytest.raises(ActivityFailure) as failure:
        await INVOKER.call_activity("boom", json.dumps("bad"))
    assert failure.value.reason == "Activity function 'boom' failed: RuntimeError: bad"
    assert "Traceback" in failure.value.details
    assert set(INVOKER.orchestrators) >= {"sequence", "approval", "counter"}
    assert "double" in INVOKER.activities and "double_it" not in INVOKER.activities


class SpyInvoker(AppInvoker):
    """Records every context JSON the engine sends to an orchestrator."""

    def __init__(self) -> None:
        super().__init__(durable_app.FUNCTIONS)
        self.contexts: list[dict[str, Any]] = []

    def call_orchestrator(self, name: str, context_json: str) -> str:
        self.contexts.append(json.loads(context_json))
        return super().call_orchestrator(name, context_json)


async def test_context_json_matches_the_protocol(harness: Harness) -> None:
    spy = SpyInvoker()
    harness.invoker = spy
    async with harness.engine() as engine:
        instance_id = await engine.start_new("timer_then_time", "ctx-1", "60")
        await engine.wait_idle()
        harness.clock.advance(60)
        await engine.wait_for(instance_id)

    assert len(spy.contexts) == 2
    first, second = spy.contexts
    for context in spy.contexts:
        assert context["instanceId"] == "ctx-1" and context["input"] == "60"
        assert context["upperSchemaVersion"] == 1 and context["upperSchemaVersionNew"] == 2
        assert context["maximumShortTimerDuration"] == "6.00:00:00"
        assert context["longRunningTimerIntervalDuration"] == "3.00:00:00"
        assert context["parentInstanceId"] is None
        starts = [i for i, e in enumerate(context["history"]) if e["EventType"] == EventType.OrchestratorStarted]
        boundary = starts[-1]
        assert all(e["IsPlayed"] for e in context["history"][:boundary])
        assert not any(e["IsPlayed"] for e in context["history"][boundary:])
    assert first["isReplaying"] is False and second["isReplaying"] is True
    assert [e["EventType"] for e in first["history"]] == [EventType.OrchestratorStarted, EventType.ExecutionStarted]
    assert second["history"][-1]["EventType"] == EventType.TimerFired
    assert [e["Timestamp"] for e in second["history"] if e["EventType"] == EventType.OrchestratorStarted] == [
        "2024-01-01T00:00:00.000000Z", "2024-01-01T00:01:00.000000Z"]


def test_engine_rejects_an_unknown_override_policy(harness: Harness) -> None:
    with pytest.raises(ValueError):
        DurableEngine(object(), INVOKER, overridable_existing_instance_states="Sometimes")  # type: ignore[arg-type]


async def test_a_status_reader_waiting_on_an_instance_wakes_when_it_changes(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("with_status", "watched-1", json.dumps("T-1"))
        await engine.wait_idle()
        assert (await engine.get_status(instance_id))["customStatus"] == {"stage": "waiting", "ticket": "T-1"}
        assert await engine.wait_for_change(instance_id, 0.01) is False  # nothing happens: the wait times out
        waiter = asyncio.create_task(engine.wait_for_change(instance_id, 10))
        await asyncio.sleep(0)
        await engine.raise_event(instance_id, "go", None)
        assert await waiter is True
        await engine.wait_idle()
        assert (await engine.get_status(instance_id))["runtimeStatus"] == "Completed"
        assert not engine._watchers  # no waiter left behind


async def test_the_chat_wait_uses_the_installed_watch_instead_of_a_poll_interval() -> None:
    from core import instance_watch

    seen: list[tuple[str, float]] = []

    async def watch(instance_id: str, timeout: float) -> bool:
        seen.append((instance_id, timeout))
        return True

    instance_watch.install(watch)
    try:
        await instance_watch.wait("tenant--c--t", 0.005, 8.0)
    finally:
        instance_watch.uninstall(watch)
    assert seen == [("tenant--c--t", instance_watch.WATCH_FALLBACK_SECONDS)]


async def test_a_status_reader_is_not_woken_by_episodes_that_change_nothing_it_reads(harness: Harness) -> None:
    """Of four episodes, the two between the first and the last only schedule the next activity and leave the
    status as it was: the reader wakes when the instance starts running and when it completes."""
    async with harness.engine() as engine:
        instance_id = await engine.start_new("sequence", "watched-2", json.dumps(["A", "B", "C"]))
        wakes: list[str] = []
        while True:
            if await engine.wait_for_change(instance_id, 5) is not True:
                break
            status = await engine.get_status(instance_id)
            wakes.append(status["runtimeStatus"])
            if status["runtimeStatus"] == "Completed":
                break
        assert wakes == ["Running", "Completed"]
        assert status["output"] is not None
        assert not engine._views and not engine._watchers  # nothing kept for a finished instance


async def test_a_reader_waiting_for_the_outcome_is_not_woken_when_the_instance_starts_running(harness: Harness
                                                                                              ) -> None:
    """A chat waiting for its turn's reply: of the changes a status read shows, it wakes for the custom status and
    the end, not for a pending instance starting to run."""
    async with harness.engine() as engine:
        instance_id = await engine.start_new("with_status", "watched-4", json.dumps("T-4"))
        outcome = asyncio.create_task(engine.wait_for_change(instance_id, 10, outcome_only=True))
        any_change = asyncio.create_task(engine.wait_for_change(instance_id, 10))
        await engine.wait_idle()
        assert (await engine.get_status(instance_id))["customStatus"] == {"stage": "waiting", "ticket": "T-4"}
        assert await any_change is True and await outcome is True
        outcome = asyncio.create_task(engine.wait_for_change(instance_id, 10, outcome_only=True))
        await asyncio.sleep(0)
        await engine.raise_event(instance_id, "go", None)
        assert await outcome is True
        assert not engine._watchers

    async with harness.engine() as engine:
        instance_id = await engine.start_new("sequence", "watched-5", json.dumps(["A", "B", "C"]))
        wakes: list[str] = []
        while True:
            if await engine.wait_for_change(instance_id, 5, outcome_only=True) is not True:
                break
            status = await engine.get_status(instance_id)
            wakes.append(status["runtimeStatus"])
            if status["runtimeStatus"] == "Completed":
                break
        assert wakes == ["Completed"]  # "Running" woke only the readers of any change


async def test_a_purge_wakes_a_status_reader(harness: Harness) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("with_status", "watched-3", json.dumps("T-3"))
        await engine.wait_idle()
        await engine.terminate(instance_id, "done")
        waiter = asyncio.create_task(engine.wait_for_change(instance_id, 10))
        await asyncio.sleep(0)
        assert await engine.purge(instance_id) == 1
        assert await waiter is True


@pytest.mark.parametrize("change", ["terminate", "suspend"])
async def test_an_episode_whose_instance_changed_while_it_ran_is_discarded(harness: Harness, change: str) -> None:
    async with harness.engine() as engine:
        instance_id = await engine.start_new("slow_first_episode", f"changed-{change}")
        await eventually(durable_app.IN_FIRST_EPISODE.is_set)
        if change == "terminate":
            await engine.terminate(instance_id, "stop")
        else:
            await engine.suspend(instance_id, "hold")
        durable_app.END_FIRST_EPISODE.set()
        await engine.wait_idle()
        status = await engine.get_status(instance_id)
        assert status["runtimeStatus"] == ("Terminated" if change == "terminate" else "Suspended")
        assert durable_app.CALLS["hello"] == 0 and not engine.store.list_work(instance_id)


async def test_a_freed_activity_slot_goes_to_the_oldest_instance_waiting(harness: Harness) -> None:
    """With every slot taken, the next step of an instance that started first runs before the first step of one
    that started after it, although that step was queued later: a burst's early turns finish first."""
    async with harness.engine(max_concurrent_activities=1) as engine:
        await engine.start_new("gated_then_hello", "old", json.dumps("o"))
        await eventually(lambda: durable_app.STARTED == ["gated o"])  # holds the only slot
        await engine.start_new("gated_flow", "young", json.dumps("y"))
        await engine.start_new("gated_flow", "younger", json.dumps("z"))
        await eventually(lambda: len(engine._activity_tasks) == 3)  # y and z wait for the slot
        durable_app.gate("o").set()
        await eventually(lambda: durable_app.STARTED == ["gated o", "gated y"])
        # the old instance's next step is queued behind z's first step ...
        await eventually(lambda: len(engine._activity_tasks) == 3 and episodes(engine, "old") == 2)
        durable_app.gate("y").set()
        status = await engine.wait_for("old")
        assert durable_app.STARTED[:3] == ["gated o", "gated y", "hello o"]  # ... and runs before it
        durable_app.gate("z").set()
        await engine.wait_for("younger")
    assert status["output"] == ["released o", "Hello o!"]
    assert durable_app.STARTED == ["gated o", "gated y", "hello o", "gated z"]


async def test_episodes_ready_together_run_oldest_instance_first(harness: Harness) -> None:
    async with harness.engine() as engine:
        for name in ("first", "second", "third"):
            await engine.start_new("gated_flow", name, json.dumps(name))
        await eventually(lambda: len(durable_app.STARTED) == 3 and not engine._ready)
        processed: list[str] = []
        process = engine._process

        async def recording(instance_id: str) -> None:
            processed.append(instance_id)
            await process(instance_id)

        engine._process = recording  # type: ignore[method-assign]
        # all three become ready together, the third first and the first last
        for name in ("third", "second", "first"):
            durable_app.gate(name).set()
        for name in ("first", "second", "third"):
            await engine.wait_for(name)
    assert processed == ["first", "second", "third"]


async def test_priority_slots_admit_the_lowest_priority_first_and_survive_cancelled_waiters() -> None:
    from core.devhost.durable.engine import PrioritySlots

    slots = PrioritySlots(1)
    await slots.acquire(5)
    order: list[int] = []

    async def waiter(priority: int) -> None:
        await slots.acquire(priority)
        order.append(priority)
        slots.release()

    tasks = {p: asyncio.create_task(waiter(p)) for p in (3, 1, 2, 0)}
    await asyncio.sleep(0)
    tasks[0].cancel()  # a cancelled waiter never takes the slot
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*(t for p, t in tasks.items() if p), return_exceptions=True)
    assert order == [1, 2, 3]
    await asyncio.wait_for(slots.acquire(9), 1)  # the slot came back free
