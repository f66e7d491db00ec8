"""A product question keeps, after the product pages, the best policies or articles retrieved (its answer may be
a policy: returns, warranty), and a stock question still starts from the product pages."""

from __future__ import annotations

from types import SimpleNamespace

from core.agents import knowledge
from core.models import IntentResult
from core.rag.retrieval import SearchHit
from core.stores.memory_store import MemoryDocumentStore
from tests.unit.test_answer_units import WordEmbedder


class FakeSearch:
    def __init__(self, hits):
        self.hits = hits
        self.embedder = WordEmbedder()

    def search(self, tenant_id, query, k=3, lang=None):
        return self.hits[:k]


def _hit(doc_id: str, score: float) -> SearchHit:
    return SearchHit(doc_id=doc_id, title=doc_id, score=score, passage="text")


def _state(label: str):
    return SimpleNamespace(intent=IntentResult(label=label, confidence=0.9, language="en"), context=None,
                           turn=SimpleNamespace(tenant_id="t", message="can I return the treats?"))


def _ports(hits):
    return SimpleNamespace(settings=SimpleNamespace(KNOWLEDGE_TOP_K=3, KNOWLEDGE_MIN_SCORE=0.5),
                           knowledge=FakeSearch(hits), store=MemoryDocumentStore())


def test_product_pages_come_first_then_the_best_policies():
    hits = [_hit("policy-returns", 0.9), _hit("product-a", 0.8), _hit("product-b", 0.78), _hit("article-faq", 0.7),
            _hit("product-c", 0.65), _hit("policy-privacy", 0.6), _hit("policy-low", 0.4)]
    cited = knowledge.retrieve_knowledge(_state("product_info"), _ports(hits))
    assert [c.doc_id for c in cited] == ["product-a", "product-b", "product-c", "policy-returns", "article-faq"]


def test_other_questions_keep_the_top_k_in_score_order():
    hits = [_hit("policy-returns", 0.9), _hit("product-a", 0.8), _hit("article-faq", 0.7), _hit("product-b", 0.6)]
    cited = knowledge.retrieve_knowledge(_state("returns_refunds"), _ports(hits))
    assert [c.doc_id for c in cited] == ["policy-returns", "product-a", "article-faq"]


def _follow_up_state(*, history, citations=(), products=(), blocked=False, escalation=None):
    from core.models import Escalation, InputVerdict, ShopFacts

    return SimpleNamespace(citations=list(citations), context=SimpleNamespace(history=history),
                           facts=ShopFacts(products=list(products)), screen=InputVerdict(blocked=blocked),
                           escalation=escalation or Escalation(),
                           intent=IntentResult(label="shipping", confidence=0.9, language="fr"),
                           turn=SimpleNamespace(tenant_id="t", message="ok pis pour le Nunavut?"))


class RecordingSearch(FakeSearch):
    def search(self, tenant_id, query, k=3, lang=None):
        self.query = query
        return super().search(tenant_id, query, k, lang)


def test_a_follow_up_that_found_nothing_is_searched_with_the_previous_question():
    search = RecordingSearch([_hit("policy-shipping", 0.8), _hit("policy-low", 0.3)])
    ports = SimpleNamespace(settings=SimpleNamespace(KNOWLEDGE_TOP_K=3, KNOWLEDGE_MIN_SCORE=0.5), knowledge=search)
    state = _follow_up_state(history=[{"user": "C'est combien la livraison pour Montréal?", "reply": "…"}])
    cited = knowledge.follow_up_citations(state, ports)
    assert [c.doc_id for c in cited] == ["policy-shipping"]
    assert search.query == "C'est combien la livraison pour Montréal?\nok pis pour le Nunavut?"


def test_no_follow_up_search_without_history_or_when_the_turn_has_its_answer():
    search = RecordingSearch([_hit("policy-shipping", 0.8)])
    ports = SimpleNamespace(settings=SimpleNamespace(KNOWLEDGE_TOP_K=3, KNOWLEDGE_MIN_SCORE=0.5), knowledge=search)
    earlier = [{"user": "C'est combien la livraison?", "reply": "…"}]
    assert knowledge.follow_up_citations(_follow_up_state(history=[]), ports) == []
    assert knowledge.follow_up_citations(_follow_up_state(history=earlier, blocked=True), ports) == []
    cited = knowledge.retrieve(search, "t", "livraison", "fr", k=1, min_score=0.5)
    assert knowledge.follow_up_citations(_follow_up_state(history=earlier, citations=cited), ports) == []


def test_a_hand_off_reply_never_searches_again_since_no_page_can_answer_in_it():
    from core.agents import response
    from core.models import Citation, Escalation, InputVerdict, ShopFacts

    search = RecordingSearch([_hit("policy-shipping", 0.8)])
    ports = SimpleNamespace(settings=SimpleNamespace(KNOWLEDGE_TOP_K=3, KNOWLEDGE_MIN_SCORE=0.5), knowledge=search)
    earlier = [{"user": "C'est combien la livraison pour Montréal?", "reply": "…"}]
    page = [Citation(doc_id="policy-shipping", title="Livraison", score=0.8, passage="Livraison gratuite dès 75 $.")]
    for reason in sorted(knowledge.HANDOFF_ONLY_REASONS):
        escalation = Escalation(escalated=True, reason=reason, ticket_id="T-1")
        assert knowledge.follow_up_citations(_follow_up_state(history=earlier, escalation=escalation), ports) == []
        # (the reply such a search would feed: the hand-off alone, never grounded in the page)
        draft = response.compose("ok pis pour le Nunavut?", verdict=InputVerdict(), intent=IntentResult(
            label="shipping", confidence=0.9, language="fr"), citations=page, facts=ShopFacts(),
            escalation=escalation, language="fr")
        assert not draft.grounded and "75" not in draft.reply
    assert not hasattr(search, "query")
    other = Escalation(escalated=True, reason="low_confidence", ticket_id="T-2")  # answered, then handed off
    assert knowledge.follow_up_citations(_follow_up_state(history=earlier, escalation=other), ports)


def test_documents_are_reordered_by_their_best_answering_unit():
    from core.models import Citation

    store = MemoryDocumentStore()
    pages = {"policy-shipping": "# Shipping\n\nWe ship to Canada and the United States, never on Sundays.",
             "article-hours": "# Store hours\n\n| Day | Hours |\n|---|---|\n| Sunday | 11 a.m. to 5 p.m. |\n"}
    for doc_id, content in pages.items():
        store.put("t", "kb", doc_id, {"id": doc_id, "content": content})
    ports = SimpleNamespace(store=store, knowledge=SimpleNamespace(embedder=WordEmbedder()))
    citations = [Citation(doc_id="policy-shipping", title="Shipping", score=0.70, passage="We ship"),
                 Citation(doc_id="article-hours", title="Store hours", score=0.66, passage="Store hours")]
    ranked = knowledge.rerank_by_units(ports, "t", "store hours on Sunday", citations)
    assert [c.doc_id for c in ranked] == ["article-hours", "policy-shipping"]
    assert knowledge.rerank_by_units(ports, "t", "store hours on Sunday", citations[:1]) == citations[:1]


def test_the_output_critic_grounds_a_follow_up_reply_in_the_pages_it_was_answered_from():
    from core.agents import critic
    from core.models import Citation, Draft, Escalation, ShopFacts

    store = MemoryDocumentStore()
    store.put("t", "kb", "policy-shipping", {"id": "policy-shipping",
                                             "content": "# Shipping\n\nNunavut: 24.95 $, 8 to 12 business days."})
    store.put("u", "kb", "policy-shipping", {"id": "policy-shipping", "content": "# Shipping\n\nOther shop: 99.99 $"})
    cited = Citation(doc_id="policy-shipping", title="Shipping", score=0.7, passage="Nunavut: 24.95 $")
    state = SimpleNamespace(
        turn=SimpleNamespace(tenant_id="t", message="ok pis pour le Nunavut?"), facts=ShopFacts(), citations=[],
        escalation=Escalation(), action=None,
        draft=Draft(reply="Nunavut : 24.95 $, 8 à 12 jours ouvrables.", language="fr", citations=[cited]))
    ports = SimpleNamespace(store=store)
    context = critic.context_text(state, ports)
    assert "8 to 12 business days" in context and "99.99" not in context
    state.draft = Draft(reply="…", language="fr")
    assert "24.95" not in critic.context_text(state, ports)
