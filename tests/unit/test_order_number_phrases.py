"""An order number given as the subject's complement ("my order is 3311") is read; an amount is not."""

import pytest

from core.agents.intent import extract_entities


@pytest.mark.parametrize("text", ["mi pedido es el 3311", "ma commande est le 3311", "my order is #3311",
                                  "ok, mi pedido es el 3311."])
def test_an_order_number_given_after_is_is_read(text):
    assert extract_entities(text).order_numbers == ["3311"]


@pytest.mark.parametrize("text", ["my order is 150 dollars", "la commande est 200 $ trop chère",
                                  "mi pedido es 1500 pesos", "my order is 3 days late"])
def test_an_amount_or_a_delay_after_is_is_no_order_number(text):
    assert extract_entities(text).order_numbers == []
