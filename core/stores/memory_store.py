"""In-memory adapters (document store, queue, blobs): same contracts as the real adapters, for unit tests."""

from __future__ import annotations

import copy
import hashlib
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

from .patching import apply_patch
from .ports import BatchError, BatchOperation, BlobInfo, ConcurrencyError, PatchOp, StoredDocument

_Entry = tuple[dict[str, Any], str, float | None]


class MemoryDocumentStore:
    def __init__(self) -> None:
        self._docs: dict[tuple[str, str, str], _Entry] = {}
        self._lock = threading.RLock()

    def _live(self, key, docs=None):
        entry = (self._docs if docs is None else docs).get(key)
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
        with self._lock:
            keys = sorted(k for k in self._docs if k[0] == tenant_id and k[1] == collection
                          and k[2].startswith(prefix))
            out = []
            for key in keys:
                entry = self._live(key)
                if entry is not None:
                    out.append(StoredDocument(key[2], copy.deepcopy(entry[0]), entry[1]))
        return out[:limit]

    def count(self, tenant_id, collection) -> int:
        with self._lock:
            return sum(1 for key in self._docs if key[0] == tenant_id and key[1] == collection and self._live(key))

    def patch(self, tenant_id: str, collection: str, doc_id: str, operations: list[PatchOp], *,
              if_match: str | None = None) -> StoredDocument:
        key = (tenant_id, collection, doc_id)
        with self._lock:
            entry = self._live(key)
            if entry is None:
                raise KeyError(f"{collection}/{doc_id}")
            if if_match is not None and entry[1] != if_match:
                raise ConcurrencyError(f"{collection}/{doc_id} changed since it was read")
            body = apply_patch(entry[0], operations)
            etag = uuid.uuid4().hex
            self._docs[key] = (body, etag, entry[2])
            return StoredDocument(doc_id, copy.deepcopy(body), etag)

    def batch(self, tenant_id: str, operations: list[BatchOperation]) -> list[str]:
        with self._lock:
            staged: dict[tuple[str, str, str], _Entry | None] = {}  # the batch's writes (None: deleted)
            etags = []
            for index, op in enumerate(operations):
                key = (tenant_id, op.collection, op.doc_id)
                entry = staged[key] if key in staged else self._live(key)
                if op.kind == "create" and entry is not None:
                    raise BatchError(f"{op.collection}/{op.doc_id} already exists", index)
                if op.kind in ("replace", "delete") and (entry is None or (op.if_match and entry[1] != op.if_match)):
                    raise BatchError(f"{op.collection}/{op.doc_id} is missing or changed", index)
                if op.kind == "delete":
                    staged[key] = None
                    etags.append("")
                    continue
                etag = uuid.uuid4().hex
                expires = time.time() + op.ttl_seconds if op.ttl_seconds else None
                staged[key] = (copy.deepcopy(op.body or {}), etag, expires)
                etags.append(etag)
            for key, entry in staged.items():
                if entry is None:
                    self._docs.pop(key, None)
                else:
                    self._docs[key] = entry
            return etags


class MemoryQueue:
    def __init__(self) -> None:
        self.messages: dict[str, list[str]] = defaultdict(list)

    def send(self, queue_name: str, message: str) -> None:
        self.messages[queue_name].append(message)


class MemoryBlobStore:
    """Blobs in a dict: for unit tests of code that writes exports and archives."""

    def __init__(self) -> None:
        self._blobs: dict[str, tuple[bytes, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def put_bytes(self, tenant_id, path, data, *, content_type="application/octet-stream", metadata=None,
                  overwrite=True) -> str:
        name = f"{tenant_id}/{path}"
        with self._lock:
            if not overwrite and name in self._blobs:
                raise ConcurrencyError(f"blob {name} already exists")
            self._blobs[name] = (bytes(data), dict(metadata or {}))
        return hashlib.md5(data).hexdigest()  # noqa: S324 - an ETag, not security

    def get_bytes(self, tenant_id, path) -> bytes | None:
        entry = self._blobs.get(f"{tenant_id}/{path}")
        return entry[0] if entry else None

    def list(self, tenant_id, prefix="") -> list[BlobInfo]:
        start = f"{tenant_id}/{prefix}"
        with self._lock:
            items = sorted((n, e) for n, e in self._blobs.items() if n.startswith(start))
        return [BlobInfo(n[len(tenant_id) + 1:], len(e[0]), hashlib.md5(e[0]).hexdigest(), dict(e[1]))  # noqa: S324
                for n, e in items]

    def delete(self, tenant_id, path) -> bool:
        with self._lock:
            return self._blobs.pop(f"{tenant_id}/{path}", None) is not None
