"""Escalation → hand-off orchestration (started from the escalation queue) → agent reply → customer sees it."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.integration.hosting import key_header

# agent-reply is a FUNCTION-level route: the local host wants the key from LOCAL_FUNCTION_KEY, as Azure would.
KEY = {"x-functions-key": "local-function-key"}

pytestmark = pytest.mark.integration


def test_agent_reply_reaches_the_customer(app_host):
    body = httpx.post(f"{app_host.base}/api/tenants/demo/chat", timeout=20,
                      json={"message": "I want to talk to a human about my order"}).json()
    assert body["escalation"]["escalated"]
    conversation = body["conversation_id"]
    instance = f"handoff--demo--{conversation}"
    deadline = time.monotonic() + 20
    status = {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{app_host.base}/runtime/webhooks/durabletask/instances/{instance}", timeout=5,
                             headers=key_header("LOCAL_DURABLE_SYSTEM_KEY"))
        status = response.json() if response.status_code != 404 else {}
        if status.get("runtimeStatus") == "Running" and status.get("customStatus"):
            break  # waiting for the agent (the orchestration sets its status once the hand-off is recorded)
        time.sleep(0.2)
    assert status.get("runtimeStatus") == "Running", status
    assert status["customStatus"]["ticket_id"] == body["escalation"]["ticket_id"]

    reply = httpx.post(f"{app_host.base}/api/tenants/demo/conversations/{conversation}/agent-reply", timeout=10,
                       headers=KEY,
                       json={"message": "Hi, this is Sam from the workshop. Your parcel left today.", "agent": "Sam"})
    assert reply.status_code == 202 and reply.json()["delivery"] == "via_handoff"
    deadline = time.monotonic() + 10
    view = {}
    while time.monotonic() < deadline:
        view = httpx.get(f"{app_host.base}/api/tenants/demo/conversations/{conversation}", timeout=5,
                         headers={"X-Conversation-Token": body["conversation_token"]}).json()
        if view["agent_messages"]:
            break
        time.sleep(0.1)
    assert view["agent_messages"][0]["text"].startswith("Hi, this is Sam")
    assert view["handoff"] == "answered" and view["ticket_id"] == body["escalation"]["ticket_id"]


def test_agent_reply_validation_and_unknown_conversation(app_host):
    missing = httpx.post(f"{app_host.base}/api/tenants/demo/conversations/doesnotexist0/agent-reply",
                         json={"message": "hi"}, timeout=5, headers=KEY)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    chat = httpx.post(f"{app_host.base}/api/tenants/demo/chat", json={"message": "hello"}, timeout=20).json()
    bad = httpx.post(f"{app_host.base}/api/tenants/demo/conversations/{chat['conversation_id']}/agent-reply",
                     json={"text": "wrong field"}, timeout=5, headers=KEY)
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"message", "text"}
