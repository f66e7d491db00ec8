"""Turn events on their way to the analytics counters: each is written with its turn's record, in the same atomic
store write (``pending_operation``), so a recorded turn always has its event and an event is never held only in
memory. The process that wrote it counts it shortly after (``DRAIN``: the events written meanwhile are folded into
their minutes' counters together, then their pending documents deleted); a timer counts what a process left behind
(``sweep``: a process stopped between the write and the count, a count that failed) and moves an event that still
cannot be counted after ``MAX_ATTEMPTS`` sweeps to the tenant's dead letters. Counting is idempotent by event id,
so an event counted by both is counted once.

The analytics queue's messages (a turn event, or a JSON array of them) are read by ``events_of_message``."""

from __future__ import annotations

import logging
import threading
import time

from core import jsonsafe
from core.agents import analytics
from core.models import TurnEvent
from core.stores.ports import BatchError, BatchOperation, ConcurrencyError, DocumentStore, StoredDocument
from core.turn.ports import TurnPorts
from core.turn.state import TurnState

log = logging.getLogger("shopdesk.analytics")

PENDING = "analytics-pending"
DEAD = "analytics-dead"
#: How long the drain waits after an event is written, so the events of the turns recorded meanwhile are counted
#: in one write (the customer already has the reply).
GATHER_SECONDS = 0.25
#: A pending event older than this is the sweep's: the process that wrote it did not count it.
SWEEP_AFTER_SECONDS = 60.0
MAX_ATTEMPTS = 5
MAX_EVENTS_PER_MESSAGE = 32
_SWEEP_PAGE = 500


def pending_operation(event: TurnEvent) -> BatchOperation:
    """The event's pending document, created in the batch that records its turn."""
    return BatchOperation("create", PENDING, event.event_id,
                          {"event": event.model_dump(mode="json"), "written": time.time(), "attempts": 0})


def count_turn_event(state: TurnState, ports: TurnPorts) -> None:
    """Have this process count the recorded turn's event (already stored with the turn), once the reply is out."""
    assert state.recorded is not None
    DRAIN.written(ports.store, state.turn.tenant_id, state.recorded.event.event_id)


def _events(docs: list[StoredDocument]) -> tuple[list[StoredDocument], list[TurnEvent], list[StoredDocument]]:
    """The documents whose event parses, their events, and the documents that can never be counted."""
    good, events, bad = [], [], []
    for doc in docs:
        try:
            events.append(TurnEvent.model_validate(doc.body.get("event")))
            good.append(doc)
        except ValueError:
            bad.append(doc)
    return good, events, bad


def _delete(store: DocumentStore, tenant_id: str, ids: list[str]) -> None:
    if not ids:
        return
    try:
        store.batch(tenant_id, [BatchOperation("delete", PENDING, i) for i in ids])
    except BatchError:  # another counter deleted some of them first
        for doc_id in ids:
            store.delete(tenant_id, PENDING, doc_id)


def _dead_letter(store: DocumentStore, tenant_id: str, doc: StoredDocument, reason: str) -> None:
    store.batch(tenant_id, [BatchOperation("upsert", DEAD, doc.id, {**doc.body, "reason": reason}),
                            BatchOperation("delete", PENDING, doc.id)])
    log.error("analytics event dead-lettered tenant=%s event=%s reason=%s", tenant_id, doc.id, reason)


def count_pending(store: DocumentStore, tenant_id: str, docs: list[StoredDocument]) -> int:
    """Count the events of these pending documents and delete them; returns how many were newly counted. An error
    of the count is raised, the documents left for the sweep."""
    good, events, bad = _events(docs)
    for doc in bad:
        _dead_letter(store, tenant_id, doc, "invalid event")
    counted = analytics.record_message_events(store, events) if events else []
    _delete(store, tenant_id, [doc.id for doc in good])
    return sum(counted)


class PendingDrain:
    """Counts the events this process wrote, ``window`` seconds after the first of them, on its own thread."""

    def __init__(self, window: float = GATHER_SECONDS) -> None:
        self.window = window
        self._lock = threading.Condition()
        self._due: dict[int, tuple[DocumentStore, dict[str, list[str]]]] = {}
        self._thread: threading.Thread | None = None
        self.counted = 0

    def written(self, store: DocumentStore, tenant_id: str, event_id: str) -> None:
        with self._lock:
            self._due.setdefault(id(store), (store, {}))[1].setdefault(tenant_id, []).append(event_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="analytics-drain", daemon=True)
                self._thread.start()
            self._lock.notify_all()

    def flush(self) -> int:
        """Count what is due now, on the calling thread; returns how many events were newly counted."""
        with self._lock:
            due, self._due = self._due, {}
        counted = 0
        for store, by_tenant in due.values():
            for tenant_id, ids in by_tenant.items():
                try:
                    docs = [d for d in (store.get(tenant_id, PENDING, i) for i in ids) if d is not None]
                    counted += count_pending(store, tenant_id, docs) if docs else 0
                except Exception as exc:  # the documents stay: the sweep counts them
                    log.warning("analytics events of tenant=%s not counted yet (%s); the sweep will",
                                tenant_id, type(exc).__name__)
        with self._lock:
            self.counted += counted
        return counted

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._due:
                    self._lock.wait()
            time.sleep(self.window)
            self.flush()


DRAIN = PendingDrain()


def sweep(store: DocumentStore, tenant_ids: list[str], *, older_than: float = SWEEP_AFTER_SECONDS,
          now: float | None = None) -> dict[str, int]:
    """Count the pending events written more than ``older_than`` seconds ago; an event whose count fails gets an
    attempt more, and goes to the dead letters at ``MAX_ATTEMPTS``. Returns counts by outcome."""
    now = time.time() if now is None else now
    totals = {"counted": 0, "retried": 0, "dead": 0}
    for tenant_id in tenant_ids:
        docs = [d for d in store.list(tenant_id, PENDING, limit=_SWEEP_PAGE)
                if now - float(d.body.get("written") or 0) >= older_than]
        docs, _, bad = _events(docs)
        for doc in bad:
            _dead_letter(store, tenant_id, doc, "invalid event")
            totals["dead"] += 1
        if not docs:
            continue
        try:
            totals["counted"] += count_pending(store, tenant_id, docs)
            continue
        except Exception as exc:
            log.warning("analytics sweep tenant=%s: %d events not counted (%s)", tenant_id, len(docs),
                        type(exc).__name__)
        for doc in docs:
            attempts = int(doc.body.get("attempts") or 0) + 1
            try:
                if attempts >= MAX_ATTEMPTS:
                    _dead_letter(store, tenant_id, doc, "not counted after retries")
                    totals["dead"] += 1
                else:
                    store.put(tenant_id, PENDING, doc.id, {**doc.body, "attempts": attempts}, if_match=doc.etag)
                    totals["retried"] += 1
            except ConcurrencyError:
                continue  # counted or changed meanwhile: the next sweep sees it as it is
    return totals


def events_of_message(body: bytes | str) -> list[TurnEvent]:
    """The events an analytics queue message carries (one JSON object, or an array of them); raises ``ValueError``
    for anything else, naming no content."""
    parsed = jsonsafe.loads(body)
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items or len(items) > MAX_EVENTS_PER_MESSAGE * 4:
        raise ValueError("an analytics message carries 1 to 128 events")
    return [TurnEvent.model_validate(item) for item in items]
