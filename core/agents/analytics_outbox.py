"""Turn events on their way to the analytics queue: the events that turns publish while a send to the same queue
is under way go together in the next message, so a busy app sends, receives and deletes one queue message for
several turns instead of one each.

A message holds one event (its JSON object, as when turns are few) or several (a JSON array of event objects);
the analytics consumer reads both (``events_of_message``). Each publisher returns only once the message that
carries its event is on the queue, and raises that send's error, so an event is never held only in memory when
its activity completes. A send first waits up to ``window`` seconds for more events (the customer already has
the reply, so only the turn's completion waits), unless no event was published on the queue for a second before
it: a lone turn's event is sent at once."""

from __future__ import annotations

import threading
import time
from typing import Protocol

from core import jsonsafe
from core.models import TurnEvent

#: A queue message holds 64 KiB once base64-encoded: 48 KiB of text, less room for the envelope.
MAX_MESSAGE_BYTES = 40_000
MAX_EVENTS_PER_MESSAGE = 32
#: How long a send waits for more events while turns are publishing (at 15 turns a second per process, a message
#: carries about two events; at 50, about four).
GATHER_WINDOW_SECONDS = 0.05
#: A queue with no event published for this long counts as quiet: its next event is sent at once.
QUIET_SECONDS = 1.0


class Queue(Protocol):
    def send(self, queue_name: str, message: str) -> None: ...


class _Pending:
    __slots__ = ("text", "size", "done", "error", "busy")

    def __init__(self, text: str) -> None:
        self.text = text
        self.size = len(text.encode("utf-8")) + 1
        self.done = False
        self.error: BaseException | None = None
        self.busy = False  # another event was published on the queue shortly before this one


class EventOutbox:
    """One sender at a time per queue; the events published meanwhile go in its next message."""

    def __init__(self, *, max_events: int = MAX_EVENTS_PER_MESSAGE, max_bytes: int = MAX_MESSAGE_BYTES,
                 window: float = GATHER_WINDOW_SECONDS) -> None:
        self.max_events, self.max_bytes, self.window = max_events, max_bytes, window
        self._lock = threading.Condition()
        self._pending: dict[tuple[int, str], list[_Pending]] = {}
        self._sending: dict[tuple[int, str], threading.Lock] = {}
        self._last_publish: dict[tuple[int, str], float] = {}
        self.messages = 0
        self.events = 0

    def publish(self, queue: Queue, queue_name: str, event_json: str) -> None:
        """Send ``event_json`` (one event's JSON object) on ``queue_name``; returns once it is on the queue."""
        key = (id(queue), queue_name)
        mine = _Pending(event_json)
        with self._lock:
            now = time.monotonic()
            mine.busy = now - self._last_publish.get(key, -QUIET_SECONDS) < QUIET_SECONDS
            self._last_publish[key] = now
            self._pending.setdefault(key, []).append(mine)
            sending = self._sending.setdefault(key, threading.Lock())
            self._lock.notify_all()
        while not mine.done:
            with sending:
                if not mine.done:
                    self._send_next(queue, queue_name, key)
        with self._lock:
            if not self._pending.get(key) and self._sending.get(key) is sending:
                del self._sending[key]
                self._pending.pop(key, None)
        if mine.error is not None:
            raise mine.error

    def _send_next(self, queue: Queue, queue_name: str, key: tuple[int, str]) -> None:
        """Runs holding the queue's send lock: the oldest pending events, as many as one message holds."""
        with self._lock:
            pending = self._pending.get(key, [])
            if pending and pending[0].busy and self.window > 0:
                deadline = time.monotonic() + self.window
                while (len(self._pending.get(key, ())) < self.max_events
                       and (left := deadline - time.monotonic()) > 0):
                    self._lock.wait(left)
            pending = self._pending.get(key, [])
            batch: list[_Pending] = []
            size = 2
            for item in pending:
                if batch and (len(batch) >= self.max_events or size + item.size > self.max_bytes):
                    break
                batch.append(item)
                size += item.size
            self._pending[key] = pending[len(batch):]
        if not batch:
            return
        text = batch[0].text if len(batch) == 1 else "[" + ",".join(item.text for item in batch) + "]"
        try:
            queue.send(queue_name, text)
        except BaseException as exc:  # every event of the message gets the error: its activity is retried
            for item in batch:
                item.error = exc
        with self._lock:
            for item in batch:
                item.done = True
            self.messages += 1
            self.events += len(batch)


def events_of_message(body: bytes | str) -> list[TurnEvent]:
    """The events a queue message carries (one JSON object, or an array of them); raises ``ValueError`` for
    anything else, naming no content."""
    parsed = jsonsafe.loads(body)
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items or len(items) > MAX_EVENTS_PER_MESSAGE * 4:
        raise ValueError("an analytics message carries 1 to 128 events")
    return [TurnEvent.model_validate(item) for item in items]


OUTBOX = EventOutbox()
