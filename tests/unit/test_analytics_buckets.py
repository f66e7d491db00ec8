"""Analytics counters stay small however busy the day is, and still count each event once."""

from __future__ import annotations

from core.agents import analytics
from core.stores.memory_store import MemoryDocumentStore


def _event(i: int, minute: int, conversation: str) -> analytics.TurnEvent:
    return analytics.TurnEvent(event_id=f"evt-{i}", tenant_id="shop-a", conversation_id=conversation,
                               at=f"2026-11-21T10:{minute:02d}:{i % 60:02d}.000+00:00", intent="shipping",
                               language="en", confidence=0.9, escalated=i % 10 == 0, blocked=False,
                               grounded=True, citations=1)


def test_a_busy_day_is_split_into_minute_documents_and_summed_exactly() -> None:
    store = MemoryDocumentStore()
    # 600 turns over 6 minutes; conversation c-7 spans every minute and must be counted once
    events = [_event(i, i // 100, f"c-{i % 50}") for i in range(600)]
    assert all(analytics.record_event(store, e) for e in events)
    assert not analytics.record_event(store, events[123])  # a redelivery is not counted again

    docs = store.list("shop-a", analytics.STATS, limit=100)
    assert len(docs) == 6
    assert max(len(d.body["event_ids"]) for d in docs) == 100

    summary = analytics.daily_summary(store, "shop-a", "2026-11-21")
    assert summary["turns"] == 600
    assert summary["conversations"] == 50
    assert summary["escalation_rate"] == 0.1
    assert analytics.daily_summary(store, "shop-a", "2026-11-22")["turns"] == 0


def test_a_day_document_from_before_minute_buckets_is_still_summed() -> None:
    store = MemoryDocumentStore()
    store.put("shop-a", analytics.STATS, "2026-11-21", {
        "day": "2026-11-21", "turns": 2, "conversations": ["c-1"], "intents": {"returns_refunds": 2},
        "languages": {"fr-CA": 2}, "escalated": 0, "blocked": 0, "ungrounded": 1, "event_ids": ["old-1", "old-2"]})
    analytics.record_event(store, _event(1, 5, "c-1"))
    summary = analytics.daily_summary(store, "shop-a", "2026-11-21")
    assert (summary["turns"], summary["conversations"]) == (3, 1)
    assert summary["top_intents"] == [("returns_refunds", 2), ("shipping", 1)]
