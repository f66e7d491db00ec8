"""Read-modify-write of one document under ETag optimistic concurrency, retried when someone else wrote first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .ports import BatchError, BatchOperation, ConcurrencyError, DocumentStore


def read_modify_write(store: DocumentStore, tenant_id: str, collection: str, doc_id: str,
                      change: Callable[[dict[str, Any] | None], dict[str, Any] | None], *, attempts: int = 20,
                      ttl_seconds: int | None = None, message: str | None = None,
                      along: Callable[[], list[BatchOperation]] | None = None) -> dict[str, Any] | None:
    """``change`` gets the current body (None when absent) and returns the new one, or None to write nothing.
    A create uses if-none-match and a replace if-match, so concurrent writers never overwrite each other.
    ``along``, asked after each ``change``, gives documents of the same tenant written in the same atomic batch
    (none: a plain write); an error of one of them is raised as it is, not retried.
    Returns what was written (or None); raises ConcurrencyError after ``attempts`` lost races."""
    for _ in range(attempts):
        stored = store.get(tenant_id, collection, doc_id)
        body = change(stored.body if stored else None)
        if body is None:
            return None
        extra = along() if along is not None else []
        if extra:
            head = (BatchOperation("replace", collection, doc_id, body, if_match=stored.etag, ttl_seconds=ttl_seconds)
                    if stored else BatchOperation("create", collection, doc_id, body, ttl_seconds=ttl_seconds))
            try:
                store.batch(tenant_id, [head, *extra])
            except BatchError as exc:
                if exc.index == 0:
                    continue  # someone else wrote the document first
                raise
            return body
        try:
            if stored:
                store.put(tenant_id, collection, doc_id, body, if_match=stored.etag, ttl_seconds=ttl_seconds)
            else:
                store.put(tenant_id, collection, doc_id, body, if_none_match=True, ttl_seconds=ttl_seconds)
            return body
        except ConcurrencyError:
            continue
    raise ConcurrencyError(message or f"{collection}/{doc_id} keeps changing; retry")
