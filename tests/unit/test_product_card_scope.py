"""When a product's card (stock, price, options) answers a question, and when the product's page or a policy does:
the variant asked in stock without the other options, an honest "no date" for a restock question, a bare price
follow-up kept on the product before, a product's name kept out of the search for the policy asked around it, and a
cited product page the question is not about left out."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import pytest

from core.agents import knowledge, response
from core.agents.variants import asks_only_stock
from core.models import Citation, Escalation, InputVerdict, IntentResult, ProductFacts, ShopFacts
from core.rag.answer_units import rank_units
from tests.unit.test_answer_units import WordEmbedder

NEEDLE = ProductFacts(product_id="1", doc_id="product-circular-needle", title="Circular Needle 80 cm", price="14.50",
                      currency="CAD", in_stock=True, quantity=9,
                      variants=[{"title": t, "price": "14.50", "in_stock": t != "3,5 mm", "quantity": 3}
                                for t in ("3,0 mm", "3,5 mm", "4,0 mm")])


def test_the_asked_variant_in_stock_is_the_answer_without_the_other_options():
    reply = response.describe_product(NEEDLE, "es", [], message="y la de 4mm?")
    assert reply.startswith("Sí, Circular Needle 80 cm en 4,0 mm está disponible (3 en existencia, 14.50 CAD).")
    assert "agotad" not in reply and "Opciones" not in reply


def test_a_sold_out_variant_asked_is_still_followed_by_the_options():
    reply = response.describe_product(NEEDLE, "en", [], message="do you have the 3.5 mm?")
    assert reply.startswith("Circular Needle 80 cm in 3,5 mm is currently sold out.")
    assert "4,0 mm 14.50 (in stock)" in reply


MUG = ProductFacts(product_id="2", doc_id="product-flower-mug", title="Flower Mug", price="20.00", currency="USD",
                   in_stock=True, quantity=4,
                   variants=[{"title": "Yellow", "price": "20.00", "in_stock": False, "quantity": 0},
                             {"title": "Blue", "price": "20.00", "in_stock": True, "quantity": 4}])


def _reply(message: str, product: ProductFacts, citations: list[Citation], variants_in: str) -> str:
    return response.compose(
        message, verdict=InputVerdict(), intent=IntentResult(label="product_info", confidence=0.9, language="en"),
        citations=citations, facts=ShopFacts(products=[product]), escalation=Escalation(), language="en",
        documents={}, ranker=functools.partial(rank_units, WordEmbedder()), variants_in=variants_in).reply


def test_a_restock_question_with_no_date_on_the_page_gets_an_honest_dont_know():
    reply = _reply("will it be back before christmas?", MUG, [],
                   variants_in="is the yellow flower mug available?\nwill it be back before christmas?")
    assert reply.startswith("Flower Mug in Yellow is currently sold out.")
    assert "I don't know when it will be back in stock" in reply


def test_a_restock_date_on_the_page_is_given_instead():
    sold_out = MUG.model_copy(update={"in_stock": False, "quantity": 0, "variants": []})
    page = Citation(doc_id=MUG.doc_id, title=MUG.title, score=0.8,
                    passage="A hand-painted mug. Back in stock on March 3.")
    reply = _reply("when will the flower mug be back?", sold_out, [page], variants_in="")
    assert "Back in stock on March 3." in reply
    assert "don't know" not in reply


@pytest.mark.parametrize(("message", "only"), [
    ("cuanto cuesta", True),
    ("how much is it?", True),
    ("¿lo tienen?", True),
    ("y cuánto cuesta el envío?", False),  # the shipping's price, not the product's
    ("hay envío gratis?", False),
    ("can I send it back?", False),
])
def test_a_bare_stock_or_price_question_asks_nothing_else(message, only):
    assert asks_only_stock(message) is only


def _facts(message: str, label: str) -> ShopFacts:
    class Shop:
        def match_products(self, tenant_id, text, limit=3, *, max_staleness=0.0):
            return []

        def all_products(self, tenant_id):
            return [{"id": 1, "handle": "circular-needle", "title": "Circular Needle 80 cm", "variants": [
                {"title": "4,0 mm", "price": "14.50", "inventory_management": "shopify", "inventory_quantity": 3,
                 "inventory_policy": "deny"},
                {"title": "3,5 mm", "price": "14.50", "inventory_management": "shopify", "inventory_quantity": 0,
                 "inventory_policy": "deny"}]}]

    return knowledge.shop_facts(Shop(), "t", message, IntentResult(label=label, confidence=0.6, language="es"),
                                customer=None, slot_order=None, slot_products=["product-circular-needle"],
                                verified_email=None, currency="CAD", shop_url=None)


def test_a_bare_price_follow_up_keeps_the_product_asked_before_whatever_its_topic_reads_as():
    assert [p.title for p in _facts("cuanto cuesta", "shipping").products] == ["Circular Needle 80 cm"]
    assert _facts("y cuánto cuesta el envío?", "shipping").products == []


def test_a_products_name_is_left_out_of_the_question_around_it():
    book = ProductFacts(product_id="3", doc_id="product-lighthouse", title="The Lighthouse Keeper's Ledger",
                        price="24.99", currency="CAD", in_stock=True)
    message = "Do you ship to the UK? She'd love the Lighthouse Keeper book"
    stripped = response.without_product_names(message, [book])
    assert "lighthouse" not in stripped.lower() and "keeper" not in stripped.lower()
    assert "ship" in stripped and "book" in stripped
    assert response.without_product_names("how much is shipping?", [book]) == "how much is shipping?"


BOX_PAGE = "Holds 100 sleeved cards, magnetic lid, dragon scale finish."
CLUB_PAGE = ("How the game of the month box works: every month we pick a game and ship the box. "
             "Monthly plan: 44 dollars a month.")


def _elsewhere(question: str, monkeypatch) -> set[str]:
    citations = [Citation(doc_id="product-deck-box", title="Deck Box", score=0.77, passage=BOX_PAGE),
                 Citation(doc_id="article-game-of-the-month", title="Game of the month", score=0.72,
                          passage=CLUB_PAGE)]
    monkeypatch.setattr(knowledge, "cited_documents",
                        lambda store, tenant_id, cited, limit=1: {c.doc_id: c.passage for c in cited})
    ports = SimpleNamespace(store=None, knowledge=SimpleNamespace(embedder=WordEmbedder()))
    return knowledge.answered_elsewhere(ports, "t", question, citations)


def test_a_cited_product_page_another_page_answers_better_is_left_out(monkeypatch):
    assert _elsewhere("how does the game of the month box work?", monkeypatch) == {"product-deck-box"}
    assert _elsewhere("it holds 100 sleeved cards, with a magnetic lid?", monkeypatch) == set()


HELMET = ProductFacts(product_id="4", doc_id="product-ridgeline-helmet", title="Ridgeline Helmet", price="129.00",
                      currency="USD", in_stock=True, quantity=14,
                      variants=[{"title": t, "price": "129.00", "in_stock": True, "quantity": 5} for t in "SML"])
HELMET_PAGE = "A light trail helmet with a visor.\n\nSizes: S 51-55 cm, M 55-59 cm, L 59-63 cm head circumference."


def _helmet_reply(message: str) -> str:
    page = Citation(doc_id=HELMET.doc_id, title=HELMET.title, score=0.0, passage=HELMET_PAGE)
    return response.compose(
        message, verdict=InputVerdict(), intent=IntentResult(label="product_info", confidence=0.9, language="fr"),
        citations=[page], facts=ShopFacts(products=[HELMET]), escalation=Escalation(), language="fr",
        documents={page.doc_id: HELMET_PAGE}, ranker=functools.partial(rank_units, WordEmbedder())).reply


def test_a_question_about_the_product_itself_is_answered_from_its_page_when_only_meaning_meets_it():
    # (the stand-in encoder meets "cm" alone; the page's words, read as the sentence scorer reads them, meet none)
    reply = _helmet_reply("J'ai un tour de tête de 58 cm, je prends quelle grandeur pour le casque Ridgeline?")
    assert reply.startswith("Voici ce qu'indique la fiche de Ridgeline Helmet")
    assert "55-59 cm" in reply
    assert "Ridgeline Helmet est en stock" in reply  # the card after, as a plain statement


def test_a_stock_question_about_the_same_product_gets_its_card():
    assert _helmet_reply("Le casque Ridgeline est-il disponible?").startswith("Oui, Ridgeline Helmet est en stock")
