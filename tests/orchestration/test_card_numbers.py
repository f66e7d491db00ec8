"""A card number written in the chat or by a support agent is kept nowhere but as its last four digits: not in the
conversation document or its read route, the ticket transcript, the analytics event, or the hand-off's Durable
history."""

from __future__ import annotations

import json

import azure.functions as func

from core import conversations
from core.auth import issue_conversation_token
from core.handoff import HandoffJob, instance_id

from .test_conversation_turn import turn, turn_hub

PAN_SPACED, PAN = "4242 4242 4242 4242", "4242424242424242"
MASKED = "**** **** **** 4242"
CONVERSATION = "conv-card-0001"


def _handler(functions, name: str):
    return next(f for f in functions if f.get_function_name() == name).get_user_function()


def _no_pan(text: str) -> bool:
    return PAN_SPACED not in text and PAN not in text and "4242-4242-4242-4242" not in text


async def test_a_card_number_in_a_turn_is_stored_and_served_as_its_last_four_digits(services, functions, tmp_path):
    message = f"I was charged twice on my card {PAN_SPACED}, I want to speak to a human now"
    async with turn_hub(functions, tmp_path / "turns.sqlite") as (engine, store, _):
        await engine.start_new("conversation_turn", "card-1", turn(message, conversation=CONVERSATION,
                                                                   turn_id="turn-card-1"))
        status = await engine.wait_for("card-1")
    assert status["runtimeStatus"] == "Completed", status
    assert status["output"]["escalation"]["escalated"] is True

    document = json.dumps(services.store.get("demo", "conversations", CONVERSATION).body, ensure_ascii=False)
    assert _no_pan(document) and f"my card {MASKED}," in document

    ticket = services.store.get("demo", "tickets", CONVERSATION).body
    assert _no_pan(json.dumps(ticket, ensure_ascii=False))
    assert ticket["transcript"][-1]["user"] == message.replace(PAN_SPACED, MASKED)

    pending = services.store.get("demo", "analytics-pending", "turn-card-1")  # the turn's event, until counted
    stats = [d.body for d in services.store.list("demo", "stats")]
    assert pending is not None or any("turn-card-1" in body["event_ids"] for body in stats)
    assert _no_pan(json.dumps([pending.body if pending else None, *stats], ensure_ascii=False))
    assert all(_no_pan(m) for queue in services.queue.messages.values() for m in queue)

    token = issue_conversation_token(services.settings, "demo", CONVERSATION)
    read = func.HttpRequest("GET", f"http://localhost/api/tenants/demo/conversations/{CONVERSATION}", body=b"",
                            route_params={"tenant": "demo", "conversation_id": CONVERSATION},
                            headers={"X-Conversation-Token": token})
    response = _handler(functions, "get_conversation")(read)
    assert response.status_code == 200
    body = json.loads(response.get_body())
    assert _no_pan(response.get_body().decode()) and body["turns"][0]["user"] == message.replace(PAN_SPACED, MASKED)


async def test_an_agent_reply_with_a_card_number_is_masked_before_the_handoff_records_it(services, functions,
                                                                                         tmp_path):
    conversations.update(services.store, "demo", CONVERSATION, lambda conv: setattr(conv, "ticket_id", "T-CARD0001"))
    job = HandoffJob(tenant_id="demo", conversation_id=CONVERSATION, ticket_id="T-CARD0001", language="fr")
    handoff = instance_id("demo", CONVERSATION)
    async with turn_hub(functions, tmp_path / "handoff.sqlite") as (engine, store, api):
        await engine.start_new("human_handoff", handoff, job.model_dump_json())
        await engine.wait_idle()
        reply = func.HttpRequest(
            "POST", f"http://localhost/api/tenants/demo/conversations/{CONVERSATION}/agent-reply",
            route_params={"tenant": "demo", "conversation_id": CONVERSATION},
            body=json.dumps({"message": "Le remboursement ira sur la carte 4242-4242-4242-4242.",
                             "agent": "Julie", "close_ticket": True}).encode())
        response = await _handler(functions, "agent_reply")(req=reply, client=api.binding_json())
        assert response.status_code == 202 and json.loads(response.get_body())["delivery"] == "via_handoff"
        assert (await engine.wait_for(handoff))["output"] == {"state": "closed", "replies": 1}
        history = json.dumps(store.get_history(handoff), ensure_ascii=False)
    # The raised event and the relay activity's input, as the Durable history keeps them.
    assert "agent_reply" in history and "relay_agent_reply" in history
    assert _no_pan(history) and "****-****-****-4242" in history
    conv = conversations.load(services.store, "demo", CONVERSATION)
    assert [m.text for m in conv.agent_messages] == ["Le remboursement ira sur la carte ****-****-****-4242."]
