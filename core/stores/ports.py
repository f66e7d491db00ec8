"""Store ports: the interfaces agents and functions depend on. Adapters live beside this module.

- ``DocumentStore``: tenant-partitioned JSON documents with ETag optimistic concurrency, JSON patch and an atomic
  single-tenant batch (SQLite transaction locally, Cosmos DB transactional batch in Azure);
- ``BlobStore``: tenant-prefixed binary objects (exports, archives);
- ``AnalyticalSink``: append-only rows written in batches to a columnar destination (Parquet on Blob);
- ``MessageQueue``: fire-and-forget messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


class ConcurrencyError(RuntimeError):
    """An if-match ETag no longer matches: someone else wrote the document first."""


class BatchError(ConcurrencyError):
    """An atomic batch was rolled back; ``index`` is the operation that failed."""

    def __init__(self, message: str, index: int):
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class StoredDocument:
    id: str
    body: dict[str, Any]
    etag: str


PatchOp = dict[str, Any]
"""A JSON patch operation as Cosmos DB takes it: ``{"op": "set"|"add"|"replace"|"remove"|"incr", "path": "/a/b",
"value": ...}`` — paths are relative to the document body."""


@dataclass(frozen=True)
class BatchOperation:
    """One step of an atomic batch. ``create`` fails if the document exists, ``replace`` if it does not (or its
    ETag differs from ``if_match``), ``delete`` if it does not exist, ``upsert`` never."""

    kind: Literal["create", "upsert", "replace", "delete"]
    collection: str
    doc_id: str
    body: dict[str, Any] | None = None
    if_match: str | None = None
    ttl_seconds: int | None = None


class DocumentStore(Protocol):
    """Tenant-partitioned JSON documents grouped in collections, with ETag optimistic concurrency."""

    def get(self, tenant_id: str, collection: str, doc_id: str) -> StoredDocument | None: ...

    def put(
        self,
        tenant_id: str,
        collection: str,
        doc_id: str,
        body: dict[str, Any],
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
        ttl_seconds: int | None = None,
    ) -> str:
        """Create or replace; returns the new ETag. ``if_none_match`` creates only if absent."""
        ...

    def delete(self, tenant_id: str, collection: str, doc_id: str) -> bool: ...

    def list(
        self, tenant_id: str, collection: str, *, prefix: str = "", limit: int = 1000
    ) -> list[StoredDocument]: ...

    def count(self, tenant_id: str, collection: str) -> int: ...

    def patch(
        self, tenant_id: str, collection: str, doc_id: str, operations: list[PatchOp], *, if_match: str | None = None
    ) -> StoredDocument:
        """Apply JSON patch operations server-side; ``KeyError`` if the document is missing."""
        ...

    def batch(self, tenant_id: str, operations: list[BatchOperation]) -> list[str]:
        """All or nothing, within one tenant partition. Returns one ETag per operation ('' for deletes)."""
        ...


@dataclass(frozen=True)
class BlobInfo:
    name: str
    size: int
    etag: str
    metadata: dict[str, str] = field(default_factory=dict)


class BlobStore(Protocol):
    """Binary objects under ``<tenant>/<path>`` in one container."""

    def put_bytes(self, tenant_id: str, path: str, data: bytes, *, content_type: str = "application/octet-stream",
                  metadata: dict[str, str] | None = None, overwrite: bool = True) -> str: ...

    def get_bytes(self, tenant_id: str, path: str) -> bytes | None: ...

    def list(self, tenant_id: str, prefix: str = "") -> list[BlobInfo]: ...

    def delete(self, tenant_id: str, path: str) -> bool: ...


class AnalyticalSink(Protocol):
    """Append-only analytical rows, written per tenant, dataset and day (Parquet partitioned by date)."""

    def write(self, tenant_id: str, dataset: str, day: str, rows: list[dict[str, Any]]) -> str:
        """Write (replace) the rows of one partition; returns where they went."""
        ...

    def read(self, tenant_id: str, dataset: str, day: str) -> list[dict[str, Any]]: ...


class MessageQueue(Protocol):
    """Fire-and-forget messages to a named queue (Azure Storage queues; in-process for unit tests)."""

    def send(self, queue_name: str, message: str) -> None: ...
