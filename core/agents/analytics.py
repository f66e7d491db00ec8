"""Analytics agent: one event per turn (stored with the turn's record, ``core.agents.analytics_outbox``), per-tenant
counters, customers' satisfaction from their feedback, the daily summary report and the day-by-day figures the
operator console charts."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta

from core import feedback
from core.llm.costs import LEDGER
from core.models import TurnEvent, TurnResult
from core.stores.optimistic import read_modify_write
from core.stores.ports import DocumentStore

STATS = "stats"
REPORTS = "reports"


def turn_event(result: TurnResult, *, at: str, blocked: bool, grounded: bool) -> TurnEvent:
    """The analytics event of a recorded turn (its id is the turn id, so a retried send is counted once)."""
    return TurnEvent(event_id=result.turn_id, tenant_id=result.tenant_id, conversation_id=result.conversation_id,
                     at=at, intent=result.intent, language=result.language, confidence=result.confidence,
                     escalated=result.escalation.escalated, blocked=blocked, grounded=grounded,
                     citations=len(result.citations))


#: Raw counters live in one document per tenant and minute (``<day>T<HH:MM>``): a document holds the ids it
#: has counted, so a redelivered event is counted once, and its size stays bounded by one minute's traffic
#: rather than growing all day (a day document rewritten per turn was O(turns) per event).
STATS_TTL_SECONDS = 90 * 86400
_MAX_BUCKETS_PER_DAY = 24 * 60 + 1  # plus a day document written before minute buckets existed


def _bucket(at: str) -> str:
    """``2026-11-21T10:05:33.120+00:00`` -> ``2026-11-21T10:05`` (the day alone when no time is given)."""
    return at[:16] if len(at) >= 16 and at[10] == "T" else at[:10]


def record_event(store: DocumentStore, event: TurnEvent, attempts: int = 30) -> bool:
    """Fold one event into its minute's counters; returns False when the event was already counted.

    Events of the same tenant and minute recorded at the same time (the messages of one queue poll, handled
    together) are folded in one write: a caller whose event another caller's write already carried returns with
    that write's answer, and an error of the write is raised to every caller whose event it carried, so each
    message is retried or dead-lettered on its own."""
    return _WRITES.record(store, [event], attempts)[0]


def record_message_events(store: DocumentStore, events: list[TurnEvent], attempts: int = 30) -> list[bool]:
    """Fold the events of one queue message or one drain of pending events (``core.agents.analytics_outbox``) into
    their minutes' counters, with the events others handle at the same time; for each, whether it was counted. An
    error of any write is raised, so they are counted again later (the events already counted are not counted
    again)."""
    return _WRITES.record(store, events, attempts)


def record_events(store: DocumentStore, events: list[TurnEvent], attempts: int = 30) -> list[bool]:
    """Fold events of one tenant and minute into their counters in one write; for each, whether it was counted
    (False: already counted, or an earlier event of ``events`` with the same id)."""
    if not events:
        return []
    bucket, tenant_id = _bucket(events[0].at), events[0].tenant_id
    if any(_bucket(e.at) != bucket or e.tenant_id != tenant_id for e in events):
        raise ValueError("record_events folds the events of one tenant and minute")
    counted: list[bool] = []

    def change(current: dict | None) -> dict | None:
        body = current or {"day": bucket[:10], "turns": 0, "conversations": [], "intents": {}, "languages": {},
                           "escalated": 0, "blocked": 0, "ungrounded": 0, "resolved": 0, "event_ids": []}
        seen = set(body["event_ids"])
        conversations = set(body["conversations"])
        counted.clear()
        for event in events:
            if event.event_id in seen:
                counted.append(False)
                continue
            counted.append(True)
            seen.add(event.event_id)
            body["turns"] += 1
            if event.conversation_id not in conversations:
                conversations.add(event.conversation_id)
                body["conversations"].append(event.conversation_id)
            body["intents"][event.intent] = body["intents"].get(event.intent, 0) + 1
            body["languages"][event.language] = body["languages"].get(event.language, 0) + 1
            body["escalated"] += int(event.escalated)
            body["blocked"] += int(event.blocked)
            body["ungrounded"] += int(not event.grounded)
            # Answered without a person: grounded, not blocked, not handed to a human.
            body["resolved"] = (body.get("resolved", 0)
                                + int(event.grounded and not event.blocked and not event.escalated))
            body["event_ids"].append(event.event_id)
        return body if any(counted) else None

    read_modify_write(store, tenant_id, STATS, bucket, change, attempts=attempts, ttl_seconds=STATS_TTL_SECONDS,
                      message=f"stats for {tenant_id}/{bucket} are contended; the message is retried")
    return list(counted)


class _PendingWrite:
    """An event waiting to be folded, and the answer of the write that carried it."""

    __slots__ = ("event", "done", "counted", "error")

    def __init__(self, event: TurnEvent) -> None:
        self.event = event
        self.done = False
        self.counted = False
        self.error: BaseException | None = None


class _GroupedWrites:
    """One writer at a time per tenant and minute; the events that arrive while it writes go in the next write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, str, str], list[_PendingWrite]] = {}
        self._writing: dict[tuple[int, str, str], threading.Lock] = {}

    def record(self, store: DocumentStore, events: list[TurnEvent], attempts: int) -> list[bool]:
        mine = [_PendingWrite(event) for event in events]
        keys: dict[tuple[int, str, str], tuple[threading.Lock, list[_PendingWrite]]] = {}
        with self._lock:
            for pending in mine:
                key = (id(store), pending.event.tenant_id, _bucket(pending.event.at))
                self._pending.setdefault(key, []).append(pending)
                keys.setdefault(key, (self._writing.setdefault(key, threading.Lock()), []))[1].append(pending)
        for key, (writing, of_key) in keys.items():
            with writing:
                if not all(p.done for p in of_key):
                    with self._lock:
                        batch = self._pending.pop(key, [])
                    if batch:
                        self._write(store, batch, attempts)
                with self._lock:
                    if key not in self._pending and self._writing.get(key) is writing:
                        del self._writing[key]
        for pending in mine:
            if pending.error is not None:
                raise pending.error
        return [pending.counted for pending in mine]

    @staticmethod
    def _write(store: DocumentStore, batch: list[_PendingWrite], attempts: int) -> None:
        try:
            answers = record_events(store, [p.event for p in batch], attempts)
        except BaseException as exc:
            for pending in batch:
                pending.error, pending.done = exc, True
        else:
            for pending, counted in zip(batch, answers, strict=True):
                pending.counted, pending.done = counted, True


_WRITES = _GroupedWrites()


def day_counters(store: DocumentStore, tenant_id: str, day: str) -> dict:
    """The day's counters summed over its minute documents (conversations counted once across minutes)."""
    totals: dict = {"turns": 0, "intents": Counter(), "languages": Counter(), "escalated": 0, "blocked": 0,
                    "ungrounded": 0, "resolved": 0}
    conversations: set[str] = set()
    for doc in store.list(tenant_id, STATS, prefix=day, limit=_MAX_BUCKETS_PER_DAY):
        if doc.id != day and not doc.id.startswith(f"{day}T"):
            continue
        body = doc.body
        for key in ("turns", "escalated", "blocked", "ungrounded"):
            totals[key] += body.get(key, 0)
        # A minute counted before "resolved" was kept: its grounded turns less its escalated ones.
        totals["resolved"] += body.get("resolved", max(0, body.get("turns", 0) - body.get("ungrounded", 0)
                                                       - body.get("escalated", 0) - body.get("blocked", 0)))
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
        "satisfaction": satisfaction(store, tenant_id, day, day),
    }
    store.put(tenant_id, REPORTS, f"daily-{day}", summary)
    return summary


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def satisfaction(store: DocumentStore, tenant_id: str, first_day: str, last_day: str) -> dict:
    """Thumbs up and down given on replies between two days (inclusive, by the day the feedback was given) and
    the share of thumbs up (None without feedback)."""
    up = down = 0
    for given in feedback.all_feedback(store, tenant_id):
        if first_day <= given.at[:10] <= last_day:
            up += given.rating == "up"
            down += given.rating == "down"
    return {"up": up, "down": down, "rate": _rate(up, up + down)}


def daily_series(store: DocumentStore, tenant_id: str, last_day: str, days: int,
                 budget: float | None = None) -> dict:
    """The operator's dashboard over ``days`` days ending on ``last_day``: per day conversations, turns,
    resolution rate (answered without a person), escalation rate, satisfaction and model cost (against the
    shop's daily budget), plus intents and languages over the whole range."""
    end = date.fromisoformat(last_day)
    given = feedback.all_feedback(store, tenant_id)
    intents: Counter = Counter()
    languages: Counter = Counter()
    rows = []
    for offset in range(days - 1, -1, -1):
        day = (end - timedelta(days=offset)).isoformat()
        counters = day_counters(store, tenant_id, day)
        intents.update(counters["intents"])
        languages.update(counters["languages"])
        up = sum(1 for f in given if f.at[:10] == day and f.rating == "up")
        down = sum(1 for f in given if f.at[:10] == day and f.rating == "down")
        ledger = store.get(tenant_id, LEDGER, f"day-{day}")
        turns = counters["turns"]
        rows.append({"day": day, "conversations": counters["conversations"], "turns": turns,
                     "resolved": counters["resolved"], "escalated": counters["escalated"],
                     "resolution_rate": _rate(counters["resolved"], turns),
                     "escalation_rate": _rate(counters["escalated"], turns),
                     "satisfaction": {"up": up, "down": down, "rate": _rate(up, up + down)},
                     "cost": round(float(ledger.body.get("cost", 0.0)), 6) if ledger else 0.0})
    turns = sum(r["turns"] for r in rows)
    up = sum(r["satisfaction"]["up"] for r in rows)
    down = sum(r["satisfaction"]["down"] for r in rows)
    return {"days": rows, "daily_budget": budget, "intents": dict(intents.most_common()),
            "languages": dict(languages.most_common()),
            "totals": {"conversations": sum(r["conversations"] for r in rows), "turns": turns,
                       "resolution_rate": _rate(sum(r["resolved"] for r in rows), turns),
                       "escalation_rate": _rate(sum(r["escalated"] for r in rows), turns),
                       "satisfaction": {"up": up, "down": down, "rate": _rate(up, up + down)},
                       "cost": round(sum(r["cost"] for r in rows), 6)}}
