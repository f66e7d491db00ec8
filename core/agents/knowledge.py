"""Knowledge agent: retrieves cited passages from the tenant's KB and live shop facts (orders, stock, prices)."""

from __future__ import annotations

import numpy as np

from core.agents import memory, question_type
from core.agents.intent import extract_entities
from core.agents.table_rows import RowRanker, shop_day
from core.agents.variants import asked_variants, asks_only_stock, named_only_as_variant
from core.integrations.imported_shop import named_accessories, order_facts, owns, product_facts
from core.integrations.ports import ShopData
from core.models import Citation, CustomerRef, IntentResult, OrderFacts, ShopFacts
from core.rag.answer_units import UNIT_VECTORS, ReplyRanker
from core.rag.document_texts import DOCUMENT_TEXTS
from core.rag.places import names_any, with_regions, zone_levels, zone_names
from core.rag.retrieval import KnowledgeSearch
from core.rag.scoring import IDENTITY, scale_for
from core.rag.vector_index import base_language
from core.stores.ports import DocumentStore
from core.text import STOPWORDS, tokens
from core.turn.ports import TurnPorts
from core.turn.state import TurnState

ORDER_INTENTS = {"order_status", "returns_refunds", "complaint_escalation"}
#: Questions about money (a refund, a payment) that a signed-in customer's own orders may answer beside the policy.
MONEY_INTENTS = frozenset({"returns_refunds", "payment_billing"})
POLICIES_KEPT = 2  # policies or articles kept after the product pages that answer a product question
RERANK_CANDIDATES = 8  # documents retrieved, then ordered by their best answering unit
UNIT_RERANK_WEIGHT = 2.0  # the best unit's similarity against the document's calibrated retrieval score
# Questions whose answer may depend on where the customer is: a place they name is looked up as its zone.
ZONE_INTENTS = frozenset({"shipping", "order_status", "payment_billing", "returns_refunds", "general"})
# Questions whose answer is the shop's rule for a zone (where it ships, how long, what return shipping costs): the page
# and the sentence naming the zone of the customer's town answer them. A payment question naming a town ("a gift card
# for my mother-in-law in Québec") asks about something else.
ZONE_RULE_INTENTS = ZONE_INTENTS - {"payment_billing"}
ZONE_PAGES = 2  # pages naming the zone of a place the question names, cited when the search cites none
ZONE_UNIT_WEIGHT = 0.04  # added to a unit's score for each zone (division, country) of the question's place it names
# Escalations whose reply is the hand-off message alone, whatever the pages say (a request for a person, a
# complaint, a safety concern): no search can add an answer to it.
HANDOFF_ONLY_REASONS = frozenset({"customer_requested_human", "complaint", "safety"})
#: How much a follow-up's answer is chosen by the previous question's subject, against its own words (1.0).
SUBJECT_WEIGHT = 0.5
#: A follow-up of at most this many words is read with the previous question's subject ("and to Alaska?"); a longer
#: one says what it asks about, and is searched with that subject only when its own words find nothing.
TERSE_WORDS = 10
#: How far under the relevance threshold a page may score and still be cited for a follow-up, when the message alone
#: and the message read with the previous question both find it.
AGREEMENT_SLACK = 0.03


def retrieve(search: KnowledgeSearch, tenant_id: str, query: str, language: str, *, k: int,
             min_score: float) -> list[Citation]:
    return _citations(search.search(tenant_id, query, k=k, lang=language), min_score)


def retrieve_many(search: KnowledgeSearch, tenant_id: str, queries: list[str], language: str, *, k: int,
                  min_score: float) -> list[list[Citation]]:
    """``retrieve`` of each query, the queries embedded together (``KnowledgeSearch.search_many``; one at a time
    on a search that only searches one)."""
    many = getattr(search, "search_many", None)
    found = many(tenant_id, queries, k=k, lang=language) if many is not None else \
        [search.search(tenant_id, query, k=k, lang=language) for query in queries]
    return [_citations(hits, min_score) for hits in found]


def _citations(hits: list, min_score: float) -> list[Citation]:
    return [
        Citation(doc_id=h.doc_id, title=h.title, url=h.url, score=h.score, passage=h.passage, lang=h.lang)
        for h in hits
        if h.score >= min_score
    ]


def shop_facts(shop: ShopData, tenant_id: str, message: str, intent: IntentResult, *,
               customer: CustomerRef | None, slot_order: str | None, slot_products: list[str],
               verified_email: str | None, currency: str, shop_url: str | None,
               claimed_email: str | None = None, catalog_staleness: float = 0.0,
               previous_question: str | None = None) -> ShopFacts:
    """Orders are disclosed only to their owner. ``customer`` is the verified (shop-signed) customer: their own
    orders may be listed. Anyone else proves ownership of one order by its number plus the e-mail on it, typed in
    this conversation (or named, unverified, in the chat body: ``claimed_email``). ``previous_question``: the
    question the conversation's last turn answered, whose products a message naming only their variants asks
    about."""
    facts = ShopFacts(customer_known=customer is not None)
    email = (intent.entities.emails[:1] or [verified_email or claimed_email])[0]
    proofs = [p for p in (customer, CustomerRef(email=email) if email else None) if p is not None]

    numbers = intent.entities.order_numbers or ([slot_order] if slot_order and intent.label in ORDER_INTENTS else [])
    if numbers:
        facts.order_lookup = "not_found"
        for number in numbers[:3]:
            order = shop.find_order(tenant_id, number)
            if order is None:
                continue
            if any(owns(order, proof) for proof in proofs):
                facts.orders.append(order_facts(order))
                facts.order_lookup = "found"
            elif facts.order_lookup != "found":
                facts.order_lookup = "needs_verification"
    elif intent.label == "order_status" and customer is not None and (customer.id or customer.email):
        recent = named_first(shop.orders_for(tenant_id, customer)[:3], message)
        facts.orders = [order_facts(o) for o in recent]
        facts.order_lookup = "found" if recent else "not_found"
    elif intent.label in MONEY_INTENTS and customer is not None and (customer.id or customer.email):
        # "I cancelled my order and don't see the refund", "I picked e-transfer, how do I pay?": the signed-in
        # customer's recent orders whose record says something about their money (a cancellation, a refund, a
        # payment still awaited) answer beside the policy; an order with nothing of the kind is not what they ask.
        # A cancellation or a refund answers only a question about the customer's own money, not how paying works
        # ("do you take PayPal? how much tax in Montreal?"); a payment still awaited answers both ("how do I pay?").
        recent = [order_facts(o) for o in shop.orders_for(tenant_id, customer)[:3]]
        news = [o for o in recent if money_news(o)]
        own = any(o.financial_status != "pending" for o in news) and question_type.asks_own_money(message)
        facts.orders = [o for o in news if own or o.financial_status == "pending"]
        facts.order_lookup = "found" if facts.orders else "none"
        facts.money_context = bool(facts.orders)
    # Anyone else with an e-mail but no order number is asked for the number: an e-mail alone lists no orders.

    matches = shop.match_products(tenant_id, message, max_staleness=catalog_staleness)
    products = [p for p, _ in matches]
    follow_up = False
    if slot_products:
        previous = slot_product_records(shop, tenant_id, slot_products)
        if not products:
            products = previous
            follow_up = intent.label != "product_info"
        else:
            # A variant of the product being discussed, named by a word that another product's title holds ("and
            # the regular tenor ones?" after ukulele strings), asks for that variant, not for the other product.
            kept = [p for p in previous if p not in products and all(
                named_only_as_variant(m.get("title", ""), p.get("title", ""), p.get("variants") or [], message)
                for m in products)]
            products = kept or products
    elif not products and previous_question:
        # "would you have the same one in oxblood?" after a turn that named the product but recorded none (an order
        # action on it, a reply from a policy page): the product of the previous question, if the message names one
        # of its variants.
        products = [p for p, _ in shop.match_products(tenant_id, previous_question, max_staleness=catalog_staleness)
                    if asked_variants(p.get("title", ""), p.get("variants") or [], message)]
    if products:
        products = named_accessories(products, shop.all_products(tenant_id), message)
    facts.products = [product_facts(p, currency, shop_url) for p in products]
    if follow_up and not asks_only_stock(message):
        # Another question after a product one is about that product only when it names one of its variants
        # ("and in black?", "what about large then") or asks only its price or stock ("how much is it?").
        facts.products = [p for p in facts.products if asked_variants(p.title, p.variants, message)]
    return facts


def named_first(orders: list[dict], message: str) -> list[dict]:
    """A signed-in customer's recent orders, those whose items the message names first ("when is my reformer
    arriving?" is about the order with the reformer, not the newest one): the words of the message that the item
    titles of some of these orders hold and of the others do not; the newest first otherwise."""
    def item_words(order: dict) -> set[str]:
        return {t for line in order.get("line_items") or [] for t in tokens(
            f"{line.get('title') or ''} {line.get('variant_title') or ''}") if len(t) > 2 and t not in STOPWORDS}

    held = [item_words(o) for o in orders]
    asked = {t for t in tokens(message) if len(t) > 2 and t not in STOPWORDS}
    common = set.intersection(*held) if held else set()
    named = [len({w for w in asked - common if any(_same_word(w, t) for t in words)}) for words in held]
    if len(orders) < 2 or not any(named):
        return orders
    order = sorted(range(len(orders)), key=lambda i: -named[i])  # (stable: the newest first among equals)
    return [orders[i] for i in order]


def _same_word(asked: str, title: str) -> bool:
    """A word of the message names a title's word: the same word, or its plural ("bloques" for "Bloque")."""
    return asked == title or (len(title) > 3 and asked.startswith(title) and len(asked) - len(title) <= 2)


def money_news(order: OrderFacts) -> bool:
    """The order's record speaks of its money: it was cancelled or refunded, or its payment is still awaited."""
    return order.status in ("cancelled", "refunded") or bool(order.refunded) or order.financial_status == "pending"


def slot_product_records(shop: ShopData, tenant_id: str, slot_products: list[str]) -> list[dict]:
    """The catalogue records of the products the conversation was about (at most two). Slots hold product document
    ids ("product-<handle>"); older conversations may hold product ids."""
    wanted = slot_products[:2]
    products = [p for p in (shop.get_product(tenant_id, pid) for pid in wanted if not pid.startswith("product-")) if p]
    handles = {pid.removeprefix("product-") for pid in wanted if pid.startswith("product-")}
    if handles:
        products += [p for p in shop.all_products(tenant_id) if p.get("handle") in handles]
    return products


def cited_documents(store: DocumentStore, tenant_id: str, citations: list[Citation], limit: int = 1
                    ) -> dict[str, str]:
    """Full text of the top cited documents (the offline answer picks its sentences from the whole document)."""
    return DOCUMENT_TEXTS.get_many(store, tenant_id, [c.doc_id for c in citations[:limit]])


# The turn's steps --------------------------------------------------------------------------------------------------
def retrieve_knowledge(state: TurnState, ports: TurnPorts) -> list[Citation]:
    assert state.intent is not None
    settings = ports.settings
    k = settings.KNOWLEDGE_TOP_K
    wide = state.intent.label == "product_info"
    question = memory.question(state)
    if state.intent.label in ZONE_INTENTS:
        # A town named in a delivery, order or payment question is searched as its province or state and country,
        # the zones shipping pages speak of ("je suis à Sherbrooke" -> Quebec, Canada).
        question = with_regions(question, state.intent.language)
    wanted = max(k * 3 if wide else k, RERANK_CANDIDATES)
    floor = settings.KNOWLEDGE_MIN_SCORE
    slack = scale_for(ports.knowledge.embedder.model_id).language_slack(base_language(state.intent.language))
    found = retrieve(ports.knowledge, state.turn.tenant_id, question, state.intent.language, k=wanted, min_score=0.0)
    near = [c for c in found if c.score >= floor - AGREEMENT_SLACK]
    citations = [c for c in near if c.score >= floor]
    subject = follow_up_query(state, ports, max((c.score for c in near), default=0.0))
    if subject:
        # A terse follow-up ("and to Alaska?", "pis c gratuit à partir de combien?"), or any later message that
        # found nothing on its own, is also searched with the previous question: its subject's pages compete, and
        # the new question's words, read with that subject, pick the page and its answer. A page both searches
        # find just under the relevance threshold counts: the two readings agree on it.
        around = retrieve(ports.knowledge, state.turn.tenant_id, subject, state.intent.language, k=wanted,
                          min_score=floor - AGREEMENT_SLACK)
        agreed = {c.doc_id for c in near} & {c.doc_id for c in around}
        citations = merged(citations, [c for c in around if c.score >= floor or c.doc_id in agreed],
                           [c for c in near if c.doc_id in agreed])
    if not citations:
        citations = other_language_citations(ports, state.turn.tenant_id, question, found, state.intent.language,
                                             floor - slack)
    if state.intent.label in ZONE_RULE_INTENTS:
        citations = merged(citations, zone_citations(ports, state.turn.tenant_id, question, citations,
                                                     state.intent.language, floor))
    citations = rerank_by_units(ports, state.turn.tenant_id, question, citations, subject)[:k * 3 if wide else k]
    if wide:
        # A product question is answered from product pages first (stable order otherwise); the best policies and
        # articles follow, for a question about the product that its page does not answer (returns, warranty…).
        products = [c for c in citations if c.doc_id.startswith("product-")]
        citations = (products + [c for c in citations if not c.doc_id.startswith("product-")])[:k] + \
            [c for c in citations if not c.doc_id.startswith("product-")][max(0, k - len(products)):][:POLICIES_KEPT]
    return citations


def other_language_citations(ports: TurnPorts, tenant_id: str, question: str, found: list[Citation], language: str,
                             floor: float) -> list[Citation]:
    """For a question no page reaches the relevance threshold for, the page written in another language than the
    question's (the shop has no translation of it) whose best answering unit comes closest to the question among
    the pages retrieved in other languages, if it scores at least ``floor``: a Spanish question about a page written
    in English only ("¿lo cubre la garantía?" -> the warranty) lacks the closeness its own language gives a page
    (``ScoreScale.language_slack``), not relevance; the unit keeps a page retrieved by its topic's words only out.
    A page counts by its best unit's own similarity, on the model's calibrated scale, when that scores higher than
    the passage the search found: a page in another language is often retrieved by a chunk about something else
    ("Avez-vous un programme de fidélité?" finds the Spanish loyalty page by its sign-up chunk, not by the sentence
    "Nuestro programa de lealtad es gratis")."""
    asked = base_language(language)
    others = [c for c in found if base_language(c.lang) != asked]
    if not others:
        return []
    matches = best_unit_matches(ports, tenant_id, question, others)
    top = max(others, key=lambda c: matches[c.doc_id][0])
    scale = scale_for(getattr(ports.knowledge.embedder, "model_id", ""))
    unit_score = scale.calibrate(matches[top.doc_id][1]) if scale is not IDENTITY else 0.0
    return [top] if max(top.score, unit_score) >= floor else []


def subject_query(state: TurnState) -> str | None:
    """Pure rule: the search of a message read with the previous one (the previous question's subject, then the new
    question), or None for the first message of a conversation and for a message that only supplies an e-mail or
    order number (its question is the previous message already: ``memory.question``)."""
    ctx = state.context
    if ctx is None or not ctx.history or memory.question(state) != state.turn.message:
        return None
    previous = without_identifiers(previous_question(ctx.history)).strip()
    return f"{previous}\n{state.turn.message}" if previous else None


def follow_up_query(state: TurnState, ports: TurnPorts, own_best: float | None = None) -> str | None:
    """``subject_query`` for a message that leans on the previous one: a terse follow-up ("and to Alaska?", "pis c
    gratuit à partir de combien?"), whose words alone say too little of what it asks about, or a longer one whose
    words alone find no page ("pis les douanes? je vais tu payer de quoi à la porte?" after a question about
    shipping to Montréal); None for any other message, a new question that its own words answer. ``own_best``: the
    best score of the message's own search, when the caller made it (else it is searched)."""
    subject = subject_query(state)
    if subject is None or len(tokens(state.turn.message)) <= TERSE_WORDS:
        return subject
    if own_best is None:
        own_best = own_search_best(state, ports)
    return subject if own_best < ports.settings.KNOWLEDGE_MIN_SCORE else None


def own_search_best(state: TurnState, ports: TurnPorts) -> float:
    """The best calibrated score the turn's question finds on its own (as ``retrieve_knowledge`` searches it)."""
    if state.intent is None:
        return 0.0
    question = memory.question(state)
    if state.intent.label in ZONE_INTENTS:
        question = with_regions(question, state.intent.language)
    hits = ports.knowledge.search(state.turn.tenant_id, question, k=1, lang=state.intent.language)
    return max((h.score for h in hits), default=0.0)


def previous_question(history: list[dict]) -> str:
    """The question the conversation's last turn answered: its message, or, when that message only supplied an
    e-mail address or an order number, the question before it with it."""
    previous = str(history[-1].get("user") or "")
    found = extract_entities(previous)
    return memory.question_in_context(previous, history[:-1], [*found.emails, *found.order_numbers])


def without_identifiers(text: str) -> str:
    """The text with its e-mail addresses and order numbers blanked: they name no subject to search for."""
    found = extract_entities(text)
    for value in [*found.emails, *found.order_numbers]:
        text = text.replace(value, " ")
    return text


def subject_vector(embedder, own, subject: str) -> np.ndarray:
    """A follow-up's query vector: its own (``own``) plus ``SUBJECT_WEIGHT`` times the subject search's, normalised."""
    blended = own + SUBJECT_WEIGHT * np.asarray(embedder.embed_queries([subject])[0])
    return (blended / np.linalg.norm(blended)).astype(np.asarray(own).dtype)


class FollowUpRanker(ReplyRanker):
    """Ranks a follow-up's answering units by the message read with the previous question's subject: "and if I
    want it faster?" after "how much is shipping to Ottawa?" is answered by the Ontario express rate, not by any
    sentence about speed. Its query is the message's vector plus ``SUBJECT_WEIGHT`` times the subject search's,
    normalised; the parts of a question in several parts are ranked on their own words."""

    def __init__(self, embedder, together, *, message: str, subject: str):
        super().__init__(embedder, together)
        self._message, self._subject = message, subject
        self._blended: np.ndarray | None = None

    def _query(self, question: str) -> np.ndarray:
        own = super()._query(question)
        if question != self._message:
            return own
        if self._blended is None:
            self._blended = subject_vector(self.embedder, own, self._subject)
        return self._blended


def reply_ranker(state: TurnState, ports: TurnPorts, message: str, together: list[str]) -> RowRanker:
    """The ranker of the reply's answering units: a follow-up's reads it with the previous question's subject, and
    a table's rows are weighed by what the question names (``RowRanker``)."""
    subject = follow_up_query(state, ports)
    embedder = ports.knowledge.embedder
    ranker = ReplyRanker(embedder, together=together) if subject is None else \
        FollowUpRanker(embedder, together, message=message, subject=subject)
    # (a follow-up naming no place is about its subject's: "and if I want it faster?" after "shipping to Ottawa?")
    around = subject if subject is not None and not any(zone_levels(message)) else None
    zoned = state.intent is not None and state.intent.label in ZONE_RULE_INTENTS and \
        any(zone_levels(around or message))
    # (a table's row naming what the question names answers it: "how long to Calgary?" -> the Alberta row)
    today = shop_day(state.turn.received_at, state.context.tenant.timezone if state.context else None)
    return RowRanker(PlaceRanker(ranker, around) if zoned else ranker, today)


class PlaceRanker:
    """A reply's ranker that also weighs where the question's places are: a unit naming the division or the country
    of a town the question names ranks higher (``ZONE_UNIT_WEIGHT`` each), so "¿y a Monterrey?" is answered by the
    sentence about Mexico and "pis à Whitehorse?" by the Yukon row, though the embedder finds neither close.
    ``around``: the text whose places count when the question names none (a follow-up's subject)."""

    def __init__(self, ranker: ReplyRanker, around: str | None = None):
        self._ranker = ranker
        self._around = around

    def __call__(self, question: str, documents, lexical=None):
        levels = [names for names in zone_levels(question) if names]
        if not levels and self._around:
            levels = [names for names in zone_levels(self._around) if names]
        if not levels:
            return self._ranker(question, documents, lexical)

        def with_zone(unit, index: int) -> float:
            named = sum(names_any(f"{unit.heading} {unit.text}", names) for names in levels)
            return (lexical(unit, index) if lexical else 0.0) + ZONE_UNIT_WEIGHT * named

        return self._ranker(question, documents, with_zone)


def merged(*searches: list[Citation]) -> list[Citation]:
    """Several searches' citations, one per document (its better-scored passage), best score first."""
    best: dict[str, Citation] = {}
    for citation in [c for found in searches for c in found]:
        if citation.doc_id not in best or citation.score > best[citation.doc_id].score:
            best[citation.doc_id] = citation
    return sorted(best.values(), key=lambda c: -c.score)


def follow_up_citations(state: TurnState, ports: TurnPorts) -> list[Citation]:
    """A short follow-up that retrieved nothing on its own ("and to Nunavut?", "y el domingo?", "do they expire?")
    is about the previous question's subject: the pages retrieved for both messages together. Nothing when the turn
    already has citations, shop facts or no earlier turn, or when its reply is the hand-off message alone."""
    ctx, facts = state.context, state.facts
    if (state.citations or ctx is None or not ctx.history or state.intent is None or facts.products or facts.orders
            or facts.order_lookup != "none" or (state.screen is not None and state.screen.blocked)
            or (state.escalation.escalated and state.escalation.reason in HANDOFF_ONLY_REASONS)):
        return []
    previous = str(ctx.history[-1].get("user") or "")
    if not previous.strip():
        return []
    settings = ports.settings
    return retrieve(ports.knowledge, state.turn.tenant_id, f"{previous}\n{state.turn.message}",
                    state.intent.language, k=settings.KNOWLEDGE_TOP_K, min_score=settings.KNOWLEDGE_MIN_SCORE)


def zone_citations(ports: TurnPorts, tenant_id: str, question: str, citations: list[Citation], language: str,
                   floor: float) -> list[Citation]:
    """The pages that name the zone (province or state, country) of a town the question names, when none of the
    pages cited already does: "¿y a Monterrey?" is answered by the page that says whether the shop ships to
    Mexico, though the question and that page share no word. They count as just relevant (``floor``)."""
    names = zone_names(question)
    if not names:
        return []
    texts = cited_documents(ports.store, tenant_id, citations, limit=len(citations))
    if any(names_any(texts.get(c.doc_id) or c.passage, names) for c in citations):
        return []
    hits = retrieve(ports.knowledge, tenant_id, " ".join(names), language, k=RERANK_CANDIDATES, min_score=0.0)
    texts = cited_documents(ports.store, tenant_id, hits, limit=len(hits))
    naming = [c for c in hits if names_any(texts.get(c.doc_id) or c.passage, names)][:ZONE_PAGES]
    return [c.model_copy(update={"score": floor}) for c in naming]


def rerank_by_units(ports: TurnPorts, tenant_id: str, query: str, citations: list[Citation],
                    subject: str | None = None) -> list[Citation]:
    """The retrieved documents in the order of their score plus how close their best answering unit (a sentence, a
    table row, a FAQ pair) comes to the question: a page is retrieved by its chunks, but answers by one of its
    units ("open tomorrow?" -> the hours table's Sunday row). A follow-up's question is read with its ``subject``
    (``subject_vector``)."""
    if len(citations) < 2:
        return citations
    best = best_unit_similarities(ports, tenant_id, query, citations, subject)
    return sorted(citations, key=lambda c: -(c.score + UNIT_RERANK_WEIGHT * best[c.doc_id]))


def best_unit_similarities(ports: TurnPorts, tenant_id: str, query: str, citations: list[Citation],
                           subject: str | None = None) -> dict[str, float]:
    """Each cited document's best answering unit's similarity to the question (doc id -> similarity); a follow-up's
    question is read with its ``subject`` (``subject_vector``)."""
    return {doc_id: relevance for doc_id, (relevance, _) in
            best_unit_matches(ports, tenant_id, query, citations, subject).items()}


def best_unit_matches(ports: TurnPorts, tenant_id: str, query: str, citations: list[Citation],
                      subject: str | None = None) -> dict[str, tuple[float, float]]:
    """Each cited document's best answering unit's relevance (``best_unit_similarities``) and its best unit's plain
    similarity to the question (doc id -> (relevance, similarity))."""
    texts = cited_documents(ports.store, tenant_id, citations, limit=len(citations))
    embedder = ports.knowledge.embedder
    query_vector = embedder.embed_queries([query])[0]
    if subject:
        query_vector = subject_vector(embedder, query_vector, subject)
    best: dict[str, tuple[float, float]] = {}
    for citation in citations:
        units, vectors = UNIT_VECTORS.get(embedder, texts.get(citation.doc_id) or citation.passage)
        if not units:
            best[citation.doc_id] = (0.0, 0.0)
            continue
        similarities = vectors @ query_vector
        relevance = UNIT_VECTORS.weighed(embedder, units, similarities, query_vector)
        best[citation.doc_id] = (float(relevance.max()), float(similarities.max()))
    return best


def lookup_shop_data(state: TurnState, ports: TurnPorts) -> ShopFacts:
    assert state.intent is not None and state.context is not None
    ctx, tenant_id = state.context, state.turn.tenant_id
    # An order only picked as the latest of a listing answers "where is it now?", not "what's your return window?".
    slot_order = ctx.order_number if not ctx.order_from_list or state.intent.label == "order_status" else None
    if slot_order and ctx.order_from_list and ctx.customer is not None and state.intent.label == "order_status":
        # (an order first of a listing gives way to the one whose item the message names: "and the rain jacket?")
        listed = ports.shop_for(tenant_id).orders_for(tenant_id, ctx.customer)[:3]
        first = named_first(listed, state.turn.message)
        if first and first is not listed and str(first[0].get("order_number")) != slot_order.lstrip("#"):
            slot_order = None
    if state.action is not None and state.action.asks_policy and state.action.order_number:
        # (the order the dialogue found the question about, "if it doesn't fit, can I send it back?": its facts
        # come beside the policy that answers)
        slot_order = state.action.order_number
    return shop_facts(
        ports.shop_for(tenant_id), tenant_id, state.turn.message, state.intent,
        customer=ctx.customer, slot_order=slot_order, slot_products=ctx.product_ids,
        verified_email=ctx.verified_email, currency=ctx.tenant.currency, shop_url=ctx.tenant.shop_url,
        claimed_email=ctx.claimed_customer.email if ctx.claimed_customer else None,
        catalog_staleness=ports.settings.INTENT_CACHE_TTL_SECONDS,
        previous_question=previous_question(ctx.history) if ctx.history else None,
    )


def needs_lookup(state: TurnState) -> bool:
    """Pure rule: a message the critic let through whose reply the order-action dialogue has not written."""
    screened = state.screen is not None and not state.screen.blocked
    return screened and not (state.action is not None and state.action.handled)


def needs_cited_products(state: TurnState) -> bool:
    """Pure rule: a product question whose product the catalogue lookup did not recognise by name ("¿tienen jabón
    de lavanda?", "the Darjeeling") but whose product page was retrieved."""
    return (state.intent is not None and state.intent.label == "product_info" and not state.facts.products
            and any(c.doc_id.startswith("product-") for c in state.citations[:2]))


#: How much closer a policy's or article's best unit must come to a question than the cited product page's best unit
#: for the page, not the product, to be what the question is about.
PAGE_OVER_PRODUCT_MARGIN = 0.05


def answered_elsewhere(ports: TurnPorts, tenant_id: str, question: str, citations: list[Citation]) -> set[str]:
    """The cited product pages (doc ids) whose best answering unit another cited page, a policy or an article, beats
    by ``PAGE_OVER_PRODUCT_MARGIN``: "how does the box of the month work?" retrieves a deck box's page by its words,
    but the subscription's page answers it."""
    pages = [c for c in citations if not c.doc_id.startswith("product-")]
    products = [c for c in citations[:2] if c.doc_id.startswith("product-")]
    if not pages or not products:
        return set()
    texts = cited_documents(ports.store, tenant_id, products + pages, limit=len(products) + len(pages))
    embedder = ports.knowledge.embedder
    query = embedder.embed_queries([question])[0]

    def best(citation: Citation) -> float:
        units, vectors = UNIT_VECTORS.get(embedder, texts.get(citation.doc_id) or citation.passage)
        return float((vectors @ query).max()) if units else 0.0

    page_best = max(best(c) for c in pages)
    return {c.doc_id for c in products if page_best > best(c) + PAGE_OVER_PRODUCT_MARGIN}


def lookup_cited_products(state: TurnState, ports: TurnPorts) -> ShopFacts:
    """The shop facts with the live stock and price of the products whose pages the turn cited (at most two), in
    citation order; a product whose page another cited page answers the question better is left out: the question
    does not name it, and is not about it."""
    tenant = state.context.tenant if state.context else None
    elsewhere = answered_elsewhere(ports, state.turn.tenant_id, state.turn.message, state.citations)
    handles = [c.doc_id.removeprefix("product-") for c in state.citations[:2]
               if c.doc_id.startswith("product-") and c.doc_id not in elsewhere]
    if not handles or tenant is None:
        return state.facts
    found = [p for p in ports.shop_for(state.turn.tenant_id).all_products(state.turn.tenant_id)
             if p.get("handle") in handles]
    found.sort(key=lambda p: handles.index(p["handle"]))
    return state.facts.model_copy(update={"products": [product_facts(p, tenant.currency, tenant.shop_url)
                                                       for p in found]})
