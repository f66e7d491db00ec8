"""The knowledge texts a turn reads twice (ordering its pages, composing its reply) are read from the store once per
KB version, by tenant: a tenant never gets another tenant's page, and a changed KB is read again."""

from __future__ import annotations

from core.agents.knowledge import cited_documents
from core.models import Citation
from core.rag.document_texts import DocumentTexts
from core.rag.retrieval import KB_COLLECTION, KB_VERSION_ID, META_COLLECTION
from core.stores.memory_store import MemoryDocumentStore


class CountingStore(MemoryDocumentStore):
    def __init__(self):
        super().__init__()
        self.reads: list[tuple[str, str, str]] = []

    def get(self, tenant_id, collection, doc_id):
        self.reads.append((tenant_id, collection, doc_id))
        return super().get(tenant_id, collection, doc_id)


def _write_kb(store, tenant_id: str, pages: dict[str, str]) -> None:
    for doc_id, content in pages.items():
        store.put(tenant_id, KB_COLLECTION, doc_id, {"id": doc_id, "content": content})
    store.put(tenant_id, META_COLLECTION, KB_VERSION_ID, {"documents": len(pages)})


def test_texts_are_read_once_per_kb_version_and_again_after_a_change():
    store, texts = CountingStore(), DocumentTexts()
    _write_kb(store, "shop-a", {"policy-returns": "30 days.", "policy-shipping": "Free from $75."})
    assert texts.get_many(store, "shop-a", ["policy-returns", "policy-shipping", "gone"]) == {
        "policy-returns": "30 days.", "policy-shipping": "Free from $75."}
    store.reads.clear()
    assert texts.get_many(store, "shop-a", ["policy-shipping", "policy-returns"]) == {
        "policy-shipping": "Free from $75.", "policy-returns": "30 days."}
    assert [r for r in store.reads if r[1] == KB_COLLECTION] == []  # only the version was read

    _write_kb(store, "shop-a", {"policy-returns": "60 days now."})  # a new import
    assert texts.get_many(store, "shop-a", ["policy-returns"]) == {"policy-returns": "60 days now."}


def test_a_tenant_never_gets_another_tenants_page_of_the_same_id():
    store, texts = CountingStore(), DocumentTexts()
    _write_kb(store, "shop-a", {"policy-returns": "Shop A: 30 days."})
    _write_kb(store, "shop-b", {"policy-returns": "Shop B: final sale."})
    assert texts.get_many(store, "shop-a", ["policy-returns"]) == {"policy-returns": "Shop A: 30 days."}
    assert texts.get_many(store, "shop-b", ["policy-returns"]) == {"policy-returns": "Shop B: final sale."}
    assert texts.get_many(store, "shop-c", ["policy-returns"]) == {}  # no KB at all


def test_a_kb_without_a_recorded_version_is_read_every_time():
    store, texts = CountingStore(), DocumentTexts()
    store.put("shop-a", KB_COLLECTION, "faq", {"content": "Open daily."})
    assert texts.get_many(store, "shop-a", ["faq"]) == {"faq": "Open daily."}
    store.put("shop-a", KB_COLLECTION, "faq", {"content": "Closed Sundays."})
    assert texts.get_many(store, "shop-a", ["faq"]) == {"faq": "Closed Sundays."}


def test_cited_documents_reads_the_top_citations_text():
    store = CountingStore()
    _write_kb(store, "shop-a", {"a": "Page A.", "b": "Page B.", "c": "Page C."})
    citations = [Citation(doc_id=d, title=d, score=0.5, passage="…") for d in ("b", "a", "c")]
    assert list(cited_documents(store, "shop-a", citations, limit=2).items()) == [("b", "Page B."), ("a", "Page A.")]
