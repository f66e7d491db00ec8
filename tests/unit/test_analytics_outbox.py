"""Turn events published while a send to the analytics queue is under way go together in the next message; each
publisher returns once its event is on the queue (or raises that send's error); the consumer counts every event of
a message once, and rejects a malformed message without its content."""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import azure.functions as func
import pytest

from core.agents import analytics
from core.agents.analytics_outbox import EventOutbox, events_of_message


def _event(i: int) -> analytics.TurnEvent:
    return analytics.TurnEvent(event_id=f"evt-o-{i}", tenant_id="demo", conversation_id=f"c-{i % 3}",
                               at="2026-11-21T10:05:00.000+00:00", intent="shipping", language="en",
                               confidence=0.9, escalated=False, blocked=False, grounded=True, citations=1)


class HeldQueue:
    """Holds the first send until released, so the events published meanwhile wait for the next message."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.release = threading.Event()
        self.entered = threading.Event()
        self.fail_next = False

    def send(self, queue_name: str, message: str) -> None:
        self.entered.set()
        assert self.release.wait(10), "the test never released the queue"
        if self.fail_next:
            self.fail_next = False
            raise OSError("queue unavailable")
        self.sent.append(message)


def _waiting(outbox: EventOutbox, count: int) -> None:
    for _ in range(1000):
        if sum(len(p) for p in outbox._pending.values()) >= count:
            return
        threading.Event().wait(0.01)


def _events_sent(queue: HeldQueue) -> list[str]:
    return [e.event_id for message in queue.sent for e in events_of_message(message)]


def test_events_published_during_a_send_go_together_in_the_next_message_and_each_once() -> None:
    queue, outbox = HeldQueue(), EventOutbox(window=0)
    texts = [_event(i).model_dump_json() for i in range(12)]
    with ThreadPoolExecutor(12) as pool:
        first = pool.submit(outbox.publish, queue, "analytics", texts[0])
        assert queue.entered.wait(10)
        rest = [pool.submit(outbox.publish, queue, "analytics", text) for text in texts[1:]]
        _waiting(outbox, 11)
        assert not any(f.done() for f in [first, *rest])  # nobody returns before its message is on the queue
        queue.release.set()
        for future in [first, *rest]:
            future.result(10)
    assert len(queue.sent) == 2 and json.loads(queue.sent[0])["event_id"] == "evt-o-0"  # one event: its object
    assert isinstance(json.loads(queue.sent[1]), list)
    assert sorted(_events_sent(queue)) == sorted(f"evt-o-{i}" for i in range(12))


def test_a_message_holds_at_most_max_events_and_the_rest_follow() -> None:
    queue, outbox = HeldQueue(), EventOutbox(max_events=4, window=0)
    with ThreadPoolExecutor(11) as pool:
        first = pool.submit(outbox.publish, queue, "analytics", _event(0).model_dump_json())
        assert queue.entered.wait(10)
        rest = [pool.submit(outbox.publish, queue, "analytics", _event(i).model_dump_json()) for i in range(1, 11)]
        _waiting(outbox, 10)
        queue.release.set()
        for future in [first, *rest]:
            future.result(10)
    assert [len(events_of_message(m)) for m in queue.sent] == [1, 4, 4, 2]
    assert sorted(_events_sent(queue)) == sorted(f"evt-o-{i}" for i in range(11))


def test_a_failed_send_fails_every_publisher_it_carried_and_the_next_send_goes_out() -> None:
    queue, outbox = HeldQueue(), EventOutbox(window=0)
    queue.fail_next = True
    with ThreadPoolExecutor(4) as pool:
        failing = pool.submit(outbox.publish, queue, "analytics", _event(0).model_dump_json())
        assert queue.entered.wait(10)
        queue.release.set()
        with pytest.raises(OSError):
            failing.result(10)
        outbox.publish(queue, "analytics", _event(1).model_dump_json())
    assert _events_sent(queue) == ["evt-o-1"]


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


class ListQueue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, queue_name: str, message: str) -> None:
        self.sent.append(message)


def test_a_lone_event_goes_at_once_and_while_turns_publish_a_send_waits_for_company() -> None:
    queue, outbox = ListQueue(), EventOutbox(max_events=2, window=30)
    outbox.publish(queue, "analytics", _event(0).model_dump_json())  # a quiet queue: sent at once, alone
    assert len(queue.sent) == 1
    with ThreadPoolExecutor(2) as pool:
        waiting = pool.submit(outbox.publish, queue, "analytics", _event(1).model_dump_json())
        _waiting(outbox, 1)
        assert not waiting.done() and len(queue.sent) == 1  # busy queue: held for the next event
        outbox.publish(queue, "analytics", _event(2).model_dump_json())
        waiting.result(10)
    assert [len(events_of_message(m)) for m in queue.sent] == [1, 2]
