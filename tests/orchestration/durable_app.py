"""A small DFApp for the durable engine tests: orchestrators and activities with observable side effects.

Module-level state (counters, gates, flags) is reset by the `reset_app_state` fixture before each test.
`FUNCTIONS` is the ONE `app.get_functions()` list every test shares (a second call raises).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

CALLS: Counter[str] = Counter()  # activity invocations by name
FAILURES_LEFT: dict[str, int] = {}  # flaky activity / child: failures still to produce, by key
GATES: dict[str, asyncio.Event] = {}  # gated activity waits on these
FLAGS: dict[str, bool] = {"changed_code": False}
SIDE_EFFECTS: list[str] = []  # appended only when not replaying
EPISODE_LOG: list[tuple[str, bool]] = []  # (checkpoint, is_replaying) for every execution of the code
STARTED: list[str] = []  # "<activity> <input>" as hello and gated activities start, in order
IN_FIRST_EPISODE = threading.Event()  # slow_first_episode's orchestrator is running its first episode
END_FIRST_EPISODE = threading.Event()  # ... and finishes it once a test sets this


def reset() -> None:
    CALLS.clear()
    FAILURES_LEFT.clear()
    GATES.clear()
    FLAGS["changed_code"] = False
    SIDE_EFFECTS.clear()
    EPISODE_LOG.clear()
    STARTED.clear()
    IN_FIRST_EPISODE.clear()
    END_FIRST_EPISODE.clear()


def gate(name: str) -> asyncio.Event:
    return GATES.setdefault(name, asyncio.Event())


# ----------------------------------------------------------------------------------------------- activities
@app.activity_trigger(input_name="name")
def hello(name: str) -> str:
    CALLS["hello"] += 1
    STARTED.append(f"hello {name}")
    return f"Hello {name}!"


@app.activity_trigger(input_name="payload", activity="double")
async def double_it(payload: int) -> int:
    CALLS["double"] += 1
    await asyncio.sleep(0)
    return payload * 2


@app.activity_trigger(input_name="key")
def flaky(key: str) -> str:
    CALLS["flaky"] += 1
    CALLS[f"flaky:{key}"] += 1
    if FAILURES_LEFT.get(key, 0) > 0:
        FAILURES_LEFT[key] -= 1
        raise ValueError(f"flaky {key} failed (attempt {CALLS[f'flaky:{key}']})")
    return f"ok:{key}"


@app.activity_trigger(input_name="message")
def boom(message: str) -> str:
    CALLS["boom"] += 1
    raise RuntimeError(message)


@app.activity_trigger(input_name="name")
async def gated(name: str) -> str:
    CALLS["gated"] += 1
    STARTED.append(f"gated {name}")
    await gate(name).wait()
    return f"released {name}"


@app.activity_trigger(input_name="marker_dir")
def hang_once(marker_dir: str) -> str:
    """Used by the kill -9 test: records each start; hangs until a release file exists."""
    folder = Path(marker_dir)
    with open(folder / "started.log", "a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    while not (folder / "release").exists():
        time.sleep(0.02)
    return "released"


# ----------------------------------------------------------------------------------------------- orchestrators
@app.orchestration_trigger(context_name="context")
def sequence(context: df.DurableOrchestrationContext):
    cities = context.get_input() or ["Tokyo", "Seattle", "London"]
    results = []
    for city in cities:
        results.append((yield context.call_activity("hello", city)))
    return results


@app.orchestration_trigger(context_name="context")
def fan_out_in(context: df.DurableOrchestrationContext):
    numbers = context.get_input()
    doubled = yield context.task_all([context.call_activity("double", n) for n in numbers])
    return {"doubled": doubled, "total": sum(doubled)}


@app.orchestration_trigger(context_name="context")
def fan_out_gated(context: df.DurableOrchestrationContext):
    """One branch finishes at once, the other when the test opens its gate."""
    return (yield context.task_all([context.call_activity("hello", "fast"), context.call_activity("gated", "slow")]))


@app.orchestration_trigger(context_name="context")
def first_done(context: df.DurableOrchestrationContext):
    slow = context.call_activity("gated", "never")
    fast = context.call_activity("hello", "fast")
    winner = yield context.task_any([slow, fast])
    return {"winner": "fast" if winner == fast else "slow", "result": winner.result}


@app.orchestration_trigger(context_name="context")
def with_retry(context: df.DurableOrchestrationContext):
    params = context.get_input()
    options = df.RetryOptions(params.get("interval_ms", 1000), params["attempts"])
    try:
        value = yield context.call_activity_with_retry("flaky", options, params["key"])
        return {"ok": value}
    except Exception as exc:
        return {"error": str(exc)}


@app.orchestration_trigger(context_name="context")
def parallel_retries(context: df.DurableOrchestrationContext):
    options = df.RetryOptions(500, 3)
    tasks = [context.call_activity_with_retry("flaky", options, key) for key in ("a", "b")]
    tasks.append(context.call_activity("hello", "between"))
    tasks.append(context.call_activity_with_retry("flaky", options, "c"))
    results = yield context.task_all(tasks)
    after = yield context.call_activity("hello", "after")
    return results + [after]


@app.orchestration_trigger(context_name="context")
def retry_beside_timer(context: df.DurableOrchestrationContext):
    """A plain timer and a retry back-off timer fire in the same episode; the plain one makes the
    orchestrator schedule a new activity before the SDK allocates the retry's id."""
    retried = context.call_activity_with_retry("flaky", df.RetryOptions(1000, 3), "r")
    timer = context.create_timer(context.current_utc_datetime + timedelta(seconds=1))
    yield context.task_any([retried, timer])
    after = yield context.call_activity("hello", "after")
    result = yield retried
    return {"after": after, "retry": result}


@app.orchestration_trigger(context_name="context")
def timer_then_time(context: df.DurableOrchestrationContext):
    seconds = context.get_input()
    fire_at = context.current_utc_datetime + timedelta(seconds=seconds)
    yield context.create_timer(fire_at)
    return {"fire_at": fire_at.isoformat(), "woke_at": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def long_timer(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(days=10))
    return context.current_utc_datetime.isoformat()


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    data = yield context.wait_for_external_event("approval")
    return {"approval": data}


@app.orchestration_trigger(context_name="context")
def nap_then_wait(context: df.DurableOrchestrationContext):
    yield context.create_timer(context.current_utc_datetime + timedelta(seconds=30))
    data = yield context.wait_for_external_event("approval")
    return {"approval": data}


@app.orchestration_trigger(context_name="context")
def approval_or_timeout(context: df.DurableOrchestrationContext):
    event = context.wait_for_external_event("approval")
    timeout = context.create_timer(context.current_utc_datetime + timedelta(minutes=5))
    winner = yield context.task_any([event, timeout])
    if winner == event:
        timeout.cancel()
        return {"approved": event.result}
    return {"timed_out": True}


@app.orchestration_trigger(context_name="context")
def with_status(context: df.DurableOrchestrationContext):
    context.set_custom_status({"stage": "waiting", "ticket": context.get_input()})
    yield context.wait_for_external_event("go")
    context.set_custom_status({"stage": "done"})
    return "finished"


@app.orchestration_trigger(context_name="context")
def parent(context: df.DurableOrchestrationContext):
    child = yield context.call_sub_orchestrator("sequence", ["Oslo", "Lima"], f"{context.instance_id}-child")
    return {"child": child, "parent": context.instance_id}


@app.orchestration_trigger(context_name="context")
def failing_child(context: df.DurableOrchestrationContext):
    yield context.call_activity("boom", "child exploded")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def parent_of_failure(context: df.DurableOrchestrationContext):
    try:
        yield context.call_sub_orchestrator("failing_child")
    except Exception as exc:
        return {"caught": str(exc)}
    return {"caught": None}


@app.orchestration_trigger(context_name="context")
def parent_of_approval(context: df.DurableOrchestrationContext):
    try:
        result = yield context.call_sub_orchestrator("approval", None, f"{context.instance_id}-approval")
    except Exception as exc:
        return {"caught": str(exc)}
    return {"child": result}


@app.orchestration_trigger(context_name="context")
def sometimes_failing_child(context: df.DurableOrchestrationContext):
    key = context.get_input()
    if not context.is_replaying:
        CALLS["child-runs"] += 1
    if FAILURES_LEFT.get(key, 0) > 0:
        FAILURES_LEFT[key] -= 1
        raise RuntimeError(f"child {key} failed")
    return f"child {key} ok"


@app.orchestration_trigger(context_name="context")
def parent_with_child_retry(context: df.DurableOrchestrationContext):
    result = yield context.call_sub_orchestrator_with_retry("sometimes_failing_child", df.RetryOptions(1000, 3),
                                                            context.get_input())
    return result


@app.orchestration_trigger(context_name="context")
def counter(context: df.DurableOrchestrationContext):
    state = context.get_input() or {"n": 0, "seen": []}
    greeting = yield context.call_activity("hello", f"round {state['n']}")
    state = {"n": state["n"] + 1, "seen": state["seen"] + [greeting]}
    if state["n"] < 4:
        context.continue_as_new(state)
        return None
    return state


@app.orchestration_trigger(context_name="context")
def eternal_inbox(context: df.DurableOrchestrationContext):
    """Each generation waits for one 'item' event; after 3 items it returns them."""
    items = context.get_input() or []
    item = yield context.wait_for_external_event("item")
    items = items + [item]
    if len(items) < 3:
        context.continue_as_new(items)
        return None
    return items


@app.orchestration_trigger(context_name="context")
def drifting(context: df.DurableOrchestrationContext):
    first = "double" if FLAGS["changed_code"] else "hello"
    yield context.call_activity(first, 21 if first == "double" else "v1")
    yield context.wait_for_external_event("next")
    done = yield context.call_activity("hello", "end")
    return done


@app.orchestration_trigger(context_name="context")
def replay_probe(context: df.DurableOrchestrationContext):
    EPISODE_LOG.append(("start", context.is_replaying))
    if not context.is_replaying:
        SIDE_EFFECTS.append("start")
    a = yield context.call_activity("hello", "one")
    EPISODE_LOG.append(("after-one", context.is_replaying))
    if not context.is_replaying:
        SIDE_EFFECTS.append("after-one")
    b = yield context.call_activity("hello", "two")
    EPISODE_LOG.append(("after-two", context.is_replaying))
    if not context.is_replaying:
        SIDE_EFFECTS.append("after-two")
    return [a, b, str(context.new_uuid())]


@app.orchestration_trigger(context_name="context")
def uncaught_failure(context: df.DurableOrchestrationContext):
    yield context.call_activity("boom", "kaboom")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def uses_http(context: df.DurableOrchestrationContext):
    yield context.call_http("GET", "https://example.invalid/")
    return "unreachable"


@app.orchestration_trigger(context_name="context")
def gated_flow(context: df.DurableOrchestrationContext):
    result = yield context.call_activity("gated", context.get_input())
    return result


@app.orchestration_trigger(context_name="context")
def gated_then_hello(context: df.DurableOrchestrationContext):
    """A gated activity, then a quick one: a turn's first step, then its next."""
    first = yield context.call_activity("gated", context.get_input())
    second = yield context.call_activity("hello", context.get_input())
    return [first, second]


@app.orchestration_trigger(context_name="context")
def calls_missing(context: df.DurableOrchestrationContext):
    try:
        yield context.call_activity("no_such_activity", 1)
    except Exception as exc:
        return {"caught": str(exc)}
    return {"caught": None}


@app.orchestration_trigger(context_name="context")
def crash_flow(context: df.DurableOrchestrationContext):
    result = yield context.call_activity("hang_once", context.get_input())
    greeting = yield context.call_activity("hello", "after crash")
    return [result, greeting]


# ----------------------------------------------------------------------------------------------- HTTP starter
@app.route(route="orchestrators/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["name"], None, req.get_json())
    timeout_ms = int(req.params.get("timeout_ms", "3000"))
    return await client.wait_for_completion_or_create_check_status_response(
        req, instance_id, timeout_in_milliseconds=timeout_ms, retry_interval_in_milliseconds=20)


@app.orchestration_trigger(context_name="context")
def slow_first_episode(context: df.DurableOrchestrationContext):
    """Its first episode runs until the test lets it finish (the test changes the instance meanwhile)."""
    if not context.is_replaying:
        IN_FIRST_EPISODE.set()
        END_FIRST_EPISODE.wait(10)
    result = yield context.call_activity("hello", "after")
    return result


FUNCTIONS = app.get_functions()

