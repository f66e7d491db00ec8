"""Telemetry the Functions way: step spans are children of the invocation's trace context (the request's
traceparent only without one), and where the Python worker exports, the app adds no exporter or log handler."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import azure.functions as func
import pytest

from blueprints.chat import trace_parent
from core import telemetry
from core.config import load_settings

INVOCATION = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
REQUEST = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _request(traceparent: str | None = None) -> func.HttpRequest:
    headers = {"traceparent": traceparent} if traceparent else {}
    return func.HttpRequest("POST", "http://localhost/api/tenants/demo/chat", headers=headers, body=b"{}")


def _context(parent: str) -> SimpleNamespace:
    return SimpleNamespace(trace_context=SimpleNamespace(trace_parent=parent, trace_state="", attributes={}))


def test_the_invocation_trace_context_wins_over_the_request_traceparent():
    assert trace_parent(_request(REQUEST), _context(INVOCATION)) == INVOCATION


def test_the_request_traceparent_is_used_only_without_an_invocation_context():
    assert trace_parent(_request(REQUEST), None) == REQUEST
    assert trace_parent(_request(REQUEST), _context("")) == REQUEST
    assert trace_parent(_request("not-a-traceparent"), None) == ""


def _step_span(turn: dict) -> dict:
    conversation = "c" * 32

    @telemetry.agent_step("probe")
    def probe(payload):
        return {"ok": True}

    telemetry.trace_store().clear()
    payload = {"turn": {"tenant_id": "demo", "conversation_id": conversation, "turn_id": "t1", **turn}}
    probe(payload)
    [span] = telemetry.trace_store().spans("demo", conversation)
    return span


def test_a_step_span_is_a_child_of_the_turns_invocation():
    span = _step_span({"trace_id": "1" * 32, "trace_parent": INVOCATION})
    assert span["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert span["parent_id"] == "b7ad6b7169203331"


def test_without_a_trace_parent_the_turns_trace_id_is_kept():
    span = _step_span({"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})
    assert span["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_where_the_worker_exports_the_app_adds_no_exporter_and_no_log_handler(monkeypatch):
    import azure.monitor.opentelemetry as distro

    def refuse(**kwargs):
        raise AssertionError("a second exporter was configured")

    monkeypatch.setattr(distro, "configure_azure_monitor", refuse)
    monkeypatch.setattr(telemetry, "_provider", None)
    monkeypatch.setenv(telemetry.WORKER_EXPORTS_SETTING, "true")
    loggers = [logging.getLogger(), logging.getLogger("shopdesk")]
    before = [list(lg.handlers) for lg in loggers]
    telemetry.configure_telemetry(load_settings(
        APPLICATIONINSIGHTS_CONNECTION_STRING="InstrumentationKey=00000000-0000-0000-0000-000000000000"))
    assert [list(lg.handlers) for lg in loggers] == before


def test_without_the_worker_a_connection_string_exports_from_the_app(monkeypatch):
    import azure.monitor.opentelemetry as distro

    calls = []
    monkeypatch.setattr(distro, "configure_azure_monitor", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(telemetry, "_provider", None)
    monkeypatch.delenv(telemetry.WORKER_EXPORTS_SETTING, raising=False)
    monkeypatch.delenv("APPLICATIONINSIGHTS_AUTHENTICATION_STRING", raising=False)
    telemetry.configure_telemetry(load_settings(
        APPLICATIONINSIGHTS_CONNECTION_STRING="InstrumentationKey=00000000-0000-0000-0000-000000000000"))
    assert len(calls) == 1 and telemetry.trace_store() in calls[0]["span_processors"]


@pytest.mark.parametrize(("value", "exports"), [("true", True), ("True", True), ("1", True), ("false", False),
                                                ("", False)])
def test_worker_export_switch(value, exports):
    assert telemetry.worker_exports_telemetry({telemetry.WORKER_EXPORTS_SETTING: value}) is exports
