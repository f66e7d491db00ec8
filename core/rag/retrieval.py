"""Tenant knowledge search: builds (and caches per KB version) an index from the tenant's KB documents."""

from __future__ import annotations

import threading

from pydantic import BaseModel

from core.stores.ports import DocumentStore

from .lexical import Bm25Index, chunk_document

KB_COLLECTION = "kb"
META_COLLECTION = "meta"
KB_VERSION_ID = "kb-version"


class SearchHit(BaseModel):
    doc_id: str
    title: str
    url: str | None = None
    lang: str = "en"
    category: str = "article"
    score: float
    passage: str


class KnowledgeSearch:
    def __init__(self, store: DocumentStore):
        self._store = store
        self._indexes: dict[str, tuple[str, Bm25Index]] = {}
        self._lock = threading.Lock()

    def _version(self, tenant_id: str) -> str:
        doc = self._store.get(tenant_id, META_COLLECTION, KB_VERSION_ID)
        return doc.etag if doc else "none"

    def _index(self, tenant_id: str) -> Bm25Index:
        version = self._version(tenant_id)
        cached = self._indexes.get(tenant_id)
        if cached and cached[0] == version:
            return cached[1]
        with self._lock:
            chunks = []
            for stored in self._store.list(tenant_id, KB_COLLECTION, limit=1_000_000):
                body = stored.body
                chunks.extend(
                    chunk_document(stored.id, body["title"], body["content"], url=body.get("url"),
                                   lang=body.get("lang", "en"), category=body.get("category", "article"))
                )
            index = Bm25Index(chunks)
            self._indexes[tenant_id] = (version, index)
            return index

    def search(self, tenant_id: str, query: str, k: int = 3, lang: str | None = None) -> list[SearchHit]:
        """Top-k passages, one per document; a document in the asker's language wins a near tie."""
        raw = self._index(tenant_id).search(query, k * 8)
        best: dict[str, SearchHit] = {}
        for chunk, score in raw:
            if lang and chunk.lang.split("-")[0] == lang:
                score *= 1.15
            hit = best.get(chunk.doc_id)
            if hit is None or score > hit.score:
                best[chunk.doc_id] = SearchHit(doc_id=chunk.doc_id, title=chunk.title, url=chunk.url,
                                               lang=chunk.lang, category=chunk.category,
                                               score=round(min(score, 1.0), 4), passage=chunk.text)
        return sorted(best.values(), key=lambda h: h.score, reverse=True)[:k]

    def invalidate(self, tenant_id: str) -> None:
        self._indexes.pop(tenant_id, None)
