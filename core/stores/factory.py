"""Which store an agent gets, from the seed's staleness table (seed 002 §2).

| agent      | staleness it tolerates | what it gets                                                    |
|------------|------------------------|-----------------------------------------------------------------|
| intent     | 5–10 s                 | read-through cache, ``INTENT_CACHE_TTL_SECONDS``                 |
| knowledge  | 1 h                    | read-through cache, ``KNOWLEDGE_CACHE_TTL_SECONDS``              |
| response   | none (strong)          | the document store itself: every read sees the last write      |
| escalation | 30 s                   | read-through cache, ``ESCALATION_CACHE_TTL_SECONDS``; writes are |
|            |                        | conditional (if-none-match / if-match) so tickets stay unique   |
| analytics  | 5–15 min (batch)       | read-through cache, ``ANALYTICS_BATCH_SECONDS``; exports batch  |

Writes always go to the document store (write-through); a conditional write that fails drops the cached copy so
the caller's retry reads fresh data. Cache keys carry the tenant id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .ports import BatchOperation, Cache, ConcurrencyError, DocumentStore, PatchOp, StoredDocument

Agent = Literal["intent", "knowledge", "response", "escalation", "analytics"]
Consistency = Literal["strong", "bounded"]


@dataclass(frozen=True)
class AccessPolicy:
    agent: str
    max_staleness_seconds: float
    consistency: Consistency


def staleness_table(settings: Any) -> dict[str, AccessPolicy]:
    return {
        "intent": AccessPolicy("intent", settings.INTENT_CACHE_TTL_SECONDS, "bounded"),
        "knowledge": AccessPolicy("knowledge", settings.KNOWLEDGE_CACHE_TTL_SECONDS, "bounded"),
        "response": AccessPolicy("response", 0, "strong"),
        "escalation": AccessPolicy("escalation", settings.ESCALATION_CACHE_TTL_SECONDS, "bounded"),
        "analytics": AccessPolicy("analytics", settings.ANALYTICS_BATCH_SECONDS, "bounded"),
    }


class CachedDocumentStore:
    """A ``DocumentStore`` whose reads may be up to ``ttl_seconds`` stale; writes go through to ``base``."""

    def __init__(self, base: DocumentStore, cache: Cache, ttl_seconds: float, *, namespace: str = "doc"):
        self.base = base
        self._cache = cache
        self.ttl_seconds = ttl_seconds
        self._ns = namespace

    def _key(self, tenant_id: str, collection: str, doc_id: str) -> str:
        return f"{self._ns}:{tenant_id}:{collection}:{doc_id}"

    def _remember(self, tenant_id: str, collection: str, doc: StoredDocument) -> None:
        self._cache.set(self._key(tenant_id, collection, doc.id), [doc.body, doc.etag], self.ttl_seconds)

    def get(self, tenant_id: str, collection: str, doc_id: str) -> StoredDocument | None:
        cached = self._cache.get(self._key(tenant_id, collection, doc_id))
        if cached is not None:
            return None if cached == [] else StoredDocument(doc_id, cached[0], cached[1])
        doc = self.base.get(tenant_id, collection, doc_id)
        if doc is None:
            self._cache.set(self._key(tenant_id, collection, doc_id), [], self.ttl_seconds)
        else:
            self._remember(tenant_id, collection, doc)
        return doc

    def put(self, tenant_id: str, collection: str, doc_id: str, body: dict[str, Any], *,
            if_match: str | None = None, if_none_match: bool = False, ttl_seconds: int | None = None) -> str:
        key = self._key(tenant_id, collection, doc_id)
        try:
            etag = self.base.put(tenant_id, collection, doc_id, body, if_match=if_match,
                                 if_none_match=if_none_match, ttl_seconds=ttl_seconds)
        except ConcurrencyError:
            self._cache.delete(key)
            raise
        if ttl_seconds:
            self._cache.delete(key)  # never serve a document past its own expiry
        else:
            self._remember(tenant_id, collection, StoredDocument(doc_id, body, etag))
        return etag

    def delete(self, tenant_id: str, collection: str, doc_id: str) -> bool:
        self._cache.delete(self._key(tenant_id, collection, doc_id))
        return self.base.delete(tenant_id, collection, doc_id)

    def list(self, tenant_id: str, collection: str, *, prefix: str = "", limit: int = 1000) -> list[StoredDocument]:
        key = f"{self._ns}-list:{tenant_id}:{collection}:{prefix}:{limit}"
        cached = self._cache.get(key)
        if cached is not None:
            return [StoredDocument(i, b, e) for i, b, e in cached]
        docs = self.base.list(tenant_id, collection, prefix=prefix, limit=limit)
        self._cache.set(key, [[d.id, d.body, d.etag] for d in docs], self.ttl_seconds)
        return docs

    def count(self, tenant_id: str, collection: str) -> int:
        key = f"{self._ns}-count:{tenant_id}:{collection}"
        cached = self._cache.get(key)
        if cached is not None:
            return int(cached)
        value = self.base.count(tenant_id, collection)
        self._cache.set(key, value, self.ttl_seconds)
        return value

    def patch(self, tenant_id: str, collection: str, doc_id: str, operations: list[PatchOp], *,
              if_match: str | None = None) -> StoredDocument:
        key = self._key(tenant_id, collection, doc_id)
        try:
            doc = self.base.patch(tenant_id, collection, doc_id, operations, if_match=if_match)
        except (ConcurrencyError, KeyError):
            self._cache.delete(key)
            raise
        self._remember(tenant_id, collection, doc)
        return doc

    def batch(self, tenant_id: str, operations: list[BatchOperation]) -> list[str]:
        for op in operations:
            self._cache.delete(self._key(tenant_id, op.collection, op.doc_id))
        return self.base.batch(tenant_id, operations)


class StoreFactory:
    """Gives each agent the view of the document store its staleness budget allows."""

    def __init__(self, settings: Any, base: DocumentStore, cache: Cache):
        self.base = base
        self.cache = cache
        self.policies = staleness_table(settings)
        self._views: dict[str, DocumentStore] = {}

    def for_agent(self, agent: Agent | str) -> DocumentStore:
        policy = self.policies.get(agent)
        if policy is None:
            raise KeyError(f"no staleness policy for agent {agent!r}; known: {', '.join(self.policies)}")
        if policy.consistency == "strong" or policy.max_staleness_seconds <= 0:
            return self.base
        view = self._views.get(agent)
        if view is None:
            view = self._views[agent] = CachedDocumentStore(self.base, self.cache, policy.max_staleness_seconds,
                                                            namespace=f"doc-{agent}")
        return view
