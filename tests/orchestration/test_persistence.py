"""Recovery: a new engine on the same SQLite file finishes what the previous one started (also after kill -9)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core.devhost.durable import DurableEngine, DurableStore, SystemClock, VirtualClock
from core.devhost.durable.history import EventType

from . import durable_app
from .conftest import INVOKER, Harness

REPO = Path(__file__).resolve().parents[2]


async def test_waiting_orchestration_resumes_in_a_new_engine(harness: Harness) -> None:
    async with harness.engine() as first:
        instance_id = await first.start_new("approval", "persist-event")
        await first.wait_idle()
    async with harness.engine() as second:
        assert (await second.get_status(instance_id))["runtimeStatus"] == "Running"
        await second.raise_event(instance_id, "approval", json.dumps({"by": "second engine"}))
        status = await second.wait_for(instance_id)
    assert status["output"] == {"approval": {"by": "second engine"}}


async def test_events_raised_while_no_engine_runs_are_applied_on_start(harness: Harness) -> None:
    async with harness.engine() as first:
        instance_id = await first.start_new("approval", "persist-inbox")
        await first.wait_idle()
    store = DurableStore(harness.db_path, "TestHub")
    engine = DurableEngine(store, INVOKER, harness.clock, task_hub="TestHub")
    await engine.raise_event(instance_id, "approval", json.dumps("queued while stopped"))
    assert store.inbox_for(instance_id)  # persisted in the inbox, not applied yet
    await engine.start()
    try:
        status = await engine.wait_for(instance_id)
    finally:
        await engine.stop()
        store.close()
    assert status["output"] == {"approval": "queued while stopped"}


async def test_timer_is_rearmed_after_restart(harness: Harness) -> None:
    async with harness.engine() as first:
        instance_id = await first.start_new("timer_then_time", "persist-timer", "120")
        await first.wait_idle()
        harness.clock.advance(60)
        await first.wait_idle()
    clock = VirtualClock(harness.clock.now())  # a new process, a new clock, same absolute time
    async with harness.engine(clock=clock) as second:
        await second.wait_idle()
        assert (await second.get_status(instance_id))["runtimeStatus"] == "Running"
        clock.advance(60)
        status = await second.wait_for(instance_id)
    assert status["output"]["woke_at"] == "2024-01-01T00:02:00+00:00"


async def test_activity_in_flight_at_stop_runs_again_after_restart(harness: Harness) -> None:
    async with harness.engine() as first:
        instance_id = await first.start_new("gated_flow", "persist-activity", json.dumps("g1"))
        for _ in range(200):
            if durable_app.CALLS["gated"]:
                break
            await asyncio.sleep(0.005)
        assert durable_app.CALLS["gated"] == 1
    store = DurableStore(harness.db_path)
    assert [w.kind for w in store.list_work(instance_id)] == ["activity"]
    store.close()
    durable_app.gate("g1").set()
    async with harness.engine() as second:
        status = await second.wait_for(instance_id)
        history = harness.history(second, instance_id)
    assert status["output"] == "released g1"
    assert durable_app.CALLS["gated"] == 2  # at-least-once: the interrupted attempt is re-dispatched
    assert [e["EventType"] for e in history].count(EventType.TaskScheduled) == 1  # same task, not rescheduled


async def test_retry_chain_survives_restart(harness: Harness) -> None:
    durable_app.FAILURES_LEFT["p"] = 1
    async with harness.engine() as first:
        instance_id = await first.start_new("with_retry", "persist-retry",
                                            json.dumps({"key": "p", "attempts": 3, "interval_ms": 1000}))
        await first.wait_idle()
    clock = VirtualClock(harness.clock.now())
    async with harness.engine(clock=clock) as second:
        clock.advance(1)
        status = await second.wait_for(instance_id)
    assert status["output"] == {"ok": "ok:p"}


async def test_sub_orchestration_completes_across_restart(harness: Harness) -> None:
    async with harness.engine() as first:
        await first.start_new("parent_of_approval", "persist-parent")
        await first.wait_idle()
    async with harness.engine() as second:
        await second.raise_event("persist-parent-approval", "approval", json.dumps("ok"))
        status = await second.wait_for("persist-parent")
    assert status["output"] == {"child": {"approval": "ok"}}


CHILD = textwrap.dedent("""
    import asyncio, json, sys
    sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
    from core.devhost.durable import AppInvoker, DurableEngine, DurableStore, SystemClock
    from orchestration import durable_app

    async def main():
        store = DurableStore(sys.argv[2], "TestHub")
        engine = DurableEngine(store, AppInvoker(durable_app.FUNCTIONS), SystemClock(), task_hub="TestHub")
        await engine.start()
        await engine.start_new("crash_flow", "crash-1", json.dumps(sys.argv[3]))
        await asyncio.sleep(3600)

    asyncio.run(main())
""")


async def test_kill_minus_nine_then_a_new_engine_finishes_the_work(harness: Harness, tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(REPO), str(harness.db_path), str(markers)],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not (markers / "started.log").exists():
            assert child.poll() is None, child.stdout.read().decode() if child.stdout else "child died"
            assert time.monotonic() < deadline, "the child engine never started the activity"
            await asyncio.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
        if child.stdout:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    (markers / "release").touch()
    async with harness.engine(clock=SystemClock()) as engine:
        status = await engine.wait_for("crash-1", timeout=10)
    starts = (markers / "started.log").read_text().split()
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == ["released", "Hello after crash!"]
    assert len(starts) == 2 and starts[0] != starts[1]  # first run in the killed process, re-run here


async def test_a_second_engine_on_the_same_file_is_refused(harness: Harness) -> None:
    async with harness.engine():
        other = DurableEngine(DurableStore(harness.db_path), INVOKER, harness.clock)
        try:
            with pytest.raises(RuntimeError, match="already running"):
                await other.start()
        finally:
            other.store.close()
    async with harness.engine() as again:  # the lease is released on stop
        assert again.running
