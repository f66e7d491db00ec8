"""Ingestion: index a tenant after ``import_tenant``, and apply Blob Storage events to one document at a time.

Blob layout: container ``KNOWLEDGE_BLOB_CONTAINER``, blob names ``<tenant>/<path>`` (``demo/articles/faq.md``).
A BlobCreated event re-reads that blob, parses it (Markdown / text / JSON / a Shopify ``products.json``) and
replaces the documents it holds; BlobDeleted removes them. Either event first looks at the blob's *current* state,
so a late or repeated event converges on what is in storage instead of undoing a newer change.

Prebuilt vectors: a tenant folder may carry ``.vectors/<model>.npz`` (written by ``python -m core.rag
export-vectors``): exact passage vectors keyed by the sha256 of the embedded text. Import loads them into the
embedding cache, so unchanged passages are not re-embedded; a passage whose text changed is embedded as usual.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel

from core.stores.ports import DocumentStore

from .answer_units import UNIT_VECTORS, split_units
from .blob_events import BlobEvent
from .documents import RESERVED_FILES, DocumentError, KnowledgeDocument, parse_bytes, product_document
from .embedding_cache import CachedEmbedder, text_key
from .indexing import SyncReport, chunk_records, cited_passages, embedding_text
from .retrieval import KB_COLLECTION, KB_VERSION_ID, META_COLLECTION, KnowledgeSearch

log = logging.getLogger("shopdesk.rag.ingest")
VECTORS_DIR = ".vectors"


class UnknownTenantError(LookupError):
    """A blob names a tenant that has not been onboarded."""


class ShopTerms(Protocol):
    """What a blob's product documents need of the tenant's configuration (``core.tenants.TenantConfig``)."""

    currency: str
    shop_url: str | None


class BlobIngestResult(BaseModel):
    tenant_id: str
    blob: str
    action: str  # indexed | removed | ignored
    documents: list[str] = []
    removed: list[str] = []


def _seed_path(folder: Path, model_id: str) -> Path:
    return folder / VECTORS_DIR / (re.sub(r"[^A-Za-z0-9._-]+", "_", model_id) + ".npz")


def load_seed_vectors(folder: Path, embedder) -> int:
    """Load a folder's prebuilt vectors for this embedder's model into its cache; returns how many."""
    if not isinstance(embedder, CachedEmbedder) or embedder._cache is None:
        return 0
    path = _seed_path(folder, embedder.model_id)
    if not path.exists():
        return 0
    with np.load(path, allow_pickle=False) as data:
        if str(data["model_id"]) != embedder.model_id or data["vectors"].shape[1] != embedder.dimension:
            return 0
        keys, vectors = data["keys"], data["vectors"].astype(np.float32)
    embedder._cache.put_many(embedder.model_id, [(bytes(k), v) for k, v in zip(keys, vectors, strict=True)])
    return len(keys)


def export_seed_vectors(folder: Path, documents: list[KnowledgeDocument], embedder) -> Path:
    """Write the passage vectors of these documents and of their answering units (embedding what is missing) to
    ``<folder>/.vectors/``."""
    texts = sorted({embedding_text(r) for d in documents for r in chunk_records(d)}
                   | {context for d in documents for context in answer_unit_contexts(d)})
    vectors = embedder.embed_passages(texts)
    path = _seed_path(folder, embedder.model_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = np.frombuffer(b"".join(text_key("passage", t) for t in texts), dtype=np.uint8).reshape(-1, 32)
    np.savez_compressed(path, model_id=np.array(embedder.model_id), keys=keys, vectors=vectors.astype(np.float32))
    return path


def index_imported_tenant(tenant_id: str, folder: Path, knowledge: KnowledgeSearch,
                          progress: Callable[[int, int], None] | None = None) -> SyncReport:
    """The ``import_tenant`` hook: load the folder's prebuilt vectors, then sync ``knowledge``'s index with the
    freshly imported KB (``progress(done, total)``: documents embedded so far)."""
    seeded = load_seed_vectors(Path(folder), knowledge.embedder)
    report = knowledge.sync(tenant_id, progress)
    units = embed_answer_units(knowledge.kb_documents(tenant_id), knowledge.embedder)
    log.info("tenant=%s knowledge indexed: %s added, %s updated, %s removed, %s passages embedded, %s answering "
             "units (%s prebuilt vectors available)", tenant_id, report.added, report.updated, report.removed,
             report.passages_embedded, units, seeded)
    return report


def answer_unit_contexts(doc: KnowledgeDocument) -> set[str]:
    """What the embedder reads of each answering unit a reply may quote from this document: the units of the whole
    page (the best cited pages are read whole) and of each passage a search can cite (the others are quoted from
    their passage), and what each unit is about (its subject, which ranking weighs too)."""
    units = [u for text in (doc.content, *cited_passages(doc)) for u in split_units(text)]
    return {u.context for u in units} | {u.subject for u in units if u.subject}


def embed_answer_units(documents: list[KnowledgeDocument], embedder) -> int:
    """Embed the answering units of the documents (sentences, table rows, FAQ pairs) when they are imported, into
    the embedder's cache, rather than at the first customer question each one answers; returns how many."""
    return sum(len(UNIT_VECTORS.rows(embedder, sorted(answer_unit_contexts(d)))) for d in documents)


def documents_from_blob(path: str, data: bytes, *, currency: str, shop_url: str | None) -> list[KnowledgeDocument]:
    """The KB documents one blob holds (``path`` is the name below the tenant prefix)."""
    name = Path(path).name
    if name.lower() == "products.json":
        try:
            products = json.loads(data.decode("utf-8-sig")).get("products")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            raise DocumentError(f"{name}: expected a Shopify {{'products': [...]}} export") from exc
        if not isinstance(products, list):
            raise DocumentError(f"{name}: expected a Shopify {{'products': [...]}} export")
        docs = [product_document(p, currency, shop_url) for p in products]
    else:
        docs = parse_bytes(name, data)
    return [d.model_copy(update={"source": f"blob:{path}"}) for d in docs]


def is_knowledge_blob(path: str) -> bool:
    name = Path(path).name.lower()
    if name == "products.json":
        return True
    return (Path(name).suffix in {".md", ".markdown", ".txt", ".json"} and name not in RESERVED_FILES
            and not any(part.startswith(".") for part in Path(path).parts))


def apply_blob_event(event: BlobEvent, *, tenant: ShopTerms | None, read_blob, store: DocumentStore,
                     knowledge: KnowledgeSearch, container: str) -> BlobIngestResult:
    """Bring the tenant's KB and index in line with the blob's current content (absent = deleted).

    ``tenant``: the configuration of the tenant the blob's prefix names (None: not onboarded);
    ``read_blob(container, name) -> bytes | None``."""
    result = BlobIngestResult(tenant_id=event.tenant_id, blob=event.blob_name, action="ignored")
    if event.container != container or not is_knowledge_blob(event.path):
        return result
    if tenant is None:
        raise UnknownTenantError(f"blob {event.container}/{event.blob_name}: tenant {event.tenant_id!r} is not "
                                 "onboarded (import it first, then replay this message)")
    data = read_blob(container, event.blob_name)
    docs = [] if data is None else documents_from_blob(event.path, data, currency=tenant.currency,
                                                        shop_url=tenant.shop_url)
    source = f"blob:{event.path}"
    with knowledge.lock_tenant(event.tenant_id):
        previous = [d.id for d in store.list(event.tenant_id, KB_COLLECTION, limit=1_000_000)
                    if d.body.get("source") == source]
        new_ids = {d.id for d in docs}
        for doc in docs:
            store.put(event.tenant_id, KB_COLLECTION, doc.id, doc.model_dump(mode="json"))
        gone = [doc_id for doc_id in previous if doc_id not in new_ids]
        for doc_id in gone:
            store.delete(event.tenant_id, KB_COLLECTION, doc_id)
        store.put(event.tenant_id, META_COLLECTION, KB_VERSION_ID,
                  {"documents": store.count(event.tenant_id, KB_COLLECTION)})
        indexer = knowledge.indexer
        if docs:
            indexer.index_documents(event.tenant_id, docs)
        indexer.remove_documents(event.tenant_id, gone)
        knowledge.mark_synced(event.tenant_id)
    embed_answer_units(docs, knowledge.embedder)
    result.action = "indexed" if docs else "removed"
    result.documents = sorted(new_ids)
    result.removed = sorted(gone)
    return result
