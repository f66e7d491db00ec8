"""A question in several parts gets each part answered: the unit that answers a part comes from the page that part
retrieves on its own when the page the whole message retrieved leaves it out."""

from __future__ import annotations

import functools

from core.agents import response
from core.models import Citation, Escalation, InputVerdict, IntentResult, ShopFacts
from core.rag.answer_units import rank_units
from tests.unit.test_answer_units import WordEmbedder

RATES = """# Shipping rates

| Destination | Rate | Free from |
|---|---|---|
| Quebec | $12.00 | $149 |
| Territories | $29.00 | Never free |
"""

TIMES = """# Delivery times

Orders to Quebec arrive in 6 to 12 business days once shipped.

We pack orders within 2 business days.
"""

GIFT_CARDS = """# Gift cards

Gift cards never expire.
"""

STORE = """# Visit our store

Gift cards can be used in our store on Main Street too.
"""

RATES_PAGE = Citation(doc_id="policy-rates", title="Shipping rates", score=0.7, passage=RATES, lang="en")
TIMES_PAGE = Citation(doc_id="policy-times", title="Delivery times", score=0.68, passage=TIMES, lang="en")
GIFT_PAGE = Citation(doc_id="policy-gift-cards", title="Gift cards", score=0.7, passage=GIFT_CARDS, lang="en")
STORE_PAGE = Citation(doc_id="article-store", title="Visit our store", score=0.69, passage=STORE, lang="en")


def _compose(message: str, citations: list[Citation], part_pages: dict[str, list[Citation]] | None = None) -> str:
    pages = {part: [(c, c.passage) for c in found] for part, found in (part_pages or {}).items()}
    draft = response.compose(message, verdict=InputVerdict(), intent=IntentResult(label="shipping", confidence=0.9,
                                                                                  language="en"),
                             citations=citations, facts=ShopFacts(), escalation=Escalation(), language="en",
                             documents={c.doc_id: c.passage for c in citations},
                             ranker=functools.partial(rank_units, WordEmbedder()), part_pages=pages)
    return draft.reply


def test_a_part_answered_on_another_page_gets_that_pages_unit_beside_the_first_answer():
    message = "How much is the rate to Quebec? And how many business days to arrive?"
    parts = response.question_parts(message)
    assert len(parts) == 2
    alone = _compose(message, [RATES_PAGE])
    assert "$12.00" in alone and "6 to 12" not in alone  # the whole message's page holds one answer only
    reply = _compose(message, [RATES_PAGE], {parts[0]: [RATES_PAGE], parts[1]: [TIMES_PAGE]})
    assert "$12.00" in reply and "6 to 12 business days" in reply
    assert reply.index("$12.00") < reply.index("6 to 12")  # the parts in the order they are asked


def test_each_part_is_answered_when_the_whole_message_retrieved_nothing():
    message = "Do gift cards expire? Can gift cards be used in your store?"
    parts = response.question_parts(message)
    reply = _compose(message, [], {parts[0]: [GIFT_PAGE], parts[1]: [STORE_PAGE]})
    assert "never expire" in reply and "Main Street" in reply
    assert "don't have reliable information" in _compose(message, [], {parts[0]: [], parts[1]: []})


def test_a_part_whose_answer_is_quoted_already_adds_nothing():
    message = "How much is the rate to Quebec? And is it free from some amount?"
    parts = response.question_parts(message)
    reply = _compose(message, [RATES_PAGE], {part: [RATES_PAGE] for part in parts})
    assert reply.count("$12.00") == 1


def test_a_page_translated_in_the_customers_language_is_the_one_a_part_quotes():
    english = Citation(doc_id="policy-times", title="Delivery times", score=0.7, passage=TIMES, lang="en")
    french = Citation(doc_id="policy-times.fr-CA", title="Délais", score=0.66, lang="fr-CA",
                      passage="# Délais\n\nLes commandes arrivent au Québec en 6 à 12 jours ouvrables.\n")
    kept = response._one_per_document([(english, english.passage), (french, french.passage)], "fr")
    assert [c.doc_id for c, _ in kept] == ["policy-times.fr-CA"]
    assert [c.doc_id for c, _ in response._one_per_document([(english, TIMES)], "fr")] == ["policy-times"]


def test_a_joining_comma_or_word_before_another_figure_question_opens_a_part():
    assert response.question_parts("how much is the 8oz then and how long does it last") == [
        "how much is the 8oz then", "how long does it last"]
    assert response.question_parts("¿Cuánto cuesta el grabado, cuánto tarda y si no le gusta lo puede devolver?") == [
        "¿Cuánto cuesta el grabado", "cuánto tarda y si no le gusta lo puede devolver?"]
    assert response.question_parts("Le fromage est bon, combien de temps se garde-t-il au frigo?") == [
        "Le fromage est bon", "combien de temps se garde-t-il au frigo?"]
    # a joining word before anything else, or a part of fewer than two words of its own, opens no part
    assert response.question_parts("do you sell bread and butter knives?") == []
    assert response.question_parts("My parcel came Monday and when I opened it the jar was broken") == []
    assert response.question_parts("how much and how long") == []


def test_a_price_and_a_delay_asked_in_one_sentence_are_each_answered():
    message = "How much is the rate to Quebec and how many business days to arrive?"
    parts = response.question_parts(message)
    assert len(parts) == 2
    reply = _compose(message, [RATES_PAGE], {parts[0]: [RATES_PAGE], parts[1]: [TIMES_PAGE]})
    assert "$12.00" in reply and "6 to 12 business days" in reply


def test_the_parts_are_searched_only_when_the_reply_reads_them():
    message = "Do gift cards expire? Can gift cards be used in your store?"
    parts = response.question_parts(message)
    searched: list[str] = []

    def pages() -> dict:
        searched.append(message)
        return {parts[0]: [(GIFT_PAGE, GIFT_PAGE.passage)], parts[1]: [(STORE_PAGE, STORE_PAGE.passage)]}

    def compose(escalation: Escalation) -> str:
        return response.compose(message, verdict=InputVerdict(), intent=IntentResult(label="general", confidence=0.9,
                                                                                     language="en"),
                                citations=[], facts=ShopFacts(), escalation=escalation, language="en",
                                ranker=functools.partial(rank_units, WordEmbedder()),
                                part_pages=response._OnFirstRead(pages)).reply

    # a complaint gets the hand-off message only: no part's pages are read, so none is searched
    handoff = compose(Escalation(escalated=True, reason="complaint", ticket_id="T-1"))
    assert searched == [] and "T-1" in handoff and "never expire" not in handoff
    reply = compose(Escalation())  # answered from the parts' pages: searched once, however often they are read
    assert searched == [message] and "never expire" in reply and "Main Street" in reply
