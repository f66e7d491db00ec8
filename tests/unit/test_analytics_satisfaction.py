"""The analytics agent's dashboard figures: satisfaction from customers' feedback per reply, the resolution rate
(answered without a person), escalations and model cost per day against the shop's budget, one shop at a time."""

from __future__ import annotations

from core import feedback
from core.agents import analytics
from core.llm.costs import LEDGER
from core.stores.memory_store import MemoryDocumentStore


def _event(i: int, day: str, *, escalated=False, grounded=True, blocked=False, language="en") -> analytics.TurnEvent:
    return analytics.TurnEvent(event_id=f"evt-{day}-{i}", tenant_id="shop-a", conversation_id=f"c-{i % 3}",
                               at=f"{day}T10:00:{i:02d}.000+00:00", intent="shipping" if i % 2 else "order_status",
                               language=language, confidence=0.9, escalated=escalated, blocked=blocked,
                               grounded=grounded, citations=1)


def _vote(store, tenant, conversation, turn, rating, day):
    feedback.record(store, tenant, conversation, turn, feedback.FeedbackIn(rating=rating),
                    at=f"{day}T11:00:00.000+00:00")


def test_satisfaction_counts_each_turns_last_vote_by_day_and_shop() -> None:
    store = MemoryDocumentStore()
    _vote(store, "shop-a", "c-1", "t-1", "down", "2026-12-01")
    _vote(store, "shop-a", "c-1", "t-1", "up", "2026-12-01")  # changed their mind: one vote
    _vote(store, "shop-a", "c-1", "t-2", "up", "2026-12-01")
    _vote(store, "shop-a", "c-2", "t-1", "down", "2026-12-01")
    _vote(store, "shop-a", "c-3", "t-1", "down", "2026-12-03")
    _vote(store, "shop-b", "c-1", "t-1", "down", "2026-12-01")
    assert analytics.satisfaction(store, "shop-a", "2026-12-01", "2026-12-01") == {"up": 2, "down": 1,
                                                                                     "rate": 0.6667}
    assert analytics.satisfaction(store, "shop-a", "2026-12-02", "2026-12-02") == {"up": 0, "down": 0, "rate": None}
    assert analytics.satisfaction(store, "shop-b", "2026-12-01", "2026-12-03")["down"] == 1


def test_the_daily_summary_carries_satisfaction() -> None:
    store = MemoryDocumentStore()
    analytics.record_event(store, _event(1, "2026-12-01"))
    _vote(store, "shop-a", "c-1", "evt-1", "up", "2026-12-01")
    assert analytics.daily_summary(store, "shop-a", "2026-12-01")["satisfaction"] == {"up": 1, "down": 0, "rate": 1.0}


def test_daily_series_per_day_and_over_the_range() -> None:
    store = MemoryDocumentStore()
    for i in range(4):  # day 1: 4 turns, one escalated, one without grounding: 2 resolved
        analytics.record_event(store, _event(i, "2026-12-01", escalated=i == 0, grounded=i != 1))
    for i in range(2):
        analytics.record_event(store, _event(i, "2026-12-03", language="fr"))
    analytics.record_event(store, _event(9, "2026-11-20"))  # before the range
    store.put("shop-a", LEDGER, "day-2026-12-03", {"calls": 2, "tokens": 900, "cost": 0.0125, "by_agent": {}})
    _vote(store, "shop-a", "c-0", "t", "down", "2026-12-03")

    series = analytics.daily_series(store, "shop-a", "2026-12-03", 3, budget=0.01)
    assert [d["day"] for d in series["days"]] == ["2026-12-01", "2026-12-02", "2026-12-03"]
    first, empty, last = series["days"]
    assert (first["turns"], first["resolved"], first["escalated"]) == (4, 2, 1)
    assert first["resolution_rate"] == 0.5 and first["escalation_rate"] == 0.25 and first["cost"] == 0.0
    assert empty["turns"] == 0 and empty["resolution_rate"] is None
    assert last["cost"] == 0.0125 and last["satisfaction"] == {"up": 0, "down": 1, "rate": 0.0}
    assert series["daily_budget"] == 0.01
    assert series["languages"] == {"en": 4, "fr": 2}
    assert series["totals"]["turns"] == 6 and series["totals"]["resolution_rate"] == round(4 / 6, 4)
    assert analytics.daily_series(store, "shop-b", "2026-12-03", 3)["totals"]["turns"] == 0
