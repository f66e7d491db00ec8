"""Answering units of a page (sentences, table rows read with their column names, FAQ question-and-answer pairs) and
the reply that quotes the unit answering the question rather than the page's first sentences."""

from __future__ import annotations

import functools
import zlib

import numpy as np
import pytest

from core.agents import response
from core.models import Citation
from core.rag import answer_units
from core.rag.answer_units import Ranked, ReplyRanker, UnitVectors, rank_units, split_units
from core.text import tokens

SHIPPING = """# Shipping & delivery

We pack every order by hand in our workshop, with real padding around the corners.

## Rates

| Destination | Cost | Free shipping |
|---|---|---|
| Quebec and Ontario | $9.95 | On orders of $75+ |
| Territories | $29.95 | Never free |

## Where we don't ship

We ship **only to Canada**. We can't ship to [forwarding services](https://example.com/fwd).
"""

FAQ = """# FAQ

**Does the glaze contain lead?** No, the glaze is lead-free and food-safe.

**Do you have a physical store?**
Yes, at 2150 Beaubien Street East.

**Arrived broken?**

Tell us within 48 hours with photos.

## What we can't take back

- Gift cards
- Opened treats

Variant Small (SKU X-1): 9.00 CAD, in stock.
Tags: treats, chicken.
"""


class WordEmbedder:
    """A deterministic stand-in for the encoder: one dimension per word, so similarity is shared words."""

    model_id = "words-test"
    dimension = 4096

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for token in tokens(text):
            vector[zlib.crc32(token.encode()) % self.dimension] += 1.0  # str hash() differs per process
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_queries(self, texts):
        return np.stack([self._vector(t) for t in texts])

    def embed_passages(self, texts):
        return np.stack([self._vector(t) for t in texts])


class PassageCounter(WordEmbedder):
    """The word embedder under its own model id (unit vectors are kept by model), keeping every passage text it
    embeds (``texts``: an indexer reads ``embedded`` as a count)."""

    def __init__(self, model_id: str):
        self.model_id = model_id
        self.texts: list[str] = []

    def embed_passages(self, texts):
        self.texts += list(texts)
        return super().embed_passages(texts)


def test_a_table_row_is_a_unit_read_with_its_column_names():
    rows = [u for u in split_units(SHIPPING) if u.kind == "row"]
    assert [u.text for u in rows] == [
        "Destination: Quebec and Ontario, Cost: $9.95, Free shipping: On orders of $75+",
        "Destination: Territories, Cost: $29.95, Free shipping: Never free",
    ]
    assert rows[1].cells == ("Territories", "$29.95", "Never free")
    assert rows[1].heading == "Rates" and rows[1].context.startswith("Shipping & delivery — Rates: ")


def test_sentences_lose_markup_and_links_and_the_title_is_context_only():
    units = split_units(SHIPPING)
    assert units[0].text.startswith("We pack every order") and units[0].heading == ""
    assert units[0].context.startswith("Shipping & delivery: ")
    assert "We can't ship to forwarding services." in [u.text for u in units]
    assert "We ship only to Canada." in [u.text for u in units]


def test_faq_questions_stay_with_their_answers_and_catalogue_lines_are_not_units():
    units = split_units(FAQ)
    texts = [u.text for u in units]
    assert "Does the glaze contain lead? No, the glaze is lead-free and food-safe." in texts
    assert "Do you have a physical store? Yes, at 2150 Beaubien Street East." in texts
    assert "Arrived broken? Tell us within 48 hours with photos." in texts  # a question alone joins its answer
    assert not any(t.startswith(("Variant", "Tags:")) for t in texts)
    items = [u for u in units if u.kind == "item"]
    assert [u.heading for u in items] == ["What we can't take back"] * 2


def test_rank_units_orders_every_unit_of_every_document_by_similarity_and_prior():
    embedder = WordEmbedder()
    ranked = rank_units(embedder, "shipping to the territories cost", [(FAQ, 0.0), (SHIPPING, 0.0)])
    assert ranked[0].source == 1 and ranked[0].unit.cells[0] == "Territories"
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    favoured = rank_units(embedder, "shipping to the territories cost", [(FAQ, 5.0), (SHIPPING, 0.0)])
    assert favoured[0].source == 0  # the caller's prior counts


def test_unit_vectors_are_kept_per_unit_text_and_shared_between_a_page_and_its_passages():
    calls: list[list[str]] = []

    class Counting(WordEmbedder):
        def embed_passages(self, texts):
            calls.append(list(texts))
            return super().embed_passages(texts)

    cache = UnitVectors(capacity=1, rows=100)
    embedder = Counting()
    units, vectors = cache.get(embedder, SHIPPING)
    assert vectors.shape == (len(units), embedder.dimension)
    assert np.allclose(vectors, embedder.embed_passages([u.context for u in units]))
    calls.clear()
    cache.get(embedder, SHIPPING)
    assert calls == []
    # The rates section cited on its own with the page's title: the same units, none embedded again.
    section = SHIPPING.split("## Where")[0]
    section_units, section_vectors = cache.get(embedder, section)
    assert calls == [] and 0 < len(section_units) < len(units)
    assert np.allclose(section_vectors, vectors[:len(section_units)])
    cache.get(embedder, FAQ)
    assert sorted(calls[0]) == sorted({u.context for u in split_units(FAQ)})  # only the FAQ's own units

    small = UnitVectors(rows=2)  # more units than it keeps: the oldest are embedded again
    small.get(embedder, SHIPPING)
    calls.clear()
    small.get(embedder, SHIPPING)
    assert len(calls) == 1


def test_unit_vectors_of_another_model_are_never_reused():
    class Other(WordEmbedder):
        model_id = "other-words-test"

        def embed_passages(self, texts):
            return np.zeros((len(texts), self.dimension), dtype=np.float32)

    cache = UnitVectors()
    _, words = cache.get(WordEmbedder(), SHIPPING)
    _, other = cache.get(Other(), SHIPPING)
    assert words.any() and not other.any()


def _sources(*texts: str) -> list[tuple[Citation, str]]:
    return [(Citation(doc_id=f"doc-{i}", title=f"Doc {i}", score=0.7, passage=t), t) for i, t in enumerate(texts)]


def test_the_reply_quotes_the_row_that_answers_not_the_whole_table():
    ranker = functools.partial(rank_units, WordEmbedder())
    picked = response.unit_answer(ranker, _sources(SHIPPING), "How much is shipping to the Territories?")
    assert picked is not None
    source, text = picked
    assert source == 0 and "$29.95" in text and "$9.95" not in text


def test_each_part_of_a_two_part_question_gets_its_unit():
    ranker = functools.partial(rank_units, WordEmbedder())
    question = "What is the cost for the Territories? Can you ship to forwarding services?"
    picked = response.unit_answer(ranker, _sources(SHIPPING), question)
    assert picked == (0, "Destination: Territories, Cost: $29.95, Free shipping: Never free. "
                         "We can't ship to forwarding services.")
    parts = response.question_parts("How much is shipping to the Territories? And is it ever free?")
    assert parts == ["How much is shipping to the Territories?", "And is it ever free?"]
    assert response.question_parts("do you ship to canada") == []


def test_a_list_item_keeps_the_heading_that_gives_it_its_meaning():
    units = split_units(FAQ)
    treats = next(u for u in units if u.text == "Opened treats")
    lead = next(u for u in units if "lead-free" in u.text)
    assert response.quote_units([treats, lead]) == (
        "Does the glaze contain lead? No, the glaze is lead-free and food-safe. "
        "What we can't take back: Opened treats.")


def test_the_words_choice_stands_when_the_best_unit_is_in_it():
    ranker = functools.partial(rank_units, WordEmbedder())
    # The question's words and the embedder agree on the glaze answer: the words' reply (None here) is kept.
    assert response.unit_answer(ranker, _sources(FAQ), "Does the glaze contain lead?") is None


RETURNS = """# Returns

You have 30 days from delivery to return unopened items.

## What we can't take back

- Opened treats and food, unless your pet refuses them (see our Picky Eater promise).
"""

TREATS_PAGE = """Freeze-dried chicken, one ingredient. Made in Quebec.

Variant 100 g (SKU T-100): 19.99 CAD, in stock.
"""


def _compose(message: str, citations: list[Citation], documents: dict[str, str], products) -> str:
    from core.models import Escalation, InputVerdict, IntentResult, ShopFacts

    draft = response.compose(message, verdict=InputVerdict(), intent=IntentResult(label="product_info", confidence=0.9,
                                                                                  language="en"),
                             citations=citations, facts=ShopFacts(products=products), escalation=Escalation(),
                             language="en", documents=documents,
                             ranker=functools.partial(rank_units, WordEmbedder()))
    return draft.reply


def _treats():
    from core.models import ProductFacts

    return ProductFacts(product_id="1", doc_id="product-treats", title="Chicken Treats", price="19.99",
                        currency="CAD", in_stock=True, quantity=12)


def test_a_question_about_a_named_product_is_answered_by_the_policy_that_answers_it():
    citations = [Citation(doc_id="product-treats", title="Chicken Treats", score=0.9, passage=TREATS_PAGE),
                 Citation(doc_id="policy-returns", title="Returns", score=0.7, passage=RETURNS)]
    reply = _compose("Can I return opened chicken treats my dog refuses?", citations,
                     {"product-treats": TREATS_PAGE, "policy-returns": RETURNS}, [_treats()])
    assert "Picky Eater" in reply and "What we can't take back" in reply
    assert "Yes," not in reply  # the product's stock line after a policy is not a yes to the question
    assert "19.99" in reply


def test_a_stock_question_about_a_named_product_gets_its_stock():
    citations = [Citation(doc_id="product-treats", title="Chicken Treats", score=0.9, passage=TREATS_PAGE),
                 Citation(doc_id="policy-returns", title="Returns", score=0.7, passage=RETURNS)]
    reply = _compose("Are the chicken treats in stock?", citations,
                     {"product-treats": TREATS_PAGE, "policy-returns": RETURNS}, [_treats()])
    assert reply.startswith("Yes, Chicken Treats is in stock") and "Picky Eater" not in reply


def test_a_stock_question_about_the_product_itself_is_not_answered_by_a_policy():
    citations = [Citation(doc_id="policy-returns", title="Returns", score=0.8, passage=RETURNS),
                 Citation(doc_id="product-treats", title="Chicken Treats", score=0.7, passage=TREATS_PAGE)]
    reply = _compose("Are the organic treats your pet refuses in stock?", citations,
                     {"product-treats": TREATS_PAGE, "policy-returns": RETURNS}, [_treats()])
    assert "Picky Eater" not in reply and "Chicken Treats" in reply


def test_an_import_embeds_the_answering_units_so_a_first_question_embeds_none():
    import numpy as np

    from core.rag.answer_units import UNIT_VECTORS, split_units
    from core.rag.documents import KnowledgeDocument
    from core.rag.ingest import embed_answer_units

    class Counting:
        model_id, dimension = "counting-embedder-units", 3

        def __init__(self):
            self.embedded: list[str] = []

        def embed_passages(self, texts):
            self.embedded += list(texts)
            return np.ones((len(texts), 3), dtype=np.float32)

    page = KnowledgeDocument(id="policy-returns-import", title="Returns", content=(
        "# Returns\n\nYou have 30 days to return an item.\n\n"
        "| Item | Window |\n|---|---|\n| Shoes | 30 days |\n| Sale items | final sale |\n"))
    embedder = Counting()
    units = split_units(page.content)
    texts = {u.context for u in units} | {u.subject for u in units}
    assert embed_answer_units([page], embedder) == len(texts) > 3
    assert sorted(embedder.embedded) == sorted(texts)
    embedder.embedded.clear()
    units, relevance = UNIT_VECTORS.relevance(embedder, page.content, np.ones(3, dtype=np.float32))
    assert embedder.embedded == [] and len(units) == len(relevance)  # the first customer question on that page


def test_an_import_embeds_the_units_of_every_passage_a_search_can_cite(tmp_path):
    """The third page a reply weighs is quoted from the passage its search cited (a chunk, or two chunks joined):
    those units are embedded at import too, and another process finds them in the embedding cache."""
    from core.rag.answer_units import UnitVectors
    from core.rag.documents import KnowledgeDocument
    from core.rag.embedding_cache import CachedEmbedder, EmbeddingCache
    from core.rag.indexing import chunk_records, cited_passages
    from core.rag.ingest import embed_answer_units

    sections = "\n\n".join(f"## Section {i}\n\n" + " ".join(f"Rule {i}.{j} of this shop applies to parcel type {j}."
                                                           for j in range(12)) for i in range(4))
    page = KnowledgeDocument(id="policy-long", title="Long policy", content=f"# Long policy\n\n{sections}\n")
    chunks = [r.text for r in chunk_records(page) if not r.card]
    assert len(chunks) >= 3
    passages = cited_passages(page)
    assert len(passages) == len(chunks) + len(chunks) * (len(chunks) - 1) // 2
    assert all(c in passages for c in chunks) and f"{chunks[0]}\n\n{chunks[2]}" in passages

    inner = PassageCounter("counting-words-passages")
    embed_answer_units([page], CachedEmbedder(inner, EmbeddingCache(tmp_path / "embeddings.sqlite")))
    assert inner.texts and len(inner.texts) == len(set(inner.texts))  # each unit text once

    # another process: its own units in memory, the same embedding cache
    elsewhere = PassageCounter("counting-words-passages")
    cached = CachedEmbedder(elsewhere, EmbeddingCache(tmp_path / "embeddings.sqlite"))
    vectors = UnitVectors()
    for text in [page.content, *passages]:
        units, rows = vectors.get(cached, text)
        assert len(units) == len(rows) > 0
    assert elsewhere.texts == []


def test_a_replys_ranker_embeds_the_question_parts_in_one_call_and_ranks_as_rank_units_does():
    calls: list[list[str]] = []

    class Counting(WordEmbedder):
        def embed_queries(self, texts):
            calls.append(list(texts))
            return super().embed_queries(texts)

    question = "How much is shipping to the Territories, and where don't you ship?"
    parts = response.question_parts(question)
    assert len(parts) == 2
    documents = [(FAQ, 0.0), (SHIPPING, 0.1)]
    scored: list[tuple[int, str]] = []

    def lexical(unit, index):
        scored.append((index, unit.text))
        return 0.01 * len(unit.text.split())

    embedder = Counting()
    ranker = ReplyRanker(embedder, together=parts)
    for text in (question, *parts):
        expected = rank_units(WordEmbedder(), text, documents, lexical)
        assert ranker(text, documents, lexical) == expected  # each question ranked by its own vector
    assert calls == [[question], parts]  # the message alone, then both parts in one call
    units = len(split_units(FAQ)) + len(split_units(SHIPPING))
    assert len(scored) == units * 3 + units  # three rankings by rank_units, one by the reply's ranker
    assert ReplyRanker(WordEmbedder())("  ", documents) == []


def test_a_page_written_to_the_knowledge_container_has_its_units_embedded_when_it_is_indexed(tmp_path):
    import json
    from types import SimpleNamespace

    from core.rag.answer_units import UNIT_VECTORS
    from core.rag.blob_events import blob_event, parse_blob_events
    from core.rag.ingest import answer_unit_contexts, apply_blob_event
    from core.rag.retrieval import KnowledgeSearch
    from core.rag.vector_index import EmbeddedVectorIndex
    from core.stores.memory_store import MemoryDocumentStore

    store, embedder = MemoryDocumentStore(), PassageCounter("counting-words-blob")
    knowledge = KnowledgeSearch(store, embedder=embedder, index=EmbeddedVectorIndex(tmp_path / "index"))
    (event,) = parse_blob_events(json.dumps(blob_event("created", "knowledge", "shop-x/policies/shipping.md")))
    result = apply_blob_event(event, tenant=SimpleNamespace(currency="CAD", shop_url=None),
                              read_blob=lambda _container, _name: SHIPPING.encode(), store=store,
                              knowledge=knowledge, container="knowledge")
    (doc,) = knowledge.kb_documents("shop-x")
    assert result.action == "indexed" and answer_unit_contexts(doc) <= set(embedder.texts)
    embedder.texts.clear()
    hit = knowledge.search("shop-x", "shipping to the territories", k=1)[0]
    UNIT_VECTORS.get(embedder, hit.passage)  # the first question quoting the cited passage
    assert embedder.texts == []


WRAPPED = """# Guarantee

## What it doesn't cover

- Plants left at a post office: if the carrier leaves a notice card, please pick your plant up **within
  2 business days**. Plants collected later aren't covered, because they sat in a cold
  depot.
- Claims sent more than 14 days after delivery.

We don't do exchanges by mail: send the item back for a refund and place a new order for the size or colour
you want.

Monday: closed
Tuesday: 10 a.m. - 6 p.m.
"""


def test_a_hard_wrapped_item_or_paragraph_is_one_text_not_one_unit_per_line():
    texts = [u.text for u in split_units(WRAPPED)]
    assert "Plants left at a post office: if the carrier leaves a notice card, please pick your plant up within " \
           "2 business days." in texts
    assert "Plants collected later aren't covered, because they sat in a cold depot." in texts
    assert "Claims sent more than 14 days after delivery." in texts
    assert any(t.startswith("We don't do exchanges by mail") and t.endswith("colour you want.") for t in texts)
    # Short lines that start with a capital (a list of days without bullets) stay lines of their own.
    assert answer_units._joined_lines(["Monday: closed", "Tuesday: 10 a.m. - 6 p.m."]) == [
        "Monday: closed", "Tuesday: 10 a.m. - 6 p.m."]
    assert answer_units._joined_lines(["**Do you ship to PO boxes?**", "no, sorry."]) == [
        "**Do you ship to PO boxes?**", "no, sorry."]  # a FAQ question keeps its line




GIFT_CARDS = """# Gift cards

- Sent by email within the hour, with a note from you.
- Never expire, and can be spent over several orders.
- Can't pay for Refill Club subscription orders.
"""


def test_each_part_of_a_question_is_ranked_on_its_own_words_and_adds_what_the_quote_leaves_out():
    units = {u.text: u for u in split_units(GIFT_CARDS)}
    sent, never, cant = (units[t] for t in (
        "Sent by email within the hour, with a note from you.", "Never expire, and can be spent over several orders.",
        "Can't pay for Refill Club subscription orders."))
    whole = "Do gift cards expire? Can I use one to pay for my Refill Club subscription orders?"
    scripted = {whole: [(never, 0.9), (sent, 0.5), (cant, 0.4)],
                "Do gift cards expire?": [(never, 0.8), (sent, 0.798), (cant, 0.3)],
                "Can I use one to pay for my Refill Club subscription orders?": [(cant, 0.7), (never, 0.6)]}
    lexical_seen: dict[str, float] = {}

    def ranker(question, documents, lexical):
        lexical_seen[question] = lexical(cant, 0)
        return [Ranked(score, score, 0, unit) for unit, score in scripted[question]]

    picked = response.unit_answer(ranker, _sources(GIFT_CARDS), whole, defer_to_words=False)
    assert picked is not None
    # The part whose best unit is quoted already adds the one nearly as close; the other part adds its own.
    assert picked[1] == ("Sent by email within the hour, with a note from you. Never expire, and can be spent over "
                         "several orders. Can't pay for Refill Club subscription orders.")
    # Each part's words score it, not the whole question's ("Refill Club" does not pull the first part).
    assert lexical_seen["Do gift cards expire?"] < lexical_seen[whole]


RATES = """# Shipping

## Rates

| Destination | Service | Cost | Free shipping |
|---|---|---|---|
| Quebec City | Expedited | $9.50 | From $100 |
| Quebec City | Xpresspost | $17.00 | Never free |
| Yukon | Expedited | $19.00 | From $150 |
"""


def test_the_same_destinations_other_service_is_quoted_beside_its_row_and_another_destination_is_not():
    ranker = functools.partial(rank_units, WordEmbedder())
    picked = response.unit_answer(ranker, _sources(RATES), "How much is shipping to Quebec City?")
    assert picked is not None
    _, text = picked
    assert "$9.50" in text and "$17.00" in text and "Yukon" not in text
    _, yukon = response.unit_answer(ranker, _sources(RATES), "How much is shipping to the Yukon?")
    assert "$19.00" in yukon and "Quebec" not in yukon


INK = """# Returns

You have 30 days from delivery to return an item in its original condition.

## What we cannot take back

- Opened ink bottles, even if you don't like the colour.
- Gift cards.
"""


def test_a_list_item_under_a_heading_that_negates_it_is_quoted_with_that_heading():
    ranker = functools.partial(rank_units, WordEmbedder())
    picked = response.unit_answer(ranker, _sources(INK), "Can I return an opened ink bottle? I don't like the colour")
    assert picked is not None
    assert picked[1].startswith("What we cannot take back: Opened ink bottles, even if you don't like the colour.")


HOURS = """# Visit us

**Pickup hours:**
- Wednesday to Friday: 11:00 am - 6:00 pm
- Saturday: 10:00 am - 2:00 pm
- Sunday, Monday and Tuesday: closed

**Heures de cueillette**

- jeudi et vendredi : 12 h à 18 h
- samedi : 10 h à 16 h
- dimanche au mercredi : fermé

## Contact

- **Email:** hello@example.com, we reply within 1 business day.
- **Phone:** (555) 555-0100, Monday to Friday, 9 a.m. to 4 p.m.
"""


def test_a_list_of_days_with_their_hours_is_one_unit_with_its_label():
    units = split_units(HOURS)
    texts = [u.text for u in units]
    assert "Pickup hours: Wednesday to Friday: 11:00 am - 6:00 pm; Saturday: 10:00 am - 2:00 pm; " \
           "Sunday, Monday and Tuesday: closed" in texts
    assert "Heures de cueillette: jeudi et vendredi : 12 h à 18 h; samedi : 10 h à 16 h; " \
           "dimanche au mercredi : fermé" in texts
    # A list with one time of day in it is no timetable: its items stay units of their own.
    assert "Email: hello@example.com, we reply within 1 business day." in texts
    assert "Phone: (555) 555-0100, Monday to Friday, 9 a.m. to 4 p.m." in texts
    assert not any("Saturday" in t and t != texts[0] for t in texts)


def test_a_question_about_one_day_quotes_the_whole_timetable():
    ranker = functools.partial(rank_units, WordEmbedder())
    picked = response.unit_answer(ranker, _sources(HOURS), "Are you open Saturday for pickup?")
    assert picked is not None
    assert "Saturday: 10:00 am - 2:00 pm" in picked[1] and "Sunday, Monday and Tuesday: closed" in picked[1]


def test_a_unit_is_about_its_own_question_or_else_its_title_and_heading():
    units = {u.text: u for u in split_units(FAQ)}
    assert units["Does the glaze contain lead? No, the glaze is lead-free and food-safe."].subject == \
        "Does the glaze contain lead?"
    assert units["Do you have a physical store? Yes, at 2150 Beaubien Street East."].subject == \
        "Do you have a physical store?"
    assert units["Gift cards"].subject == "FAQ — What we can't take back"
    rows = [u for u in split_units(SHIPPING) if u.kind == "row"]
    assert rows[0].subject == "Shipping & delivery — Rates"
    assert split_units("We ship only to Canada.")[0].subject == ""  # no title, no heading: nothing to add


GIFT_CARD_PAGE = """# Gift cards

They stay valid for twelve months after purchase, and we email the code at once.
"""

REGISTRY_PAGE = """# Baby registry

Friends can add gift cards to your registry list, and cards arrive with the registry gifts.
"""


def test_the_page_whose_title_names_the_questions_subject_answers_it(monkeypatch):
    """The registry sentence shares more of the question's words; the gift card page is about what is asked."""
    embedder = WordEmbedder()
    question = "do your gift cards expire?"
    query = embedder.embed_queries([question])[0]
    vectors = UnitVectors()
    best = {name: float(vectors.relevance(embedder, text, query)[1].max())
            for name, text in (("gift cards", GIFT_CARD_PAGE), ("registry", REGISTRY_PAGE))}
    assert best["gift cards"] > best["registry"]
    assert rank_units(embedder, question, [(REGISTRY_PAGE, 0.0), (GIFT_CARD_PAGE, 0.0)])[0].source == 1

    monkeypatch.setattr(answer_units, "SUBJECT_WEIGHT", 0.0)
    plain = {name: float(vectors.relevance(embedder, text, query)[1].max())
             for name, text in (("gift cards", GIFT_CARD_PAGE), ("registry", REGISTRY_PAGE))}
    assert plain["registry"] > plain["gift cards"]  # the words alone pick the registry


def test_the_retrieved_pages_are_ordered_by_what_their_best_unit_is_about(monkeypatch):
    from types import SimpleNamespace

    from core.agents import knowledge

    texts = {"registry": REGISTRY_PAGE, "gift-cards": GIFT_CARD_PAGE}
    monkeypatch.setattr(knowledge, "cited_documents", lambda store, tenant, citations, limit: texts)
    ports = SimpleNamespace(store=None, knowledge=SimpleNamespace(embedder=WordEmbedder()))
    citations = [Citation(doc_id=doc_id, title=doc_id, score=0.6, passage=text) for doc_id, text in texts.items()]
    ranked = knowledge.rerank_by_units(ports, "t1", "do your gift cards expire?", citations)
    assert [c.doc_id for c in ranked] == ["gift-cards", "registry"]
    monkeypatch.setattr(answer_units, "SUBJECT_WEIGHT", 0.0)
    ranked = knowledge.rerank_by_units(ports, "t1", "do your gift cards expire?", citations)
    assert [c.doc_id for c in ranked] == ["registry", "gift-cards"]


MEXICO_RATES = """# Shipping

| Destination | Carrier | Cost |
|---|---|---|
| Mexico – Standard | Estafeta | $149 (free from $1,500) |
| Mexico – Express | Estafeta Next Day | $290 |
| United States and Canada | DHL Express | $690 |
"""


def test_a_destinations_other_service_written_in_the_same_cell_is_quoted_beside_its_row():
    ranker = functools.partial(rank_units, WordEmbedder())
    picked = response.unit_answer(ranker, _sources(MEXICO_RATES), "How much is shipping to Mexico?")
    assert picked is not None
    _, text = picked
    assert "$149" in text and "$290" in text and "$690" not in text


SINKS = """# Shipping

We deliver to Mexico, the United States and Canada, nowhere else for now.

- Canada and United States: DHL Express, 690 per order, 5 to 9 business days.
- Sinks and 16-piece dinner sets are delivered within Mexico only.
- You get your tracking number by email.
"""


def sinks_ranker(question, documents, lexical=None):
    """The encoder as a shipping page shows it: the rule closest to the question, the next line and the exception
    just under it."""
    similarity = {"We deliver": 0.87, "Canada and": 0.86, "Sinks and ": 0.835}
    ranked = []
    for index, (content, prior) in enumerate(documents):
        for unit in split_units(content):
            close = similarity.get(unit.text[:10], 0.70)
            ranked.append(Ranked(close + prior + (lexical(unit, index) if lexical else 0.0), close, index, unit))
    return sorted(ranked, key=lambda r: (-r.score, r.unit.position))


def test_the_exception_naming_what_the_question_names_follows_the_rule():
    picked = response.unit_choice(sinks_ranker, _sources(SINKS), "Can you deliver the blue sink to Canada?",
                                  defer_to_words=False)
    assert picked is not None
    texts = [u.text for u in picked[1]]
    assert texts[0].startswith("We deliver to Mexico") and texts[1].startswith("Sinks and 16-piece")
    # A question naming nothing the rule leaves out gets the next line, as before.
    plain = response.unit_choice(sinks_ranker, _sources(SINKS), "Do you deliver to Canada?", defer_to_words=False)
    assert plain is not None and plain[1][1].text.startswith("Canada and United States")


PAYMENT_PAGE = """# Payment methods

## Online we accept

- Visa and Mastercard
- Digital gift cards
- PayPal
"""

VOUCHER_PAGE = """# Digital gift cards

Digital gift cards in amounts of $25, $50 or $100.

They never expire and are usable online in several purchases.

They are e-mailed on the date you choose, with your message.
"""


def test_a_page_about_the_question_answers_before_a_page_naming_it_in_passing():
    embedder = WordEmbedder()
    question = "do you accept digital gift cards online"
    alone = [rank_units(embedder, question, [(text, 0.0)])[0] for text in (PAYMENT_PAGE, VOUCHER_PAGE)]
    # (the payment page's one line about gift cards is the closest single unit; the gift-card page's units are all
    # about them)
    assert alone[0].similarity > alone[1].similarity
    ranked = rank_units(embedder, question, [(PAYMENT_PAGE, 0.0), (VOUCHER_PAGE, 0.0)])
    assert ranked[0].source == 1
    assert answer_units.page_focus(np.array([0.9, 0.9, 0.9, 0.2])) == 0.0
    assert answer_units.page_focus(np.array([0.9, 0.3, 0.3])) == pytest.approx(-0.4)
    assert answer_units.page_focus(np.array([], dtype=np.float32)) == 0.0


REFUNDS = """# Refunds

We process the refund within 3 business days of receiving your return. You'll get an email once it's done. \
After that your bank takes 5-10 business days to show the refund.

For returns sent with our prepaid label, $8.95 is taken off the refund.
"""


def _refund_units() -> dict[str, answer_units.Unit]:
    units = {u.text: u for u in split_units(REFUNDS)}
    return {key: next(u for text, u in units.items() if text.startswith(start))
            for key, start in (("process", "We process"), ("email", "You'll get"), ("bank", "After that"),
                               ("label", "For returns"))}


def test_the_next_step_of_the_best_sentences_paragraph_is_quoted_when_it_answers_about_as_well():
    units = _refund_units()
    scores = {"process": 0.9, "bank": 0.87, "label": 0.86, "email": 0.6}

    def ranker(question, documents, lexical):
        return sorted((Ranked(s, s, 0, units[k]) for k, s in scores.items()), key=lambda r: -r.score)

    question = "Once you get my return, how long until I get my refund?"
    # (the question's words alone would quote the label's sentence, which shares "returns" and "refund")
    picked = response.unit_answer(ranker, _sources(REFUNDS), question)
    assert picked is not None
    assert picked[1] == ("We process the refund within 3 business days of receiving your return. After that your "
                         "bank takes 5-10 business days to show the refund.")


def test_a_sentence_of_the_paragraph_far_below_the_best_is_not_quoted():
    units = _refund_units()
    scores = {"process": 0.9, "label": 0.88, "bank": 0.8, "email": 0.6}

    def ranker(question, documents, lexical):
        return sorted((Ranked(s, s, 0, units[k]) for k, s in scores.items()), key=lambda r: -r.score)

    picked = response.unit_choice(ranker, _sources(REFUNDS), "when is my refund processed?", defer_to_words=False)
    assert picked is not None
    assert units["bank"] not in picked[1] and units["process"] in picked[1]


ABROAD = """# Shipping

We only ship within Canada and to the United States. We don't ship to Mexico, Europe or anywhere else yet.

Duties on US orders are paid by the recipient.
"""


def test_the_sentence_right_before_the_best_one_in_its_paragraph_is_quoted_a_little_further_below_it():
    units = {u.text[:10]: u for u in split_units(ABROAD)}
    scores = {"We don't s": 0.9, "Duties on ": 0.84, "We only sh": 0.835}

    def ranker(question, documents, lexical):
        return sorted((Ranked(s, s, 0, units[k]) for k, s in scores.items()), key=lambda r: -r.score)

    picked = response.unit_choice(ranker, _sources(ABROAD), "do you ship to Mexico?", defer_to_words=False)
    assert picked is not None
    assert sorted(u.text[:10] for u in picked[1]) == ["We don't s", "We only sh"]  # not the duties
    assert response.quote_units(picked[1]).startswith("We only ship within Canada")


def test_a_pages_introduction_is_its_first_paragraph_of_sentences():
    page = split_units("# Returns\n\nWe want you to love what you ordered. This page explains what can be returned.\n\n"
                       "## Window\n\nYou can return products within 30 days. They must be unused.\n")
    intro = [u for u in page if "This page explains" in u.text][0]
    rule = [u for u in page if "30 days" in u.text][0]
    assert response._lead_paragraph(intro, page)
    assert not response._lead_paragraph(rule, page)


def test_an_address_written_on_short_lines_is_one_unit():
    page = ("# Visit us\n\n## Address\n\n**Harbour Studio**\n2083 Gottingen Street\nHalifax, Nova Scotia B3K 3B2\n"
            "Canada\n\nStep-free entrance. Street parking is free on Sundays.\n\n## Contact\n\n- **E-mail:** "
            "hello@example.com\n- **Phone:** (902) 555-0148")
    units = split_units(page)
    assert units[0].text == "Harbour Studio, 2083 Gottingen Street, Halifax, Nova Scotia B3K 3B2, Canada"
    assert units[0].heading == "Address"
    assert units[1].text.startswith("Step-free entrance.")  # the next paragraph stands on its own
    # (short lines with no figure, or a "label: value" line, are no such block)
    assert [u.text for u in split_units("# A\n\nOpen daily\nCome and see")] == ["Open daily Come and see"]
    assert "Phone: (902) 555-0148" in [u.text for u in split_units("# A\n\nPhone: (902) 555-0148\nE-mail: a@b.c")]

