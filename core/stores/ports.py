"""Store ports: the interfaces agents and functions depend on. Adapters live beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class ConcurrencyError(RuntimeError):
    """An if-match ETag no longer matches: someone else wrote the document first."""


@dataclass(frozen=True)
class StoredDocument:
    id: str
    body: dict[str, Any]
    etag: str


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


class MessageQueue(Protocol):
    """Fire-and-forget messages to a named queue (Azure Storage queues; in-process for unit tests)."""

    def send(self, queue_name: str, message: str) -> None: ...
