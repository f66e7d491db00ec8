"""Products, variants and stock asked without an order: the catalogue recognises the product however its long title
is written, the variant asked is the one described (sizes with decimals, colours named in another language), a
stock question is routed to the product, a restock question gets what the shop says of sold-out items, and a
follow-up without a variant keeps the variant asked before."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import pytest

from core.agents import intent, response
from core.agents.variants import asked_variants
from core.integrations.imported_shop import catalog_idf, rank_products
from core.models import Citation, Escalation, InputVerdict, IntentResult, ProductFacts, ShopFacts
from core.rag.answer_units import rank_units
from tests.unit.test_answer_units import WordEmbedder


def _product(pid: int, title: str, *variants: str) -> dict:
    return {"id": pid, "handle": f"p{pid}", "title": title,
            "variants": [{"title": v, "price": "10.00", "sku": f"S{pid}-{i}"} for i, v in enumerate(variants)]}


CATALOGUE = [
    _product(1, "Petit Volt PowerPuck 10,000 mAh Power Bank", "Black", "Mint"),
    _product(2, "Petit Volt PowerBrick 20,000 mAh Power Bank (65W)", "Black"),
    _product(3, "Petit Volt 20W USB-C Wall Charger", "White", "Black"),
    _product(4, "Petit Volt 65W GaN 3-Port Charger", "White", "Grey"),
    _product(5, "Petit Volt Digital Gift Card", "$25", "$50"),
    _product(6, "Wool Felt Cat Cave", "Grey", "Mustard"),
    _product(7, "Grain-Free Cat Food — Duck & Pumpkin", "1.8 kg", "5 kg"),
    _product(8, "Ceramic Water Fountain", "White", "Sage"),
    _product(10, "Tofu Clumping Cat Litter 7 L", "Unscented", "Green Tea"),
    _product(11, "Clay Clumping Cat Litter 14 kg", "Default Title"),
    _product(12, "Replacement Filters (3-pack)", "Default Title"),
]


def _matched(text: str) -> list[str]:
    return [p["title"] for p, _ in rank_products(CATALOGUE, catalog_idf(CATALOGUE), text)]


def test_a_stock_question_names_a_long_title_by_the_word_only_it_holds():
    assert _matched("do you have the powerpuck in mint?") == ["Petit Volt PowerPuck 10,000 mAh Power Bank"]


@pytest.mark.parametrize("text", [
    "is the powerpuck allowed on a plane?",  # no stock question: the word alone is not enough
    "do you take digital wallets?",  # a common word of one title names no product
])
def test_a_word_only_one_title_holds_names_it_only_in_a_stock_question_and_when_uncommon(text):
    assert _matched(text) == []


def test_a_variant_named_completes_a_partial_match_of_the_title():
    # "cueva" is no cognate of "cave": the felt, the cat and the mustard colour name it
    assert _matched("Tienen la cueva de fieltro para gatos en color mostaza?") == ["Wool Felt Cat Cave"]
    assert _matched("Tienen algo de fieltro para gatos?") == []


NEEDLES = [{"title": t} for t in ("2,5 mm", "3,0 mm", "3,5 mm", "4,0 mm", "4,5 mm")]


@pytest.mark.parametrize(("message", "wanted"), [
    ("tienen la aguja circular fija de 3.5 mm de 80cm?", ["3,5 mm"]),
    ("y la de 4mm?", ["4,0 mm"]),
    ("et en 4,5?", ["4,5 mm"]),
])
def test_a_decimal_size_is_one_figure(message, wanted):
    assert [v["title"] for v in asked_variants("Aiguille circulaire fixe 80 cm", NEEDLES, message)] == wanted


def test_an_option_named_in_spanish_is_asked_for_by_its_english_name():
    mugs = [{"title": t} for t in ("Azul cobalto", "Amarillo", "Verde")]
    assert [v["title"] for v in asked_variants("Taza Flor de Puebla", mugs, "Is the yellow mug available?")] == [
        "Amarillo"]


class _Shop:
    def __init__(self, products):
        self.products = products

    def match_products(self, tenant_id, message, max_staleness=0.0):
        return [(p, 1.0) for p in self.products]


def _classify(message: str, products: list[dict], order_number: str | None = None) -> IntentResult:
    state = SimpleNamespace(
        turn=SimpleNamespace(message=message, tenant_id="t", conversation_id="c"),
        context=SimpleNamespace(history=[], order_number=order_number, product_ids=[]),
        screen=InputVerdict(language="en"))
    ports = SimpleNamespace(llm=None, shop_for=lambda tenant_id: _Shop(products),
                            settings=SimpleNamespace(INTENT_CACHE_TTL_SECONDS=0.0))
    return intent.classify_intent(state, ports)


def test_a_catalogue_products_stock_asked_with_no_order_is_a_product_question(monkeypatch):
    monkeypatch.setattr(intent, "understand", lambda text, lang, **kw: IntentResult(
        label="order_status", confidence=0.6, language="en"))
    mug = [_product(9, "Taza Flor de Puebla", "Azul cobalto", "Amarillo")]
    assert _classify("Is the yellow Flor de Puebla mug available? want to order 2", mug).label == "product_info"
    # an order to speak of, or no stock asked, or no product named: the order stays the topic
    assert _classify("Is the yellow Flor de Puebla mug available? want to order 2", mug, "4310").label == \
        "order_status"
    assert _classify("where is my Flor de Puebla mug order?", mug).label == "order_status"
    assert _classify("is it available to ship?", []).label == "order_status"


FAQ = """# Frequently asked questions

**A size I want is sold out. Will you restock it?**
Some sizes come back, some don't. Click Notify me on the product page and we'll email you if it's back.

**Do you ship to the United States?**
Yes, in 5 to 10 business days.
"""

HOLIDAYS = """# Shipping

Order by December 10 for delivery before Christmas. We are closed from December 24 to January 4.
"""

SNOWSUIT = ProductFacts(product_id="1", doc_id="product-igloo-snowsuit", title="Igloo Snowsuit", price="189.00",
                        currency="CAD", in_stock=True, quantity=5,
                        variants=[{"title": "Navy / 2T", "price": "189.00", "in_stock": False, "quantity": 0},
                                  {"title": "Navy / 3T", "price": "189.00", "in_stock": True, "quantity": 5}])
PAGES = [Citation(doc_id="article-faq", title="Frequently asked questions", score=0.7, passage=FAQ),
         Citation(doc_id="policy-shipping", title="Shipping", score=0.69, passage=HOLIDAYS)]


def _reply(message: str, pages: list[Citation] = PAGES, variants_in: str | None = None) -> str:
    draft = response.compose(
        message, verdict=InputVerdict(), intent=IntentResult(label="product_info", confidence=0.9, language="en"),
        citations=[], facts=ShopFacts(products=[SNOWSUIT]), escalation=Escalation(), language="en",
        documents={c.doc_id: c.passage for c in pages}, ranker=functools.partial(rank_units, WordEmbedder()),
        restock_pages=pages, variants_in=variants_in)
    return draft.reply


def test_a_restock_question_about_a_sold_out_variant_gets_what_the_shop_says_of_sold_out_items():
    reply = _reply("any idea when navy 2T comes back?")
    assert reply.startswith("Igloo Snowsuit in Navy / 2T is currently sold out.")
    assert "Notify me" in reply and "December" not in reply


def test_no_restock_answer_for_a_variant_in_stock_or_from_a_page_that_does_not_speak_of_restocking():
    assert "Notify me" not in _reply("any idea when navy 3T comes back?")
    assert "December" not in _reply("any idea when navy 2T comes back?", pages=PAGES[1:])


def test_a_follow_up_naming_no_variant_is_answered_for_the_variant_asked_before():
    reply = _reply("will it be back before christmas?",
                   variants_in="is the igloo snowsuit in navy 2T?\nwill it be back before christmas?")
    assert reply.startswith("Igloo Snowsuit in Navy / 2T is currently sold out.")
    assert "Yes," not in reply


def test_a_place_is_no_product_name_even_when_one_title_holds_it():
    puzzles = [_product(20, "Montréal Under Snow — Jigsaw Puzzle", "500 pieces"),
               _product(21, "Cenote Azul — Jigsaw Puzzle", "1000 pieces"),
               _product(22, "Puzzle Roll-Up Mat", "Default Title")]
    assert rank_products(puzzles, catalog_idf(puzzles), "Combien ça coûte la livraison pour Montréal?") == []
    assert [p["title"] for p, _ in rank_products(puzzles, catalog_idf(puzzles), "combien coûte le cenote?")] == [
        "Cenote Azul — Jigsaw Puzzle"]


def test_an_asked_variant_in_stock_is_confirmed_and_a_sold_out_one_is_followed_by_the_options_left():
    reply = response.describe_product(SNOWSUIT, "en", [], message="is the navy 3T in stock?")
    assert reply.startswith("Yes, Igloo Snowsuit in Navy / 3T is in stock")
    sold_out = response.describe_product(SNOWSUIT, "en", [], message="is the navy 2T in stock?")
    assert sold_out.startswith("Igloo Snowsuit in Navy / 2T is currently sold out.")
    assert "Navy / 3T 189.00 (in stock)" in sold_out


MOLCAJETES = [{"title": t} for t in ("Small 6-inch", "Medium 8-inch", "Large 10-inch")]
POTS = [{"title": t} for t in ('4" pot', '6" pot', '10" pot')]


@pytest.mark.parametrize(("variants", "message", "wanted"), [
    (MOLCAJETES, "what size molcajete do i need for guac for like 6 ppl?", []),  # 6 people is no 6-inch
    (MOLCAJETES, "do you have the 8 inch one?", ["Medium 8-inch"]),  # more of its words than "inch" alone
    (POTS, "when is the 10 inch coming back in stock?", ['10" pot']),  # the inch mark is the unit
    ([{"title": "0-3 M"}, {"title": "3-6 M"}], "en 0-3 mois?", ["0-3 M"]),
])
def test_a_figure_counts_with_the_unit_written_after_it(variants, message, wanted):
    assert [v["title"] for v in asked_variants("Product", variants, message)] == wanted
