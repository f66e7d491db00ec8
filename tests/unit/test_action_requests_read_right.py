"""Order-action requests read as customers write them (each found by the state-checked actions eval): a new address
inside a longer message, "return everything", a house number that is no group order, and a question about the
return policy that asks nothing back."""

from __future__ import annotations

import pytest

from core.actions import words
from core.actions.dialogue import parse_address
from core.agents import escalation
from core.models import InputVerdict, IntentResult, OrderFacts

DEMO_LIMIT = 50.0


def test_the_address_in_a_message_naming_the_order_is_the_address_not_the_order_number():
    message = ("My email is valentina.ramirez@example.com. Please change the shipping address of order 1039 to "
               "45 Maple Avenue, Toronto, ON, M4B 1B3")
    assert parse_address(message) == {"address1": "45 Maple Avenue", "city": "Toronto", "province": "ON",
                                      "zip": "M4B 1B3"}


def test_an_address_given_alone_is_still_read_whole():
    assert parse_address("1200 Avenida Vallarta, Guadalajara, Jalisco, 44100") == {
        "address1": "1200 Avenida Vallarta", "city": "Guadalajara", "province": "Jalisco", "zip": "44100"}


@pytest.mark.parametrize("message", ["I want to return everything from order 1003",
                                     "Can I return all of order 1024 please?"])
def test_returning_everything_is_a_return_request(message):
    assert words.tool_asked(message) == "start_return" and words.is_request(message)


def test_a_house_number_is_no_group_order():
    intent = IntentResult(label="shipping", confidence=0.9, language="en")
    message = "Please change the shipping address of order 1039 to 45 Maple Avenue, Toronto, ON, M4B 1B3"
    assert escalation.decide(intent, InputVerdict(), unanswered_turns=0, message=message) is None
    # A group order still is one, wherever it goes.
    bulk = "We want 30 gift sets delivered to 12 Oak Street, Toronto"
    assert escalation.decide(intent, InputVerdict(), unanswered_turns=0, message=bulk) == "bulk_order"


def test_a_large_order_goes_to_a_person_only_when_the_message_asks_for_something_back():
    intent = IntentResult(label="returns_refunds", confidence=0.9, language="en")
    large = [OrderFacts(order_number="1038", status="unfulfilled", total="158.21")]

    def reason(message: str) -> str | None:
        return escalation.decide(intent, InputVerdict(), unanswered_turns=0, message=message, orders=large,
                                 refund_limit=DEMO_LIMIT)

    assert reason("Actually, what is your return policy?") is None
    assert reason("I want a refund for this order") == "refund_above_limit"
    assert reason("Je veux retourner cette commande") == "refund_above_limit"


@pytest.mark.parametrize(("message", "tool"), [
    ("Est-ce que vous livrez au Québec? Je retourne à Laval en avril pis j'aimerais commander", None),
    ("On retourne en Floride l'hiver, livrez-vous là-bas?", None),
    ("Je veux retourner mes souliers", "start_return"),
    ("J'aimerais retourner le ukulélé", "start_return"),
])
def test_going_back_somewhere_is_no_return(message, tool):
    assert words.tool_asked(message) == tool


@pytest.mark.parametrize("message", [
    "Si devuelvo unas madejas sin usar, ¿me pueden dar crédito en la tienda?",
    "If I return the scarf, can you refund the shipping?",
    "Si je retourne le ukulélé, pouvez-vous me rembourser?",
    # an order named leaves a question a question (answered from the shop's pages with the order's facts beside
    # them, not with a change to confirm)
    "Si cancelo el pedido 1038, ¿me devuelven todo?",
    "Hola, el anillo que pedí (pedido 1187) me quedó chico. ¿Lo puedo regresar? ¿Cuánto me devuelven?",
    "hey wheres my refund for 1188?? cancelled it like 2 weeks ago and still nothing",
])
def test_what_would_happen_if_is_a_question_not_a_request(message):
    assert words.tool_asked(message) is not None and not words.is_request(message)
