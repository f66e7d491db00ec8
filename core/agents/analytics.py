"""Analytics agent: one event per turn on a queue, per-tenant daily counters, and the daily summary report."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from core.stores.optimistic import read_modify_write
from core.stores.ports import DocumentStore

STATS = "stats"
REPORTS = "reports"


class TurnEvent(BaseModel):
    """No message text and no customer data: only what the dashboards need."""

    event_id: str
    tenant_id: str
    conversation_id: str
    at: str
    intent: str
    language: str
    confidence: float
    escalated: bool
    blocked: bool
    grounded: bool
    citations: int
    latency_ms: float | None = None


def record_event(store: DocumentStore, event: TurnEvent, attempts: int = 30) -> bool:
    """Fold one event into the day's counters; returns False when the event was already counted."""
    day = event.at[:10]

    def change(current: dict | None) -> dict | None:
        body = current or {"day": day, "turns": 0, "conversations": [], "intents": {}, "languages": {},
                           "escalated": 0, "blocked": 0, "ungrounded": 0, "event_ids": []}
        if event.event_id in body["event_ids"]:
            return None
        body["turns"] += 1
        if event.conversation_id not in body["conversations"]:
            body["conversations"].append(event.conversation_id)
        body["intents"][event.intent] = body["intents"].get(event.intent, 0) + 1
        body["languages"][event.language] = body["languages"].get(event.language, 0) + 1
        body["escalated"] += int(event.escalated)
        body["blocked"] += int(event.blocked)
        body["ungrounded"] += int(not event.grounded)
        body["event_ids"].append(event.event_id)
        return body

    written = read_modify_write(store, event.tenant_id, STATS, day, change, attempts=attempts,
                                message=f"stats for {event.tenant_id}/{day} are contended; the message will be retried")
    return written is not None


def daily_summary(store: DocumentStore, tenant_id: str, day: str) -> dict:
    """Summarise one day's conversations for the operator and store it under reports/daily-<day>."""
    stored = store.get(tenant_id, STATS, day)
    stats = stored.body if stored else {}
    intents = Counter(stats.get("intents", {}))
    turns = stats.get("turns", 0)
    summary = {
        "tenant_id": tenant_id,
        "day": day,
        "turns": turns,
        "conversations": len(stats.get("conversations", [])),
        "top_intents": intents.most_common(5),
        "languages": stats.get("languages", {}),
        "escalation_rate": round(stats.get("escalated", 0) / turns, 4) if turns else 0.0,
        "blocked": stats.get("blocked", 0),
        "answered_from_data_rate": round(1 - stats.get("ungrounded", 0) / turns, 4) if turns else 0.0,
    }
    store.put(tenant_id, REPORTS, f"daily-{day}", summary)
    return summary
