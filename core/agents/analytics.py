"""Analytics agent: one event per turn on a queue, per-tenant daily counters, and the daily summary report."""

from __future__ import annotations

from collections import Counter

from core.models import TurnEvent, TurnResult
from core.stores.optimistic import read_modify_write
from core.stores.ports import DocumentStore
from core.turn.ports import TurnPorts
from core.turn.state import TurnState

STATS = "stats"
REPORTS = "reports"


def turn_event(result: TurnResult, *, at: str, blocked: bool, grounded: bool) -> TurnEvent:
    """The analytics event of a recorded turn (its id is the turn id, so a retried send is counted once)."""
    return TurnEvent(event_id=result.turn_id, tenant_id=result.tenant_id, conversation_id=result.conversation_id,
                     at=at, intent=result.intent, language=result.language, confidence=result.confidence,
                     escalated=result.escalation.escalated, blocked=blocked, grounded=grounded,
                     citations=len(result.citations))


def publish_turn_event(state: TurnState, ports: TurnPorts) -> None:
    """Queue the recorded turn's analytics event, once the customer has the reply."""
    assert state.recorded is not None
    ports.queue.send(ports.settings.ANALYTICS_QUEUE_NAME, state.recorded.event.model_dump_json())


#: Raw counters live in one document per tenant and minute (``<day>T<HH:MM>``): a document holds the ids it
#: has counted, so a redelivered event is counted once, and its size stays bounded by one minute's traffic
#: rather than growing all day (a day document rewritten per turn was O(turns) per event).
STATS_TTL_SECONDS = 90 * 86400
_MAX_BUCKETS_PER_DAY = 24 * 60 + 1  # plus a day document written before minute buckets existed


def _bucket(at: str) -> str:
    """``2026-11-21T10:05:33.120+00:00`` -> ``2026-11-21T10:05`` (the day alone when no time is given)."""
    return at[:16] if len(at) >= 16 and at[10] == "T" else at[:10]


def record_event(store: DocumentStore, event: TurnEvent, attempts: int = 30) -> bool:
    """Fold one event into its minute's counters; returns False when the event was already counted."""
    bucket = _bucket(event.at)

    def change(current: dict | None) -> dict | None:
        body = current or {"day": bucket[:10], "turns": 0, "conversations": [], "intents": {}, "languages": {},
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

    written = read_modify_write(store, event.tenant_id, STATS, bucket, change, attempts=attempts,
                                ttl_seconds=STATS_TTL_SECONDS,
                                message=f"stats for {event.tenant_id}/{bucket} are contended; the message is retried")
    return written is not None


def day_counters(store: DocumentStore, tenant_id: str, day: str) -> dict:
    """The day's counters summed over its minute documents (conversations counted once across minutes)."""
    totals: dict = {"turns": 0, "intents": Counter(), "languages": Counter(), "escalated": 0, "blocked": 0,
                    "ungrounded": 0}
    conversations: set[str] = set()
    for doc in store.list(tenant_id, STATS, prefix=day, limit=_MAX_BUCKETS_PER_DAY):
        if doc.id != day and not doc.id.startswith(f"{day}T"):
            continue
        body = doc.body
        for key in ("turns", "escalated", "blocked", "ungrounded"):
            totals[key] += body.get(key, 0)
        totals["intents"].update(body.get("intents", {}))
        totals["languages"].update(body.get("languages", {}))
        conversations.update(body.get("conversations", []))
    totals["conversations"] = len(conversations)
    return totals


def daily_summary(store: DocumentStore, tenant_id: str, day: str) -> dict:
    """Summarise one day's conversations for the operator and store it under reports/daily-<day>."""
    stats = day_counters(store, tenant_id, day)
    intents = stats["intents"]
    turns = stats["turns"]
    summary = {
        "tenant_id": tenant_id,
        "day": day,
        "turns": turns,
        "conversations": stats["conversations"],
        "top_intents": intents.most_common(5),
        "languages": dict(stats["languages"]),
        "escalation_rate": round(stats.get("escalated", 0) / turns, 4) if turns else 0.0,
        "blocked": stats.get("blocked", 0),
        "answered_from_data_rate": round(1 - stats.get("ungrounded", 0) / turns, 4) if turns else 0.0,
    }
    store.put(tenant_id, REPORTS, f"daily-{day}", summary)
    return summary
