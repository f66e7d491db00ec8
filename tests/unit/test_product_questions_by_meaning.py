"""A question about a product is read by meaning: what the product is, how it is used or kept, its size or where it
comes from (its page answers) against its stock or price (its card answers), in any of the desk's languages and for
any kind of product."""

from __future__ import annotations

import pytest

from core.agents.product_questions import asks_about_product, asks_origin


@pytest.mark.parametrize("message", [
    "What is the wool blend made of?", "how much does the 12 inch pot weigh?",
    "Comment entretenir la planche de bois?", "¿Cuánto dura la vela grande?",
])
def test_a_question_about_the_product_itself(message):
    assert asks_about_product(message)


@pytest.mark.parametrize("message", [
    "Is the blue mug in stock?", "C'est combien le grand format?", "¿Tienen el rojo en talla M?", "",
])
def test_a_stock_or_price_question_is_not_about_the_product_itself(message):
    assert not asks_about_product(message)


def test_where_a_product_comes_from():
    assert asks_origin("Where is this tea grown?")
    assert asks_origin("¿de dónde es este queso?")
    assert not asks_origin("Is the blue mug in stock?")
