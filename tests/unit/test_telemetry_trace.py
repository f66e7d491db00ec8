"""Spans per agent step and per integration call, kept per conversation and served by the operator trace route:
one span per step of a real ``conversation_turn`` run, the turn's cost, and no customer data in any span."""

from __future__ import annotations

import asyncio
import json

import azure.functions as func
import httpx

from core.devhost.durable import AppInvoker, DurableEngine, DurableStore, VirtualClock
from core.models import TurnInput
from core.telemetry import agent_step, trace_store, turn_trace
from core.turn.steps import ACTIVITIES

EMAIL = "marie.tremblay@example.com"


async def _run_turn(functions, tmp_path, message: str, conversation: str, turn_id: str):
    store = DurableStore(tmp_path / f"{turn_id}.sqlite", "TraceHub")
    engine = DurableEngine(store, AppInvoker(functions), VirtualClock(), task_hub="TraceHub")
    await engine.start()
    try:
        turn = TurnInput(tenant_id="demo", conversation_id=conversation, turn_id=turn_id, message=message,
                         trace_id="4bf92f3577b34da6a3ce929d0e0e4736", received_at="2026-11-21T10:00:00+00:00")
        await engine.start_new("conversation_turn", turn_id, turn.model_dump_json())
        return await engine.wait_for(turn_id), [e["Name"] for e in store.get_history(turn_id)
                                                if e["EventType"] == 4]
    finally:
        await engine.stop()


def test_operator_trace_has_one_span_per_agent_step_and_the_turn_cost(services, functions, tmp_path):
    trace_store().clear()
    conversation = "f" * 32
    status, steps = asyncio.run(_run_turn(functions, tmp_path, f"Is the organic mango soap in stock? I am {EMAIL}",
                                          conversation, "turn-trace-1"))
    assert status["runtimeStatus"] == "Completed", status
    handlers = {f.get_function_name(): f.get_user_function() for f in functions}
    req = func.HttpRequest("GET", "http://localhost/api/operator/x", headers={}, body=b"",
                           route_params={"tenant": "demo", "conversation": conversation})
    response = handlers["conversation_trace"](req)
    assert response.status_code == 200, response.get_body()
    trace = json.loads(response.get_body())
    assert [t["turn_id"] for t in trace["turns"]] == ["turn-trace-1"]
    turn = trace["turns"][0]
    # One span per agent step, named as core.turn.steps declares it: an activity that chains several (context,
    # critic then intent; response then critic) shows each; the fanned-out steps (knowledge ‖ shop data) may finish
    # in either order.
    expected = [s.name for activity in steps for s in ACTIVITIES[activity].steps]
    assert {"load_context", "check_input", "classify_intent", "compose_response", "check_output"} <= set(expected)
    assert sorted(s["attributes"]["shopdesk.step"] for s in turn["steps"]) == sorted(expected)
    assert sorted(s["name"] for s in turn["steps"]) == sorted(f"agent.{name}" for name in expected)
    assert {s["trace_id"] for s in turn["steps"]} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    intent = next(s for s in turn["steps"] if s["name"] == "agent.classify_intent")["attributes"]
    assert intent["shopdesk.intent"] == status["output"]["intent"]
    assert abs(intent["shopdesk.confidence"] - status["output"]["confidence"]) < 1e-9
    compose = next(s for s in turn["steps"] if s["name"] == "agent.compose_response")["attributes"]
    assert compose["shopdesk.provider"] == status["output"]["usage"]["provider"]
    assert turn["cost_usd"] == round(status["output"]["usage"]["cost"], 8) == trace["cost_usd"]
    assert turn["tokens"] == status["output"]["usage"]["tokens"]
    assert all(s["attributes"]["shopdesk.latency_ms"] >= 0 and s["attributes"]["shopdesk.tenant"] == "demo"
               for s in turn["steps"])
    text = json.dumps(trace)
    assert EMAIL not in text and "mango soap in stock" not in text  # no message text or PII in spans
    # Another tenant's view of the same conversation id is empty (and its operator route 404s).
    assert turn_trace("northwind-tea", conversation)["turns"] == []
    other = func.HttpRequest("GET", "http://localhost/api/operator/x", headers={}, body=b"",
                             route_params={"tenant": "northwind-tea", "conversation": conversation})
    assert handlers["conversation_trace"](other).status_code == 404


def test_integration_calls_are_child_spans_of_their_step_and_failures_are_marked(services):
    from core.integrations.http import VendorClient

    trace_store().clear()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200 if "ok" in request.url.path else 404, json={})

    client = VendorClient("shopify", "demo", "https://shop.example", transport=httpx.MockTransport(handler),
                          sleep=lambda s: None)

    @agent_step("lookup_shop_data")
    def activity(payload):
        client.request("GET", f"/admin/ok/orders.json?email={EMAIL}")
        try:
            client.request("GET", "/admin/missing.json")
        except Exception:
            pass
        return {"order_lookup": "none"}

    payload = {"turn": {"tenant_id": "demo", "conversation_id": "c1", "turn_id": "t1", "trace_id": "1" * 32}}
    activity(payload)
    spans = trace_store().spans("demo", "c1")
    step = next(s for s in spans if s["kind"] == "agent_step")
    vendor = [s for s in spans if s["kind"] == "integration"]
    assert len(vendor) == 2 and all(s["parent_id"] == step["span_id"] for s in vendor)
    assert vendor[0]["attributes"]["shopdesk.provider"] == "shopify" and vendor[0]["status"] != "error"
    assert vendor[1]["status"] == "error"
    assert EMAIL not in json.dumps(spans)
    grouped = turn_trace("demo", "c1")["turns"][0]["steps"][0]
    assert len(grouped["integrations"]) == 2


def test_failed_step_span_is_an_error_and_the_exception_propagates(services):
    trace_store().clear()

    @agent_step("check_input")
    def failing(payload):
        raise RuntimeError("boom")

    payload = {"turn": {"tenant_id": "demo", "conversation_id": "c2", "turn_id": "t1", "trace_id": "2" * 32}}
    try:
        failing(payload)
    except RuntimeError:
        pass
    else:
        raise AssertionError("the exception must propagate to Durable's retry")
    [span] = trace_store().spans("demo", "c2")
    assert span["status"] == "error" and span["attributes"]["shopdesk.error"] == "RuntimeError"


def test_store_keeps_a_bounded_number_of_conversations():
    from core.telemetry import TraceStore, _tracer  # noqa: F401  (provider set up)

    store = TraceStore(max_conversations=2)
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    provider.add_span_processor(store)
    tracer = provider.get_tracer("t")
    for conversation in ("a", "b", "c"):
        with tracer.start_as_current_span("x", attributes={"shopdesk.tenant": "demo",
                                                             "shopdesk.conversation": conversation}):
            pass
    assert store.spans("demo", "a") == [] and len(store.spans("demo", "c")) == 1
