"""Agent queues: send with a delay (retries), depth, and drop-oldest trimming.

``StorageEventQueues`` uses Azure Storage queues (Azurite locally; base64 messages as the Functions queue trigger
expects). ``MemoryEventQueues`` is the in-process equivalent for unit tests.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Protocol

from azure.core.exceptions import ResourceExistsError

from core.stores.storage_queue import notify_enqueued


class EventQueues(Protocol):
    def send(self, queue: str, text: str, *, delay_seconds: int = 0) -> None: ...

    def depth(self, queue: str) -> int: ...

    def drop_oldest(self, queue: str, count: int) -> list[str]:
        """Remove up to ``count`` of the oldest visible messages; returns their texts."""
        ...


class StorageEventQueues:
    def __init__(self, connection_string: str = "", queue_service_uri: str = ""):
        from core.stores.storage_queue import queue_service

        self._service = queue_service(connection_string, queue_service_uri)
        self._clients: dict[str, object] = {}
        self._lock = threading.Lock()

    def _client(self, queue: str):
        from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy

        with self._lock:
            client = self._clients.get(queue)
            if client is None:
                client = self._service.get_queue_client(queue, message_encode_policy=TextBase64EncodePolicy(),
                                                        message_decode_policy=TextBase64DecodePolicy())
                try:
                    client.create_queue()
                except ResourceExistsError:
                    pass
                self._clients[queue] = client
            return client

    def send(self, queue: str, text: str, *, delay_seconds: int = 0) -> None:
        self._client(queue).send_message(text, visibility_timeout=delay_seconds or None)
        if not delay_seconds:
            notify_enqueued(queue)

    def depth(self, queue: str) -> int:
        return int(self._client(queue).get_queue_properties().approximate_message_count or 0)

    def drop_oldest(self, queue: str, count: int) -> list[str]:
        client = self._client(queue)
        dropped: list[str] = []
        while len(dropped) < count:
            want = min(32, count - len(dropped))
            batch = list(client.receive_messages(messages_per_page=want, max_messages=want, visibility_timeout=30))
            if not batch:
                break
            for message in batch:
                client.delete_message(message)
                dropped.append(message.content)
        return dropped


class MemoryEventQueues:
    """FIFO per queue; a delayed message becomes visible after its delay (``clock`` is injectable)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._queues: dict[str, deque[tuple[float, str]]] = {}
        self._lock = threading.Lock()

    def send(self, queue: str, text: str, *, delay_seconds: int = 0) -> None:
        with self._lock:
            self._queues.setdefault(queue, deque()).append((self.clock() + delay_seconds, text))

    def depth(self, queue: str) -> int:
        return len(self._queues.get(queue, ()))

    def drop_oldest(self, queue: str, count: int) -> list[str]:
        with self._lock:
            q = self._queues.get(queue, deque())
            dropped: list[str] = []
            while q and len(dropped) < count:
                dropped.append(q.popleft()[1])
            return dropped

    def receive(self, queue: str, limit: int = 32) -> list[str]:
        """Visible messages, oldest first (removed from the queue)."""
        now = self.clock()
        with self._lock:
            q = self._queues.get(queue, deque())
            out: list[str] = []
            keep: deque[tuple[float, str]] = deque()
            for due, text in q:
                if due <= now and len(out) < limit:
                    out.append(text)
                else:
                    keep.append((due, text))
            self._queues[queue] = keep
            return out

    def pending(self, queue: str) -> list[tuple[float, str]]:
        return list(self._queues.get(queue, ()))
