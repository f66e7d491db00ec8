"""The texts a turn embeds together: the searches of a question's parts share one call of the embedder (one forward
pass of the embedded model), and the parts the classifiers read one by one are embedded in one pass first; the
results are those of one query at a time."""

from __future__ import annotations

import uuid

import numpy as np

from core.agents import intent, knowledge, question_type, response
from core.models import InputVerdict, IntentResult, ShopFacts, TurnInput
from core.turn.state import TurnState
from tests.unit.test_rag_search import recording_passes


def _counting(monkeypatch, embedder) -> list[list[str]]:
    calls: list[list[str]] = []
    original = embedder.embed_queries

    def embed_queries(texts):
        calls.append(list(texts))
        return original(texts)

    monkeypatch.setattr(embedder, "embed_queries", embed_queries)
    return calls


def test_search_many_embeds_the_queries_in_one_call_and_finds_what_each_search_finds(services, monkeypatch):
    search = services.knowledge
    queries = ["What is your return policy?", "  ", "do you ship to Canada?", "What is your return policy?",
               "¿cuánto cuesta el envío?"]
    alone = [search.search("demo", q, k=4, lang="en") for q in queries]
    calls = _counting(monkeypatch, search.embedder)
    together = search.search_many("demo", queries, k=4, lang="en")
    assert together == alone
    assert calls == [["What is your return policy?", "do you ship to Canada?", "¿cuánto cuesta el envío?"]]
    assert search.search_many("demo", [" ", ""], k=4) == [[], []] and len(calls) == 1  # nothing to embed


def test_retrieve_many_keeps_each_querys_citations_above_the_floor(services):
    queries = ["What is your return policy?", "how long does shipping take?"]
    each = [knowledge.retrieve(services.knowledge, "demo", q, "en", k=3, min_score=0.5) for q in queries]
    assert knowledge.retrieve_many(services.knowledge, "demo", queries, "en", k=3, min_score=0.5) == each
    assert all(c.score >= 0.5 for found in each for c in found) and any(each)


def test_a_questions_parts_are_searched_with_one_embedding_call(services, monkeypatch):
    message = "Do you ship to Canada? And how long do returns take?"
    parts = response.question_parts(message)
    assert len(parts) == 2
    state = TurnState(turn=TurnInput(tenant_id="demo", conversation_id="c1", turn_id="t1", message=message,
                                     trace_id="0" * 32, received_at="2026-11-25T12:00:00+00:00"),
                      screen=InputVerdict(), intent=IntentResult(label="shipping", confidence=0.9, language="en"),
                      facts=ShopFacts())
    ports = services.turn_ports()
    calls = _counting(monkeypatch, services.knowledge.embedder)
    found = response.part_pages(state, ports)
    assert calls == [[parts[0], parts[1], f"{parts[0]} {parts[1]}"]]
    assert list(found) == parts
    settings = ports.settings
    for index, part in enumerate(parts):
        pages: dict[str, float] = {}
        for query in [part] + ([f"{parts[index - 1]} {part}"] if index else []):
            for c in knowledge.retrieve(services.knowledge, "demo", query, "en", k=settings.KNOWLEDGE_TOP_K,
                                        min_score=settings.KNOWLEDGE_MIN_SCORE - response.POLICY_SCORE_SLACK):
                if not c.doc_id.startswith("product-"):
                    pages[c.doc_id] = max(c.score, pages.get(c.doc_id, -1.0))
        assert [(c.doc_id, c.score) for c, _ in found[part]] == sorted(pages.items(), key=lambda item: -item[1])


def test_a_messages_parts_are_embedded_in_one_pass_before_each_is_classified(monkeypatch):
    tag = uuid.uuid4().hex[:6]  # texts no earlier test embedded
    message = f"Is order {tag} on its way? Can I still add a second soap to it?"
    parts = question_type.message_parts(message)
    assert len(parts) == 2
    embedder = intent._embedder()  # the classifiers' embedder
    passes, original = recording_passes(monkeypatch, embedder)
    topics = question_type.asked_topics(message)
    assert [text for text, _, _ in topics] == [message, *parts]
    assert passes == [[message, *parts]]
    # A text's vector does not depend on the texts beside it in a pass (to the bit), so neither do the topics.
    texts = [message, *parts]
    assert np.array_equal(np.asarray(original(texts, True)), np.stack([original([t], True)[0] for t in texts]))
