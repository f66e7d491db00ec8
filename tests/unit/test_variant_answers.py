"""Product replies for a question about one variant: that variant's stock, not the whole product's."""

from __future__ import annotations

import pytest

from core.agents.response import describe_product
from core.agents.variants import asked_variants
from core.models import IntentResult, ProductFacts


def _variants(*stock: tuple[str, bool]) -> list[dict]:
    return [{"title": name, "price": "89.00", "in_stock": ok, "quantity": 3 if ok else 0} for name, ok in stock]


HOODIE = ProductFacts(product_id="1", doc_id="product-ember-fleece-hoodie", title="Ember Fleece Hoodie",
                      price="89.00", currency="CAD", in_stock=True, quantity=9,
                      variants=_variants(("Spruce / M", True), ("Ember Orange / M", False), ("Ember Orange / L", True),
                                         ("Charcoal / L", True)))
JACKET = ProductFacts(product_id="2", doc_id="product-tamarack", title="Tamarack Rain Jacket", price="229.00",
                      currency="CAD", in_stock=True, quantity=4,
                      variants=_variants(("Glacier Blue / M", False), ("Glacier Blue / S", True), ("Black / M", True)))
GAME = ProductFacts(product_id="3", doc_id="product-mycelium", title="Mycelium", price="42.00", currency="USD",
                    in_stock=True, quantity=13, variants=_variants(("English", True), ("Français", True),
                                                                   ("Español", False)))


@pytest.mark.parametrize(("product", "message", "wanted"), [
    (HOODIE, "do u have the ember orange hoodie in a medium", ["Ember Orange / M"]),
    (HOODIE, "ok what about large then", ["Ember Orange / L", "Charcoal / L"]),
    (JACKET, "tienen la chaqueta tamarack de mujer en azul talla M???", ["Glacier Blue / M"]),
    (JACKET, "y en negro?", ["Black / M"]),
    (GAME, "Avez-vous Mycelium en español?", ["Español"]),
])
def test_the_variant_the_message_names_is_chosen(product, message, wanted):
    assert [v["title"] for v in asked_variants(product.title, product.variants, message)] == wanted


@pytest.mark.parametrize("message", [
    "do you have the Ember fleece hoodie?",  # the product's own name is no colour
    "I'm after a warm hoodie",  # the "m" of "I'm" is no size
])
def test_a_message_naming_no_variant_chooses_none(message):
    assert asked_variants(HOODIE.title, HOODIE.variants, message) == []


def test_a_sold_out_variant_is_not_answered_with_the_products_stock():
    reply = describe_product(HOODIE, "en", [], message="do u have the ember orange hoodie in a medium")
    assert reply.startswith("Ember Fleece Hoodie in Ember Orange / M is currently sold out.")
    assert "Yes," not in reply.split(" Options:")[0]


def test_the_asked_variant_in_stock_is_confirmed_in_the_customers_language():
    reply = describe_product(JACKET, "es", [], message="y en negro?")
    assert reply.startswith("Sí, Tamarack Rain Jacket en «Black / M» (negro) está disponible")  # the colour glossed
    sold_out = describe_product(GAME, "fr", [], message="Avez-vous Mycelium en español?")
    assert sold_out.startswith("Mycelium en « Español » est présentement en rupture de stock.")


def test_without_a_variant_named_the_whole_product_is_described():
    assert describe_product(HOODIE, "en", [], message="is the hoodie in stock?").startswith(
        "Yes, Ember Fleece Hoodie is in stock (9 available)")


def test_a_follow_up_naming_a_variant_is_about_the_previous_product():
    from core.agents.knowledge import shop_facts

    class Shop:
        def match_products(self, tenant_id, message, limit=3, *, max_staleness=0.0):
            return []

        def all_products(self, tenant_id):
            return [{"id": 1, "handle": "ember-fleece-hoodie", "title": "Ember Fleece Hoodie", "variants": [
                {"title": "Ember Orange / M", "price": "89.00", "inventory_management": "shopify",
                 "inventory_quantity": 0, "inventory_policy": "deny"},
                {"title": "Ember Orange / L", "price": "89.00", "inventory_management": "shopify",
                 "inventory_quantity": 4, "inventory_policy": "deny"}]}]

    def facts(message: str, label: str):
        intent = IntentResult(label=label, confidence=0.6, language="en")
        return shop_facts(Shop(), "t", message, intent, customer=None, slot_order=None,
                          slot_products=["product-ember-fleece-hoodie"], verified_email=None, currency="CAD",
                          shop_url=None)

    assert [p.title for p in facts("ok what about large then", "general").products] == ["Ember Fleece Hoodie"]
    assert facts("what are your opening hours?", "general").products == []
    reply = describe_product(facts("ok what about large then", "general").products[0], "en", [],
                             message="ok what about large then")
    assert reply.startswith("Yes, Ember Fleece Hoodie in Ember Orange / L is in stock (4 available, 89.00 CAD).")


def _variant(title: str, quantity: int) -> dict:
    return {"title": title, "price": "10.50", "inventory_management": "shopify", "inventory_quantity": quantity,
            "inventory_policy": "deny"}


STRINGS = {"id": 11, "handle": "nylgut-strings", "title": "Aquila Nylgut Ukulele Strings",
           "variants": [_variant("Soprano", 5), _variant("Tenor", 5), _variant("Tenor Low-G", 0)]}
UKULELE = {"id": 12, "handle": "tenor-ukulele-acacia", "title": "Cheville Tenor Ukulele – Solid Acacia",
           "variants": [_variant("Right-handed", 4), _variant("Left-handed", 0)]}
STRAP = {"id": 13, "handle": "leather-strap", "title": "Cheville Leather Strap",
         "variants": [_variant("Oxblood / No engraving", 0), _variant("Cognac / No engraving", 3)]}


class Catalogue:
    """Matches a product when the text holds one of its title's words of five letters or more."""

    def __init__(self, *products: dict):
        self.products = list(products)

    def match_products(self, tenant_id, message, limit=3, *, max_staleness=0.0):
        words = set(message.lower().replace("?", " ").split())
        return [(p, 1.0) for p in self.products
                if words & {w for w in p["title"].lower().split() if len(w) >= 5}][:limit]

    def all_products(self, tenant_id):
        return self.products

    def get_product(self, tenant_id, product_id):
        return None


def _facts(message: str, *, slot: list[str], previous: str | None = None):
    from core.agents.knowledge import shop_facts

    intent = IntentResult(label="product_info", confidence=0.8, language="es")
    return shop_facts(Catalogue(STRINGS, UKULELE, STRAP), "t", message, intent, customer=None, slot_order=None,
                      slot_products=slot, verified_email=None, currency="CAD", shop_url=None,
                      previous_question=previous)


def test_a_variant_of_the_previous_product_named_by_another_products_title_word_keeps_the_previous_product():
    slot = ["product-tenor-ukulele-acacia", "product-nylgut-strings"]
    assert [p.title for p in _facts("y las normales de tenor cuánto cuestan?", slot=slot).products] == [
        "Aquila Nylgut Ukulele Strings"]
    # naming the other product by more than the variant's word is asking about it
    assert [p.title for p in _facts("and the tenor ukulele, how much?", slot=slot).products] == [
        "Cheville Tenor Ukulele – Solid Acacia"]


def test_a_variant_follow_up_after_a_turn_that_recorded_no_product_is_about_the_previous_questions_product():
    asked = "i want to return the leather strap from my last order"
    facts = _facts("would you have the same one in cognac? for my sister", slot=[], previous=asked)
    assert [p.title for p in facts.products] == ["Cheville Leather Strap"]
    # a message naming none of its variants is not about it
    assert _facts("how long do refunds take?", slot=[], previous=asked).products == []
