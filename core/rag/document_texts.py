"""The text of a tenant's knowledge documents, kept in memory for the tenant's current KB version.

A turn reads the pages it retrieved when it orders them by their answering units, and the best of them again when
it composes the reply; each process keeps the texts it read, keyed by tenant, KB version and document id. Every
change to a tenant's KB (an import, a blob written or deleted) writes a new KB version, so the next read of the
version finds none of the texts kept for the old one and reads them from the store again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from core.stores.ports import DocumentStore

from .retrieval import KB_COLLECTION, KB_VERSION_ID, META_COLLECTION


class DocumentTexts:
    def __init__(self, capacity: int = 512):
        self._texts: OrderedDict[tuple[str, str, str], str | None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get_many(self, store: DocumentStore, tenant_id: str, doc_ids: Sequence[str]) -> dict[str, str]:
        """``{doc id: content}`` of the documents of ``tenant_id`` the store holds, in the order asked."""
        version = store.get(tenant_id, META_COLLECTION, KB_VERSION_ID)
        out: dict[str, str] = {}
        for doc_id in doc_ids:
            key = (tenant_id, version.etag, doc_id) if version is not None else None
            with self._lock:
                kept = key is not None and key in self._texts
                if kept:
                    self._texts.move_to_end(key)
                    text = self._texts[key]
            if not kept:
                stored = store.get(tenant_id, KB_COLLECTION, doc_id)
                text = stored.body.get("content", "") if stored is not None else None
                if key is not None:  # (a KB written before versions were recorded is read every time)
                    with self._lock:
                        self._texts[key] = text
                        while len(self._texts) > self._capacity:
                            self._texts.popitem(last=False)
            if text is not None:
                out[doc_id] = text
        return out


DOCUMENT_TEXTS = DocumentTexts()
