"""The publisher port and its adapters.

- ``EventGridPublisher``: azure-eventgrid's ``EventGridPublisherClient`` sends CloudEvents to the topic (key or
  Entra ID); Event Grid subscriptions (declared in bicep from ``bicep/catalog.json``) deliver them to the agent
  queues.
- ``LocalPublisher``: the local stand-in applies the same subscription table (``catalog.CATALOG``) and enqueues each
  event to every subscribing agent's queue, trimming a queue over its depth limit (drop-oldest).

``Bus`` is what the app uses: it keeps the event log (retention, replay), counts, and publishes.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from core import jsonsafe

from .catalog import DEFAULT_QUEUE_PREFIX, CloudEvent, queue_for, subscribers
from .ledger import Ledger
from .queues import EventQueues


class EventPublisher(Protocol):
    def publish(self, events: list[CloudEvent]) -> None: ...


def to_azure_cloud_event(event: CloudEvent):
    from azure.core.messaging import CloudEvent as AzureCloudEvent

    extensions = {"tenantid": event.tenantid}
    return AzureCloudEvent(source=event.source, type=event.type, data=event.data, subject=event.subject,
                           id=event.id, time=_parse_time(event.time), datacontenttype=event.datacontenttype,
                           extensions=extensions)


def _parse_time(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class EventGridPublisher:
    """Event Grid topic endpoint ``https://<topic>.<region>-1.eventgrid.azure.net/api/events``; ``key`` for SAS key
    auth (header ``aeg-sas-key``), otherwise Entra ID (``DefaultAzureCredential``, role EventGrid Data Sender)."""

    def __init__(self, endpoint: str, key: str = "", credential: Any = None, **client_kwargs: Any):
        # The basic-topic client that azure-eventgrid 4.x's public EventGridPublisherClient delegates to; the public
        # wrapper drops keyword options (transport, retry settings) on that path, so we build it ourselves.
        from azure.eventgrid._legacy import EventGridPublisherClient

        if key:
            from azure.core.credentials import AzureKeyCredential

            credential = AzureKeyCredential(key)
        elif credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self.client = EventGridPublisherClient(endpoint, credential, **client_kwargs)

    def publish(self, events: list[CloudEvent]) -> None:
        if events:
            self.client.send([to_azure_cloud_event(e) for e in events])


class LocalPublisher:
    """Applies the catalog's subscriptions and enqueues to the agent queues (Azurite locally).

    With ``batch_window`` > 0 a background thread sends what arrived within the window as one queue message per
    agent queue holding a JSON array of CloudEvents (up to ``max_batch``): one storage round trip carries many
    events, which is what lets the local bus pass hundreds of events per second. Every event is already in the
    event log when ``publish`` returns; a process killed inside the window loses the delivery, not the event —
    ``Bus.replay_range`` re-delivers it (receipts make that safe)."""

    def __init__(self, queues: EventQueues, ledger: Ledger | None = None, *, max_depth: int = 1000,
                 check_every: int = 100, check_seconds: float = 1.0, batch_window: float = 0.0,
                 max_batch: int = 50, queue_prefix: str = DEFAULT_QUEUE_PREFIX):
        self.queues = queues
        self.queue_prefix = queue_prefix
        self.ledger = ledger
        self.max_depth = max_depth
        self.check_every = check_every
        self.check_seconds = check_seconds
        self.batch_window = batch_window
        self.max_batch = max_batch
        self._sent: dict[str, int] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()
        self._pending: list[tuple[str, str]] = []
        self._wake = threading.Condition()
        self._flusher: threading.Thread | None = None

    def publish(self, events: list[CloudEvent]) -> None:
        items = [(queue_for(agent, self.queue_prefix), event.model_dump_json()) for event in events
                 for agent in subscribers(event.type)]
        if self.batch_window <= 0:
            for queue, text in items:
                self.queues.send(queue, text)
                self._maybe_trim(queue)
            return
        with self._wake:
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._run, name="event-publisher", daemon=True)
                self._flusher.start()
            self._pending.extend(items)
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending:
                    self._wake.wait()
            time.sleep(self.batch_window)  # let the window fill
            try:
                self.flush()
            except Exception as exc:  # keep the thread alive; the log still holds the events for replay
                import logging

                logging.getLogger("shopdesk.events").error("event publisher flush failed: %s", type(exc).__name__)

    def flush(self) -> int:
        with self._wake:
            items, self._pending = self._pending, []
        by_queue: dict[str, list[str]] = {}
        for queue, text in items:
            by_queue.setdefault(queue, []).append(text)
        for queue, texts in by_queue.items():
            chunk: list[str] = []
            size = 0
            for text in texts:
                # Storage queue messages hold 64 KiB after base64: keep a batch under 40 KB of JSON.
                if chunk and (len(chunk) >= self.max_batch or size + len(text) > 40_000):
                    self.queues.send(queue, "[" + ",".join(chunk) + "]")
                    chunk, size = [], 0
                chunk.append(text)
                size += len(text) + 1
            if chunk:
                self.queues.send(queue, "[" + ",".join(chunk) + "]")
            self._maybe_trim(queue)
        return len(items)

    def _maybe_trim(self, queue: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._sent[queue] = self._sent.get(queue, 0) + 1
            due = self._sent[queue] >= self.check_every or now - self._checked.get(queue, 0.0) >= self.check_seconds
            if due:
                self._sent[queue] = 0
                self._checked[queue] = now
        if due:
            self.trim(queue)

    def trim(self, queue: str) -> int:
        depth = self.queues.depth(queue)
        if depth <= self.max_depth:
            return 0
        dropped = self.queues.drop_oldest(queue, depth - self.max_depth)
        if self.ledger is not None:
            by_tenant: dict[str, int] = {}
            for text in dropped:
                try:
                    raw = jsonsafe.loads(text)
                    raw = raw if isinstance(raw, list) else [raw]
                    tenants = [CloudEvent.model_validate(r).tenant_id for r in raw]
                except ValueError:
                    tenants = ["_unknown"]
                for tenant in tenants:
                    by_tenant[tenant] = by_tenant.get(tenant, 0) + 1
            for tenant, count in by_tenant.items():
                self.ledger.dropped(tenant, queue, count)
        return sum(by_tenant.values()) if self.ledger is not None else len(dropped)


class Bus:
    def __init__(self, publisher: EventPublisher, ledger: Ledger, queues: EventQueues, *,
                 queue_prefix: str = DEFAULT_QUEUE_PREFIX):
        self.queue_prefix = queue_prefix
        self.publisher = publisher
        self.ledger = ledger
        self.queues = queues  # also used directly for retries and replays, which go to one agent's queue

    def publish(self, events: list[CloudEvent]) -> None:
        for event in events:
            self.ledger.record(event)
            self.ledger.count(event.tenant_id, "published", f"published.{event.type}")
        self.publisher.publish(events)

    def deliver_to(self, agent: str, event: CloudEvent, *, delay_seconds: int = 0) -> None:
        self.queues.send(queue_for(agent, self.queue_prefix), event.model_dump_json(), delay_seconds=delay_seconds)

    def replay_range(self, tenant_id: str, start: str, end: str, agents: list[str] | None = None) -> int:
        """Re-deliver the logged events of a time range to their subscribers (or to ``agents`` only). Agents
        that already handled an event skip it (receipts), so a replay completes what was lost, never doubles."""
        sent = 0
        for event in self.ledger.events_between(tenant_id, start, end):
            for agent in subscribers(event.type):
                if agents and agent not in agents:
                    continue
                self.deliver_to(agent, event.model_copy(update={"deliveryattempt": 0, "replay": True}))
                sent += 1
        self.ledger.count(tenant_id, "replayed", n=sent)
        return sent

    def replay_dead_letters(self, tenant_id: str, ids: list[str] | None = None) -> int:
        sent = 0
        for letter in self.ledger.dead_letters(tenant_id, limit=100_000):
            if ids and letter["id"] not in ids:
                continue
            event = CloudEvent.model_validate(letter["event"])
            self.deliver_to(letter["agent"], event.model_copy(update={"deliveryattempt": 0, "replay": True}))
            self.ledger.remove_dead_letter(tenant_id, letter["id"])
            sent += 1
        self.ledger.count(tenant_id, "replayed", n=sent)
        return sent
