"""A turn's analytics event is written with the turn's record in one atomic store write; the process that recorded
it counts it, and the sweep counts what a process left (stopped before counting, a failed count): each event is
counted once, or dead-lettered after repeated failures. The analytics queue's consumer counts every event of a
message once and rejects a malformed message without its content."""

from __future__ import annotations

import logging
import uuid

import azure.functions as func
import pytest

from core.agents import analytics, analytics_outbox, memory
from core.agents.analytics_outbox import DEAD, PENDING, PendingDrain
from core.models import TurnInput
from core.stores.ports import BatchError
from core.turn import steps
from core.turn.runner import run_activity
from core.turn.state import TurnState


def _event(i: int) -> analytics.TurnEvent:
    return analytics.TurnEvent(event_id=f"evt-o-{i}", tenant_id="demo", conversation_id=f"c-{i % 3}",
                               at="2026-11-21T10:05:00.000+00:00", intent="shipping", language="en",
                               confidence=0.9, escalated=False, blocked=False, grounded=True, citations=1)


def _turn(services, message: str, turn_id: str, conversation: str = "conv-outbox-1") -> TurnState:
    """One turn's activities in process, as the orchestrator sequences them."""
    state = TurnState(turn=TurnInput(tenant_id="demo", conversation_id=conversation, turn_id=turn_id, message=message,
                                     trace_id="0" * 32, received_at="2026-11-21T10:00:00+00:00"))
    for stage in steps.REPLY:
        for activity in stage:
            if activity.due(state):
                if activity.prepare is not None:
                    activity.prepare(state)
                activity.apply(state, run_activity(activity, activity.payload(state), services.turn_ports()))
    return state


def _stats(services, event: analytics.TurnEvent) -> dict:
    doc = services.store.get("demo", analytics.STATS, event.at[:16])
    return doc.body if doc else {"turns": 0, "event_ids": []}


@pytest.fixture
def drain(monkeypatch) -> PendingDrain:
    """This process's drain, counting only when the test flushes it."""
    held = PendingDrain(window=3600)
    monkeypatch.setattr(analytics_outbox, "DRAIN", held)
    return held


def test_a_turn_and_its_event_are_one_write_and_the_recording_process_counts_it_once(services, drain, monkeypatch):
    batches: list[list[str]] = []
    real_batch = services.store.batch
    monkeypatch.setattr(services.store, "batch", lambda tenant, ops: batches.append([o.collection for o in ops])
                        or real_batch(tenant, ops))
    state = _turn(services, "What is your return policy?", "turn-outbox-1")
    event = state.recorded.event
    assert ["conversations", PENDING] in batches
    assert services.store.get("demo", PENDING, "turn-outbox-1").body["event"] == event.model_dump(mode="json")
    assert _stats(services, event)["turns"] == 0  # not counted until the drain runs
    assert drain.flush() == 1 and drain.flush() == 0
    assert services.store.get("demo", PENDING, "turn-outbox-1") is None
    assert _stats(services, event)["event_ids"] == ["turn-outbox-1"]


def test_an_event_left_by_a_process_that_stopped_before_counting_is_counted_once_by_the_sweep(services, drain,
                                                                                              monkeypatch):
    monkeypatch.setattr(drain, "written", lambda *args: None)  # the process stops between the write and the count
    event = _turn(services, "Do you ship to Canada?", "turn-outbox-2").recorded.event
    assert analytics_outbox.sweep(services.store, ["demo"])["counted"] == 0  # too recent: its process may count it
    assert analytics_outbox.sweep(services.store, ["demo"], older_than=0)["counted"] == 1
    assert analytics_outbox.sweep(services.store, ["demo"], older_than=0)["counted"] == 0
    real = PendingDrain(window=3600)
    real.written(services.store, "demo", event.event_id)  # a late count of the same event finds nothing to do
    assert real.flush() == 0
    assert _stats(services, event)["turns"] == 1 and _stats(services, event)["event_ids"] == ["turn-outbox-2"]


def test_an_event_counted_by_both_the_drain_and_the_sweep_is_counted_once(services, drain):
    event = _turn(services, "Where is my order?", "turn-outbox-3").recorded.event
    pending = services.store.get("demo", PENDING, event.event_id)
    analytics_outbox.count_pending(services.store, "demo", [pending])  # the sweep took it first
    assert drain.flush() == 0
    assert _stats(services, event)["turns"] == 1


def test_the_turn_is_not_recorded_when_its_event_cannot_be_written_with_it(services, drain):
    services.store.put("demo", PENDING, "turn-outbox-4", {"event": {}})  # the event's document cannot be created
    with pytest.raises(BatchError):
        _turn(services, "What is your return policy?", "turn-outbox-4", conversation="conv-outbox-4")
    assert services.store.get("demo", "conversations", "conv-outbox-4") is None
    services.store.delete("demo", PENDING, "turn-outbox-4")
    state = _turn(services, "What is your return policy?", "turn-outbox-4", conversation="conv-outbox-4")
    assert services.store.get("demo", PENDING, "turn-outbox-4").body["event"]["event_id"] == state.turn.turn_id


def test_a_record_retried_after_its_write_landed_writes_no_second_event(services, drain):
    state = _turn(services, "What is your return policy?", "turn-outbox-5")
    assert drain.flush() == 1
    retried = TurnState.model_validate(state.model_dump(mode="json") | {"recorded": None})
    recorded = memory.record_turn(retried, services.turn_ports())  # a later time: another minute, maybe
    assert services.store.get("demo", PENDING, "turn-outbox-5") is None
    analytics_outbox.count_turn_event(TurnState.model_validate({**retried.model_dump(mode="json"),
                                                                "recorded": recorded.model_dump(mode="json")}),
                                      services.turn_ports())
    assert drain.flush() == 0 and _stats(services, state.recorded.event)["turns"] == 1


def test_an_event_that_cannot_be_counted_is_retried_then_dead_lettered(services, monkeypatch, caplog):
    store = services.store
    store.batch("demo", [analytics_outbox.pending_operation(_event(1))])
    store.put("demo", PENDING, "not-an-event", {"event": {"event_id": 1, "note": "leak.me@example.com"}})

    def down(store, events, attempts=30):
        raise OSError("store unavailable")

    monkeypatch.setattr(analytics, "record_message_events", down)
    with caplog.at_level(logging.INFO):
        outcomes = [analytics_outbox.sweep(store, ["demo"], older_than=0)
                    for _ in range(analytics_outbox.MAX_ATTEMPTS)]
    assert outcomes[0]["dead"] == 1  # a document that can never be counted, at once
    assert [o["retried"] for o in outcomes] == [1] * (analytics_outbox.MAX_ATTEMPTS - 1) + [0]
    assert outcomes[-1]["dead"] == 1 and store.list("demo", PENDING) == []
    assert sorted(d.id for d in store.list("demo", DEAD)) == ["evt-o-1", "not-an-event"]
    assert "leak.me" not in caplog.text


def test_a_store_without_pending_events_is_swept_without_writes(services):
    tenant = f"t-{uuid.uuid4().hex[:6]}"
    assert analytics_outbox.sweep(services.store, [tenant], older_than=0) == {"counted": 0, "retried": 0, "dead": 0}


def test_a_message_of_several_events_is_counted_once_each_by_the_consumer(services, functions, caplog) -> None:
    handler = next(f for f in functions if f.get_function_name() == "analytics_events").get_user_function()
    events = [_event(i) for i in range(5)]
    body = "[" + ",".join(e.model_dump_json() for e in events) + "]"
    handler(func.QueueMessage(id="m-1", body=body.encode()))
    handler(func.QueueMessage(id="m-2", body=body.encode()))  # redelivered: counted once
    handler(func.QueueMessage(id="m-3", body=_event(5).model_dump_json().encode()))
    stats = services.store.get("demo", analytics.STATS, "2026-11-21T10:05").body
    assert stats["turns"] == 6 and sorted(stats["event_ids"]) == sorted(f"evt-o-{i}" for i in range(6))
    for bad in ("[]", '["leak.me@example.com"]', '{"event_id": 1}'):
        with caplog.at_level(logging.INFO), pytest.raises(ValueError):
            handler(func.QueueMessage(id="m-bad", body=bad.encode()))
    assert "leak.me" not in caplog.text and "m-bad" in caplog.text
