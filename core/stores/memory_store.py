"""In-memory document store and queue: same contract as the real adapters, for unit tests."""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

from .ports import ConcurrencyError, StoredDocument


class MemoryDocumentStore:
    def __init__(self) -> None:
        self._docs: dict[tuple[str, str, str], tuple[dict[str, Any], str, float | None]] = {}
        self._lock = threading.Lock()

    def _live(self, key):
        entry = self._docs.get(key)
        if entry is None or (entry[2] is not None and entry[2] < time.time()):
            return None
        return entry

    def get(self, tenant_id: str, collection: str, doc_id: str) -> StoredDocument | None:
        entry = self._live((tenant_id, collection, doc_id))
        return None if entry is None else StoredDocument(doc_id, copy.deepcopy(entry[0]), entry[1])

    def put(self, tenant_id, collection, doc_id, body, *, if_match=None, if_none_match=False, ttl_seconds=None):
        key = (tenant_id, collection, doc_id)
        with self._lock:
            entry = self._live(key)
            if if_none_match and entry is not None:
                raise ConcurrencyError(f"{collection}/{doc_id} already exists")
            if if_match is not None and (entry is None or entry[1] != if_match):
                raise ConcurrencyError(f"{collection}/{doc_id} changed since it was read")
            etag = uuid.uuid4().hex
            expires = time.time() + ttl_seconds if ttl_seconds else None
            self._docs[key] = (copy.deepcopy(body), etag, expires)
            return etag

    def delete(self, tenant_id, collection, doc_id) -> bool:
        with self._lock:
            return self._docs.pop((tenant_id, collection, doc_id), None) is not None

    def list(self, tenant_id, collection, *, prefix="", limit=1000):
        keys = sorted(k for k in self._docs if k[0] == tenant_id and k[1] == collection and k[2].startswith(prefix))
        out = []
        for key in keys:
            entry = self._live(key)
            if entry is not None:
                out.append(StoredDocument(key[2], copy.deepcopy(entry[0]), entry[1]))
        return out[:limit]

    def count(self, tenant_id, collection) -> int:
        return len(self.list(tenant_id, collection, limit=10**9))


class MemoryQueue:
    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = defaultdict(list)

    def send(self, queue_name: str, message: str) -> None:
        self.messages[queue_name].append(message)
