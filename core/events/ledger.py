"""What the bus remembers, per tenant, in the document store: the event log (retention + replay by time range),
delivery receipts (one effect per event and agent), dead letters, statistics and alerts.

Statistics are counted in process and flushed to the store at most once a second (server-side ``incr`` patches),
so counting never costs a write per event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict, deque
from datetime import UTC, datetime
from typing import Any

from core.stores.ports import ConcurrencyError, DocumentStore

from .catalog import CloudEvent

log = logging.getLogger("shopdesk.events")

EVENT_LOG = "event-log"
RECEIPTS = "event-receipts"
DEAD_LETTERS = "event-dead-letters"
STATS = "event-stats"
ALERTS = "event-alerts"
DAY = 86_400


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def log_id(event: CloudEvent) -> str:
    # Sortable by event time, so a time range is a contiguous slice of the listing.
    return f"{event.time}--{event.id}"


class Ledger:
    def __init__(self, store: DocumentStore, *, retention_days: int = 7, flush_seconds: float = 1.0,
                 drop_alert: int = 50, drop_window_seconds: float = 300, dead_letter_alert: int = 10):
        self.store = store
        self.ttl = retention_days * DAY
        self.flush_seconds = flush_seconds
        self.drop_alert = drop_alert
        self.drop_window = drop_window_seconds
        self.dead_letter_alert = dead_letter_alert
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._drops: dict[str, deque[float]] = defaultdict(deque)
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()

    # Event log --------------------------------------------------------------------------------------------
    def record(self, event: CloudEvent) -> None:
        self.store.put(event.tenant_id, EVENT_LOG, log_id(event), event.model_dump(mode="json"), ttl_seconds=self.ttl)

    def events_between(self, tenant_id: str, start: str, end: str, limit: int = 100_000) -> list[CloudEvent]:
        docs = self.store.list(tenant_id, EVENT_LOG, limit=limit)
        return [CloudEvent.model_validate(d.body) for d in sorted(docs, key=lambda d: d.id)
                if start <= d.body["time"] <= end]

    # Receipts ---------------------------------------------------------------------------------------------
    def handled(self, agent: str, event: CloudEvent) -> bool:
        return self.store.get(event.tenant_id, RECEIPTS, f"{agent}--{event.id}") is not None

    def mark_handled(self, agent: str, event: CloudEvent) -> bool:
        """False when another delivery of the same event already finished (the caller's effect was a repeat)."""
        try:
            self.store.put(event.tenant_id, RECEIPTS, f"{agent}--{event.id}", {"at": _now(), "type": event.type},
                           if_none_match=True, ttl_seconds=self.ttl)
            return True
        except ConcurrencyError:
            return False

    # Dead letters -----------------------------------------------------------------------------------------
    def dead_letter(self, agent: str, event: CloudEvent, error: str) -> None:
        body = {"agent": agent, "event": event.model_dump(mode="json"), "error": error, "at": _now(),
                "attempts": event.deliveryattempt + 1}
        self.store.put(event.tenant_id, DEAD_LETTERS, f"{agent}--{event.id}", body, ttl_seconds=self.ttl)
        self.count(event.tenant_id, "dead_lettered", f"dead_lettered.{agent}")
        waiting = self.store.count(event.tenant_id, DEAD_LETTERS)
        if waiting > self.dead_letter_alert:
            self.alert(event.tenant_id, "dead_letters", f"{waiting} dead letters waiting (> {self.dead_letter_alert})")

    def dead_letters(self, tenant_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        return [{"id": d.id, **d.body} for d in self.store.list(tenant_id, DEAD_LETTERS, limit=limit)]

    def remove_dead_letter(self, tenant_id: str, letter_id: str) -> bool:
        return self.store.delete(tenant_id, DEAD_LETTERS, letter_id)

    # Drops and alerts -------------------------------------------------------------------------------------
    def dropped(self, tenant_id: str, queue: str, count: int) -> None:
        log.warning("queue %s over its depth limit: dropped the %d oldest message(s) tenant=%s", queue, count,
                    tenant_id)
        self.count(tenant_id, "dropped", f"dropped.{queue}", n=count)
        now = time.monotonic()
        with self._lock:
            window = self._drops[queue]
            window.extend([now] * count)
            while window and window[0] < now - self.drop_window:
                window.popleft()
            recent = len(window)
        if recent > self.drop_alert:
            self.alert(tenant_id, "dropped", f"{recent} messages dropped from {queue} in the last "
                                             f"{int(self.drop_window)} s (> {self.drop_alert})")

    def alert(self, tenant_id: str, kind: str, message: str) -> None:
        log.error("ALERT events tenant=%s kind=%s: %s", tenant_id, kind, message)
        minute = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
        # One alert document per kind and minute: a burst raises one alert, not thousands.
        self.store.put(tenant_id, ALERTS, f"{minute}--{kind}", {"kind": kind, "message": message, "at": _now()},
                       ttl_seconds=self.ttl)

    def alerts(self, tenant_id: str) -> list[dict[str, Any]]:
        return [d.body for d in self.store.list(tenant_id, ALERTS, limit=1000)]

    # Statistics -------------------------------------------------------------------------------------------
    def count(self, tenant_id: str, *keys: str, n: int = 1) -> None:
        with self._lock:
            for key in keys:
                self._counts[tenant_id][key] += n
            due = time.monotonic() - self._last_flush >= self.flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, defaultdict(lambda: defaultdict(int))
            self._last_flush = time.monotonic()
        day = datetime.now(UTC).date().isoformat()
        for tenant_id, values in counts.items():
            for _ in range(20):  # once a second per tenant: a read-modify-write with the ETag is cheap enough
                stored = self.store.get(tenant_id, STATS, day)
                body = stored.body if stored else {"day": day, "counts": {}}
                for key, value in values.items():
                    body["counts"][key] = body["counts"].get(key, 0) + value
                try:
                    if stored:
                        self.store.put(tenant_id, STATS, day, body, if_match=stored.etag, ttl_seconds=self.ttl * 5)
                    else:
                        self.store.put(tenant_id, STATS, day, body, if_none_match=True, ttl_seconds=self.ttl * 5)
                    break
                except ConcurrencyError:
                    continue

    def statistics(self, tenant_id: str, days: int = 7) -> dict[str, Any]:
        self.flush()
        docs = sorted(self.store.list(tenant_id, STATS, limit=days * 2), key=lambda d: d.id)[-days:]
        totals: dict[str, int] = defaultdict(int)
        for doc in docs:
            for key, value in doc.body.get("counts", {}).items():
                totals[key] += value
        return {"tenant_id": tenant_id, "days": [d.body for d in docs], "totals": dict(sorted(totals.items())),
                "dead_letters": self.store.count(tenant_id, DEAD_LETTERS), "alerts": self.alerts(tenant_id)}
