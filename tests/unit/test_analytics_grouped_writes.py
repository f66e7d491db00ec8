"""Analytics events handled at the same time (one queue poll's messages) are folded into their minute's counters
together: each counted once, in fewer writes than events, and a failed write fails every message it carried."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.agents import analytics
from core.stores.memory_store import MemoryDocumentStore


def _event(i: int, minute: int = 5) -> analytics.TurnEvent:
    return analytics.TurnEvent(event_id=f"evt-{i}", tenant_id="shop-a", conversation_id=f"c-{i % 3}",
                               at=f"2026-11-21T10:{minute:02d}:{i % 60:02d}.000+00:00", intent="shipping",
                               language="en", confidence=0.9, escalated=i % 4 == 0, blocked=False,
                               grounded=True, citations=1)


class SlowStore(MemoryDocumentStore):
    """Counts writes and holds each one until the test lets it go, so the events sent meanwhile queue up."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.release = threading.Event()
        self.fail = False

    def put(self, *args, **kwargs):
        self.release.wait(10)
        if self.fail:
            raise OSError("store unavailable")
        self.writes += 1
        return super().put(*args, **kwargs)


def _until_waiting(count: int) -> None:
    for _ in range(1000):
        if sum(len(waiting) for waiting in analytics._WRITES._pending.values()) >= count:
            return
        threading.Event().wait(0.01)


def test_events_recorded_at_once_are_each_counted_once_in_fewer_writes() -> None:
    store = SlowStore()
    events = [_event(i) for i in range(16)] + [_event(3)]  # the 17th is a redelivery of evt-3
    with ThreadPoolExecutor(17) as pool:
        answers = [pool.submit(analytics.record_event, store, e) for e in events]
        _until_waiting(16)  # the first write holds; the other events wait for the next
        store.release.set()
        counted = [a.result(10) for a in answers]
    assert counted.count(True) == 16 and counted.count(False) == 1
    assert store.writes < 16
    body = store.get("shop-a", analytics.STATS, "2026-11-21T10:05").body
    assert body["turns"] == 16 and sorted(body["event_ids"]) == sorted(f"evt-{i}" for i in range(16))
    assert sorted(body["conversations"]) == ["c-0", "c-1", "c-2"] and body["escalated"] == 4
    assert not analytics.record_event(store, _event(7))  # counted already


def test_a_failed_write_fails_each_event_it_carried_and_counts_none() -> None:
    store = SlowStore()
    store.fail = True
    with ThreadPoolExecutor(8) as pool:
        answers = [pool.submit(analytics.record_event, store, _event(i)) for i in range(8)]
        store.release.set()
        for answer in answers:
            with pytest.raises(OSError):
                answer.result(10)
    assert store.get("shop-a", analytics.STATS, "2026-11-21T10:05") is None
    store.fail = False
    assert all(analytics.record_event(store, _event(i)) for i in range(8))  # the retried messages count
    assert store.get("shop-a", analytics.STATS, "2026-11-21T10:05").body["turns"] == 8


def test_events_of_other_minutes_and_a_batch_with_a_repeated_id() -> None:
    store = MemoryDocumentStore()
    assert analytics.record_events(store, [_event(1), _event(2), _event(1)]) == [True, True, False]
    assert analytics.record_events(store, [_event(2), _event(3)]) == [False, True]
    with pytest.raises(ValueError):
        analytics.record_events(store, [_event(4), _event(5, minute=6)])
    assert analytics.record_event(store, _event(9, minute=6))
    assert store.get("shop-a", analytics.STATS, "2026-11-21T10:05").body["turns"] == 3
    assert store.get("shop-a", analytics.STATS, "2026-11-21T10:06").body["turns"] == 1
