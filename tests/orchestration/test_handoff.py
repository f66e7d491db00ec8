"""The human hand-off orchestration on the local engine with a virtual clock: replies relayed, then a timeout."""

from __future__ import annotations

import json

from core import conversations
from core.devhost.durable import AppInvoker, DurableEngine, DurableStore, VirtualClock
from core.handoff import HandoffJob


def seed_conversation(store, conversation_id: str) -> None:
    def mutate(conv):
        conv.ticket_id = "T-ABCDEF12"
        conv.language = "fr"

    conversations.update(store, "demo", conversation_id, mutate)


async def start(functions, tmp_path, clock, job: HandoffJob):
    store = DurableStore(tmp_path / "handoff.sqlite", "HandoffHub")
    engine = DurableEngine(store, AppInvoker(functions), clock, task_hub="HandoffHub")
    await engine.start()
    await engine.start_new("human_handoff", "h1", job.model_dump_json())
    await engine.wait_idle()
    return engine, store


async def test_agent_replies_reach_the_conversation_then_silence_times_out(services, functions, tmp_path):
    seed_conversation(services.store, "conv-handoff-01")
    clock = VirtualClock()
    job = HandoffJob(tenant_id="demo", conversation_id="conv-handoff-01", ticket_id="T-ABCDEF12", language="fr",
                     timeout_minutes=30)
    engine, _ = await start(functions, tmp_path, clock, job)
    try:
        status = await engine.get_status("h1")
        assert status["runtimeStatus"] == "Running" and status["customStatus"]["state"] == "waiting_for_agent"
        assert conversations.load(services.store, "demo", "conv-handoff-01").handoff == "waiting"

        await engine.raise_event("h1", "agent_reply", json.dumps({"message": "Bonjour! Je regarde votre commande.",
                                                                  "agent": "Julie"}))
        await engine.wait_idle()
        conv = conversations.load(services.store, "demo", "conv-handoff-01")
        assert [m.text for m in conv.agent_messages] == ["Bonjour! Je regarde votre commande."]
        assert conv.agent_messages[0].author == "agent:Julie" and conv.handoff == "answered"
        status = await engine.get_status("h1")
        assert status["runtimeStatus"] == "Running" and status["customStatus"]["replies"] == 1  # continued as new

        clock.advance(minutes=29)
        await engine.wait_idle()
        assert (await engine.get_status("h1"))["runtimeStatus"] == "Running"
        clock.advance(minutes=2)
        final = await engine.wait_for("h1")
        assert final["runtimeStatus"] == "Completed" and final["output"] == {"state": "timed_out", "replies": 1}
        conv = conversations.load(services.store, "demo", "conv-handoff-01")
        assert conv.handoff == "timed_out" and "T-ABCDEF12" in conv.agent_messages[-1].text
        assert "courriel" in conv.agent_messages[-1].text  # told in the customer's language
    finally:
        await engine.stop()


async def test_closing_reply_ends_the_handoff(services, functions, tmp_path):
    seed_conversation(services.store, "conv-handoff-02")
    clock = VirtualClock()
    job = HandoffJob(tenant_id="demo", conversation_id="conv-handoff-02", ticket_id="T-ABCDEF12")
    engine, _ = await start(functions, tmp_path, clock, job)
    try:
        await engine.raise_event("h1", "agent_reply", json.dumps({"message": "Refund issued.", "close_ticket": True}))
        final = await engine.wait_for("h1")
        assert final["output"] == {"state": "closed", "replies": 1}
        assert conversations.load(services.store, "demo", "conv-handoff-02").handoff == "closed"
        ticket = services.store.get("demo", "tickets", "conv-handoff-02")
        assert ticket is None or ticket.body["status"] == "solved"
    finally:
        await engine.stop()


def test_a_reply_with_no_hand_off_waiting_still_reaches_the_customer(services):
    from core.agents.escalation import TICKETS, open_ticket
    from core.handoff import AgentReply, relay_without_handoff

    seed_conversation(services.store, "conv-handoff-03")
    open_ticket(services.store, tenant_id="demo", conversation_id="conv-handoff-03", reason="complaint", language="fr",
                transcript=[], customer=None, priority="high", created_at="2026-11-20")
    state = relay_without_handoff(services.store, "demo", "conv-handoff-03",
                                  AgentReply(message="Bonjour, c'est réglé.", agent="Julie"))
    [message] = state.agent_messages
    assert message.ticket_id == "T-ABCDEF12" and message.author == "agent:Julie" and state.handoff == "answered"
    assert services.store.get("demo", TICKETS, "conv-handoff-03").body["status"] == "answered"
    # Never escalated: the reply is still kept, under no ticket; a second reply is a second message.
    relay_without_handoff(services.store, "demo", "conv-handoff-04", AgentReply(message="Hello!"))
    again = relay_without_handoff(services.store, "demo", "conv-handoff-04", AgentReply(message="Anything else?"))
    assert [m.text for m in again.agent_messages] == ["Hello!", "Anything else?"]
    assert all(m.ticket_id is None for m in again.agent_messages)
