"""Chunk -> embed -> index for one tenant, incrementally: a document whose content hash is already indexed is skipped,
a changed one is re-chunked and replaced, a vanished one is removed."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable

from pydantic import BaseModel

from .documents import KnowledgeDocument
from .embedders import Embedder
from .lexical import chunk_document
from .vector_index import ChunkRecord, VectorIndex

log = logging.getLogger("shopdesk.rag.indexing")


class SyncReport(BaseModel):
    tenant_id: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks_indexed: int = 0
    passages_embedded: int = 0
    seconds: float = 0.0


CHUNKING_VERSION = 2  # part of every document hash: changing how documents are chunked re-indexes them


def document_hash(doc: KnowledgeDocument) -> str:
    fields = [CHUNKING_VERSION, doc.title, doc.content, doc.url, doc.lang, doc.category, doc.translation_of]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()[:32]


def title_card(doc: KnowledgeDocument) -> str:
    """A short text naming the document: its title, plus the type and tags lines of a catalog product. Short texts
    match names across languages far better than long passages do ("savon à la mangue" -> "Organic Mango Soap")."""
    lines = [doc.title]
    lines += [line for line in doc.content.splitlines() if line.startswith(("Category:", "Tags:"))]
    return "\n".join(lines)


def chunk_records(doc: KnowledgeDocument) -> list[ChunkRecord]:
    digest = document_hash(doc)
    group = doc.translation_of or doc.id
    chunks = chunk_document(doc.id, doc.title, doc.content, url=doc.url, lang=doc.lang, category=doc.category)
    card = ChunkRecord(doc_id=doc.id, position=0, group_id=group, title=doc.title, url=doc.url, lang=doc.lang,
                       category=doc.category, text=title_card(doc), doc_hash=digest, card=True)
    return [card] + [ChunkRecord(doc_id=doc.id, position=i, group_id=group, title=doc.title, url=doc.url,
                                 lang=doc.lang, category=doc.category, text=c.text, doc_hash=digest)
                     for i, c in enumerate(chunks, 1)]


def joined_passage(first: str, second: str) -> str:
    """The passage a search cites when two chunks of a document answer about equally well (in document order)."""
    return f"{first}\n\n{second}"


def cited_passages(doc: KnowledgeDocument) -> list[str]:
    """Every passage a search can cite from this document: each of its chunks, and each two of them joined."""
    texts = [r.text for r in chunk_records(doc) if not r.card]
    return texts + [joined_passage(first, second) for i, first in enumerate(texts) for second in texts[i + 1:]]


def embedding_text(record: ChunkRecord) -> str:
    """What the model sees: the document title gives every chunk its subject ("Organic Mango Soap" + "Size")."""
    if record.card:
        return record.text
    first_line = record.text.lstrip("# ").split("\n", 1)[0].strip()
    return record.text if first_line == record.title else f"{record.title}\n{record.text}"


class Indexer:
    def __init__(self, embedder: Embedder, index: VectorIndex):
        self.embedder = embedder
        self.index = index

    def prepare(self, tenant_id: str) -> None:
        self.index.ensure(tenant_id, self.embedder.model_id, self.embedder.dimension)

    def index_documents(self, tenant_id: str, docs: Iterable[KnowledgeDocument], *,
                        report: SyncReport | None = None) -> SyncReport:
        """Embed and (re)place these documents, whatever their hash."""
        report = report or SyncReport(tenant_id=tenant_id)
        self.prepare(tenant_id)
        docs = list(docs)
        per_doc = [chunk_records(d) for d in docs]
        texts = [embedding_text(r) for records in per_doc for r in records]
        before = getattr(self.embedder, "embedded", 0)
        vectors = self.embedder.embed_passages(texts)
        report.passages_embedded += getattr(self.embedder, "embedded", len(texts)) - before
        offset = 0
        for doc, records in zip(docs, per_doc, strict=True):
            self.index.replace_document(tenant_id, doc.id, records, vectors[offset:offset + len(records)])
            offset += len(records)
            report.chunks_indexed += len(records)
        return report

    def remove_documents(self, tenant_id: str, doc_ids: Iterable[str]) -> int:
        return sum(1 for doc_id in doc_ids if self.index.delete_document(tenant_id, doc_id))

    def sync(self, tenant_id: str, docs: Iterable[KnowledgeDocument],
             progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Make the tenant's index hold exactly these documents (``progress(done, total)`` after each slice of
        changed documents is embedded)."""
        started = time.perf_counter()
        self.prepare(tenant_id)
        docs = list(docs)
        indexed = self.index.document_hashes(tenant_id)
        report = SyncReport(tenant_id=tenant_id)
        changed = []
        for doc in docs:
            known = indexed.get(doc.id)
            if known == document_hash(doc):
                report.unchanged += 1
                continue
            changed.append(doc)
            if known is None:
                report.added += 1
            else:
                report.updated += 1
        # Embed in slices so a large catalog reaches the index progressively and memory stays flat.
        for start in range(0, len(changed), 64):
            self.index_documents(tenant_id, changed[start:start + 64], report=report)
            if progress is not None:
                progress(min(start + 64, len(changed)), len(changed))
        wanted = {d.id for d in docs}
        report.removed = self.remove_documents(tenant_id, [d for d in indexed if d not in wanted])
        report.seconds = round(time.perf_counter() - started, 3)
        if report.added or report.updated or report.removed:
            log.info("knowledge index synced tenant=%s added=%s updated=%s removed=%s embedded=%s in %.1fs",
                     tenant_id, report.added, report.updated, report.removed, report.passages_embedded,
                     report.seconds)
        return report
