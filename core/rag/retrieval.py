"""Tenant knowledge search: hybrid dense (embedder + VectorIndex) and lexical (BM25) retrieval with citations.

``KnowledgeSearch.search(tenant_id, query, k, lang)`` returns at most one hit per document *group* (a document and
its translations), in the asker's language when the shop has that translation, ranked by a calibrated 0..1
``score``; callers drop hits under ``KNOWLEDGE_MIN_SCORE`` to say "I don't know" instead of guessing. French and
Spanish questions are also matched lexically through the English words of the retail glossary, because shops
often write product pages in English only, and any question through the words of the shop's other languages.
The tenant's index follows its KB documents in the store: a changed KB version triggers an incremental sync.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from pydantic import BaseModel

from core.glossary import LANGUAGES, Glossary, default_glossary, desk_topics
from core.language import detect as detect_language
from core.stores.ports import DocumentStore

from .documents import KnowledgeDocument
from .embedders import Embedder
from .indexing import Indexer, SyncReport, joined_passage
from .lexical import Bm25Index
from .scoring import ScoreScale, scale_for
from .vector_index import ChunkRecord, VectorIndex, base_language

KB_COLLECTION = "kb"
META_COLLECTION = "meta"
KB_VERSION_ID = "kb-version"

CANDIDATES = 40  # chunks taken from each retriever before fusion
LEXICAL_WEIGHT = 0.1  # BM25 (0..1, normalised to a perfect match) added to the cosine similarity
LANGUAGE_CENTERING = 1.0  # share of the per-language mean similarity removed from dense scores
SAME_LANGUAGE_BONUS = 0.02  # raw similarity; decides ranking between near-equal answers only
IDENTIFIER_BONUS = 0.06  # a SKU-like identifier of the query found verbatim in the chunk

PASSAGE_MERGE_MARGIN = 0.05  # a second chunk this close to the document's best is quoted with it

# Exact identifiers: SKUs and codes mixing letters and digits ("SAV-MNG-110", "GC-DIGITAL-25", "AUTOMNE10").
_IDENTIFIER = re.compile(r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b")


class SearchHit(BaseModel):
    doc_id: str
    title: str
    url: str | None = None
    lang: str = "en"
    category: str = "article"
    score: float
    passage: str


@dataclass
class _TenantState:
    kb_version: str | None = None
    revision: str | None = None
    bm25: Bm25Index | None = None
    first_chunk: dict[str, ChunkRecord] = field(default_factory=dict)  # the passage cited when only a card matched
    centroids: dict = field(default_factory=dict)
    translations: dict[str, dict[str, str]] = field(default_factory=dict)  # doc id -> {language: doc id in group}


class KnowledgeSearch:
    """Search over each tenant's KB. The embedder and index are built on first use (``factory`` from settings
    unless given), so constructing the service container stays cheap."""

    def __init__(self, store: DocumentStore, settings=None, *, embedder: Embedder | None = None,
                 index: VectorIndex | None = None,
                 factory: Callable[[], tuple[Embedder, VectorIndex]] | None = None):
        self._store = store
        self._settings = settings
        self._embedder = embedder
        self._index = index
        self._factory = factory
        self._states: dict[str, _TenantState] = {}
        self._lock = threading.RLock()
        self._tenant_locks: dict[str, threading.RLock] = {}

    # -- components ---------------------------------------------------------------------------------------------
    def _components(self) -> tuple[Embedder, VectorIndex]:
        if self._embedder is None or self._index is None:
            with self._lock:
                if self._embedder is None or self._index is None:
                    if self._factory is not None:
                        embedder, index = self._factory()
                    else:
                        from .factory import build_components

                        embedder, index = build_components(self._settings)
                    self._embedder = self._embedder or embedder
                    self._index = self._index or index
        return self._embedder, self._index  # type: ignore[return-value]

    @property
    def embedder(self) -> Embedder:
        return self._components()[0]

    @property
    def index(self) -> VectorIndex:
        return self._components()[1]

    @property
    def indexer(self) -> Indexer:
        return Indexer(*self._components())

    def _tenant_lock(self, tenant_id: str) -> threading.RLock:
        with self._lock:
            return self._tenant_locks.setdefault(tenant_id, threading.RLock())

    def lock_tenant(self, tenant_id: str) -> threading.RLock:
        """Held while a writer changes the tenant's KB and index together (searches wait for a consistent view)."""
        return self._tenant_lock(tenant_id)

    # -- keeping the index in step with the store -----------------------------------------------------------------
    def _kb_version(self, tenant_id: str) -> str:
        doc = self._store.get(tenant_id, META_COLLECTION, KB_VERSION_ID)
        return doc.etag if doc else "none"

    def kb_documents(self, tenant_id: str) -> list[KnowledgeDocument]:
        return [KnowledgeDocument.model_validate(d.body)
                for d in self._store.list(tenant_id, KB_COLLECTION, limit=1_000_000)]

    def sync(self, tenant_id: str, progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Index exactly the tenant's KB documents from the store (only what changed is embedded)."""
        with self._tenant_lock(tenant_id):
            version = self._kb_version(tenant_id)
            report = self.indexer.sync(tenant_id, self.kb_documents(tenant_id), progress)
            self._states.setdefault(tenant_id, _TenantState()).kb_version = version
            return report

    def mark_synced(self, tenant_id: str) -> None:
        """The caller indexed the store's current KB itself (blob ingestion): no need to diff on next search."""
        self._states.setdefault(tenant_id, _TenantState()).kb_version = self._kb_version(tenant_id)

    def _ready(self, tenant_id: str) -> _TenantState:
        state = self._states.setdefault(tenant_id, _TenantState())
        if state.kb_version != self._kb_version(tenant_id):
            self.sync(tenant_id)
        revision = self.index.revision(tenant_id)
        if state.bm25 is None or state.revision != revision:
            with self._tenant_lock(tenant_id):
                if state.bm25 is None or state.revision != revision:
                    records = self.index.records(tenant_id)
                    state.bm25 = Bm25Index(records)
                    state.first_chunk = {}
                    by_group: dict[str, dict[str, str]] = {}
                    for record in sorted(records, key=lambda r: (r.card, r.position)):
                        state.first_chunk.setdefault(record.doc_id, record)
                        by_group.setdefault(record.group_id, {}).setdefault(base_language(record.lang), record.doc_id)
                    state.translations = {r.doc_id: by_group[r.group_id] for r in records}
                    state.centroids = self.index.language_centroids(tenant_id)
                    state.revision = revision
        return state

    # -- search ---------------------------------------------------------------------------------------------------
    def search_many(self, tenant_id: str, queries: Sequence[str], k: int = 3, lang: str | None = None
                    ) -> list[list[SearchHit]]:
        """``search`` of each query, their embeddings computed in one call (one forward pass of the embedded
        model for the lot, the same vectors as one at a time)."""
        asked = [q for q in dict.fromkeys(queries) if q.strip()]
        if not asked or k <= 0:
            return [[] for _ in queries]
        embedder, _ = self._components()
        vectors = dict(zip(asked, embedder.embed_queries(asked), strict=True))
        return [self.search(tenant_id, q, k=k, lang=lang, vector=vectors.get(q)) for q in queries]

    def search(self, tenant_id: str, query: str, k: int = 3, lang: str | None = None,
               vector: np.ndarray | None = None) -> list[SearchHit]:
        """Top-k hits, one per document group, best first: by score, except that a hit in the asker's language
        goes before one within ``SAME_LANGUAGE_BONUS`` above it. ``lang`` (en, fr, fr-CA, es) or detected.
        ``vector``: the query's embedding when the caller has it (``search_many``)."""
        if not query.strip() or k <= 0:
            return []
        state = self._ready(tenant_id)
        bm25 = state.bm25
        assert bm25 is not None
        embedder, index = self._components()
        if vector is None:
            vector = embedder.embed_queries([query])[0]
        asked = base_language(lang) if lang else None
        if asked is None:
            detected, confidence = detect_language(query)
            asked = detected if confidence >= 0.5 else None
        scale = scale_for(embedder.model_id)
        # Multilingual encoders find every text in the asker's language a little similar: remove each language's
        # mean similarity so a French question can still rank an English product page first (at most what the
        # language accounts for: see core.rag.scoring).
        centroids = state.centroids
        overall = float(vector @ centroids["*"]) if "*" in centroids else 0.0
        bias = {lang: scale.language_penalty(asked, LANGUAGE_CENTERING * (float(vector @ c) - overall))
                for lang, c in centroids.items() if lang != "*"}
        dense = index.search(tenant_id, vector, CANDIDATES, language_bias=bias)
        if not dense:
            return []

        floor = dense[-1][1]  # a lexical-only candidate is at most as similar as the weakest dense one
        candidates: dict[str, list] = {r.chunk_id: [r, cos, 0.0] for r, cos in dense}
        for record, lexical in bm25.search(query, CANDIDATES):
            entry = candidates.setdefault(record.chunk_id, [record, floor, 0.0])
            entry[2] = lexical
        if asked:
            # The question's product words in the languages of the shop's other pages (retail glossary) find pages
            # the shop wrote in one language only ("cartes-cadeaux" a Spanish-only page on "tarjetas de regalo"),
            # as the question's own words would; they count like them. A shop with no page at all in the asker's
            # language gets its topic words translated too (shipping, returns, fees...): measured on the shops that
            # do have such pages, that only cost precision.
            for other in (lang for lang in LANGUAGES if lang != asked and lang in centroids):
                translated = _translated(default_glossary(), query, other, asked)
                if asked not in centroids:
                    translated |= _translated(desk_topics(), query, other, asked)
                if not translated:
                    continue
                for record, lexical in bm25.search(" ".join(sorted(translated)), CANDIDATES,
                                                   alternatives=other != "en"):
                    if base_language(record.lang) != other:
                        continue
                    entry = candidates.setdefault(record.chunk_id, [record, floor, 0.0])
                    entry[2] = max(entry[2], lexical)
        identifiers = [m.group(0).lower() for m in _IDENTIFIER.finditer(query) if len(m.group(0)) >= 4]

        best_per_doc: dict[str, float] = {}
        chunks_of: dict[str, list[tuple[float, ChunkRecord]]] = {}
        for record, cos, lexical in candidates.values():
            fused = cos + LEXICAL_WEIGHT * lexical
            if identifiers and any(i in record.text.lower() or i in record.title.lower() for i in identifiers):
                fused += IDENTIFIER_BONUS
            best_per_doc[record.doc_id] = max(fused, best_per_doc.get(record.doc_id, -1.0))
            if not record.card:
                chunks_of.setdefault(record.doc_id, []).append((fused, record))

        # Each document's best chunk stands for it while ranking (its passage, joined with a runner-up by
        # ``_passage`` for the hits alone, differs from it only in its text).
        best_of = {doc_id: max(chunks, key=_fused)[1] for doc_id, chunks in chunks_of.items()}
        groups: dict[str, list[tuple[float, str, str]]] = {}
        for doc_id, fused in best_per_doc.items():
            record = best_of[doc_id] if doc_id in best_of else state.first_chunk[doc_id]
            groups.setdefault(record.group_id, []).append((fused, doc_id, record.lang))
        ranked = []
        for group_id, members in groups.items():
            same = [m for m in members if base_language(m[2]) == asked]
            # A copy in a third language (the Spanish translation of an English page, for a French question) only
            # repeats its original, which the asker reads at least as well: the original is cited, and the copy's
            # evidence counts only when the original's own was not retrieved (the copy's extra closeness to the
            # question is mostly the two languages' kinship).
            own = [m for m in members if m in same or m[1] == group_id]
            if asked and own != members and (own or group_id in state.first_chunk):
                members = own or [(max(m[0] for m in members), group_id, state.first_chunk[group_id].lang)]
            best = max(fused for fused, _, _ in members)
            # Cite the translation in the asker's language when the shop has one; rank by the best evidence.
            doc_id = max(same or members, key=lambda m: m[0])[1]
            if not same and asked:
                doc_id = state.translations.get(members[0][1], {}).get(asked, doc_id)
            record = best_of[doc_id] if doc_id in best_of else state.first_chunk[doc_id]
            # Between near-equal answers, the one written in the asker's language ranks first (its score, which
            # decides "no good match", stays the evidence's own).
            preference = best + (SAME_LANGUAGE_BONUS if asked and base_language(record.lang) == asked else 0.0)
            ranked.append((preference, best, doc_id))
        ranked.sort(key=lambda item: item[0], reverse=True)
        return [self._hit(self._passage(chunks_of[doc_id]) if doc_id in chunks_of else state.first_chunk[doc_id],
                          best, scale) for _, best, doc_id in ranked[:k]]

    @staticmethod
    def _passage(chunks: list[tuple[float, ChunkRecord]]) -> ChunkRecord:
        """The document's best chunk, joined (in document order) with a runner-up that scored almost as well, so a
        question answered across two sections gets both."""
        chunks = sorted(chunks, key=lambda item: item[0], reverse=True)
        best = chunks[0][1]
        if len(chunks) > 1 and chunks[1][0] >= chunks[0][0] - PASSAGE_MERGE_MARGIN:
            first, second = sorted((best, chunks[1][1]), key=lambda r: r.position)
            return replace(best, text=joined_passage(first.text, second.text))
        return best

    @staticmethod
    def _hit(record: ChunkRecord, fused: float, scale: ScoreScale) -> SearchHit:
        return SearchHit(doc_id=record.doc_id, title=record.title, url=record.url, lang=record.lang,
                         category=record.category, score=round(scale.calibrate(fused), 4), passage=record.text)


def _translated(glossary: Glossary, query: str, language: str, asked: str) -> set[str]:
    """The glossary's words of ``language`` for the question's phrases (asked in ``asked``); English ones for any
    French or Spanish phrase it holds."""
    return glossary.english_words(query) if language == "en" else glossary.words_in(query, language, asked)


def _fused(item: tuple[float, ChunkRecord]) -> float:
    return item[0]
